"""A property test over random interleavings of a checkout's Stripe events: the payment,
refunds that succeed, fail or are canceled (itemised or not), each event possibly delivered
twice, in any order. Every order must end where Stripe's own order ends, and at every
point stock is conserved and no line gets back more than it sold."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cms_client.lake import Lake
from service.engine.inventory import Inventory
from service.entrypoints.cli.demo import seed_catalogue
from service.entrypoints.http.app import create_app
from tests.entrypoints.http.conftest import app_client, make_settings
from tests.entrypoints.http.fakes import SwitchableStore
from tests.integrations.conftest import RAILCAM, WEBHOOK_KEYS, Shop, no_wait
from tests.support.clock import ManualClock
from tests.support.stripe import reference
from tests.support.stripe.fake import FakeStripe

UNITS = 3
STOCK = 5

#: One refund: (itemised units or None, the statuses it goes through after `pending`).
LIFECYCLES = [
    ("succeeded",),
    ("failed",),
    ("succeeded", "failed"),  # card refunds can fail after they succeeded
    ("requires_action", "canceled"),
    (),  # still pending
]
refund_plans = st.lists(
    st.tuples(st.one_of(st.none(), st.integers(1, UNITS)), st.sampled_from(LIFECYCLES)),
    min_size=1,
    max_size=2,
)


def money_back(plan: list[tuple[int | None, tuple[str, ...]]]) -> int:
    """Units that must end restored: stock follows the money. Itemised refunds still going
    back restore their units; a fully refunded charge none of whose refunds failed or was
    canceled restores everything; a line-less partial refund is left to staff."""
    amounts, going, ended, itemised = 0, [], False, 0
    for units, statuses in plan:
        if amounts >= UNITS * 1000:
            break
        amounts += min(UNITS * 1000 - amounts, (units or UNITS) * 1000)
        final = statuses[-1] if statuses else "pending"
        ended = ended or final in ("failed", "canceled")
        if final not in ("failed", "canceled") and units:
            itemised += units
        going.append(final)
    if amounts >= UNITS * 1000 and not ended:
        return UNITS
    return min(itemised, UNITS)


def stripe_events(plan: list[tuple[int | None, tuple[str, ...]]]) -> tuple[str, list[Any]]:
    """The checkout's events in Stripe's order, refunds created one after the other."""
    fake = FakeStripe()
    session = fake.create_session(amount=UNITS * 1000)["id"]
    fake.pay(session)
    refunds = []
    for units, _ in plan:
        left = fake.charges[fake.intents[fake.sessions[session]["payment_intent"]]["latest_charge"]]
        remaining = left["amount"] - left["amount_refunded"]
        if remaining <= 0:
            break
        amount = min(remaining, (units or UNITS) * 1000)
        lines = [{"productId": "railcam", "quantity": units}] if units else None
        refund, _ = fake.refund(session, amount=amount, status="pending", lines=lines)
        refunds.append(refund["id"])
    for refund_id, (_, statuses) in zip(refunds, plan, strict=False):
        for status in statuses:
            fake.update_refund(refund_id, status)
    return session, fake.drain()


@asynccontextmanager
async def world() -> AsyncIterator[Shop]:
    clock = ManualClock()
    lake = Lake(None, clock=clock)
    store = SwitchableStore(lake)
    await seed_catalogue(store, Inventory(store, clock=clock))
    app = create_app(make_settings(**WEBHOOK_KEYS), store=store, clock=clock)
    try:
        async with app_client(app) as client:
            app.state.services.inventory.executor.sleep = no_wait
            yield Shop(client=client, app=app, store=store, clock=clock)
    finally:
        await lake.aclose()


async def state_after(session: str, deliveries: list[Any]) -> tuple[Any, ...]:
    async with world() as shop:
        await shop.reserve(session, {"productId": "railcam", "quantity": UNITS})
        start_stock, _ = await shop.counters()
        for evt in deliveries:
            response = await shop.deliver(evt)
            assert response.status_code == 200, response.text
            await check_invariants(shop, session, start_stock)
        stock, reserved = await shop.counters()
        reservation = await shop.inventory.reservation(session)
        assert reservation is not None
        (item,) = reservation.items
        ledger = sum(
            e["quantityChange"]
            for e in await shop.ledger(RAILCAM)
            if e["type"] in ("sale", "refund")
        )
        return stock, reserved, reservation.status, item.restored_quantity, ledger


async def check_invariants(shop: Shop, session: str, start_stock: int) -> None:
    stock, reserved = await shop.counters()
    reservation = await shop.inventory.reservation(session)
    assert reservation is not None
    (item,) = reservation.items
    sold, restored = item.committed_quantity, item.restored_quantity
    held = item.held if reservation.status == "active" else 0
    assert 0 <= restored <= sold
    assert stock + sold - restored == start_stock
    assert (stock - reserved) + reserved + sold - restored == start_stock
    assert reserved == held


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(plan=refund_plans, data=st.data())
def test_any_interleaving_with_duplicates_converges_and_conserves_stock(
    plan: list[tuple[int | None, tuple[str, ...]]], data: st.DataObject
) -> None:
    reference.fixture("event")  # skips without Stripe's fixtures
    session, sent = stripe_events(plan)
    shuffled = data.draw(st.permutations(sent), label="order")
    repeats = data.draw(st.lists(st.sampled_from(sent), max_size=4), label="duplicates")
    positions = data.draw(
        st.lists(st.integers(0, len(shuffled)), min_size=len(repeats), max_size=len(repeats)),
        label="where",
    )
    deliveries = list(shuffled)
    for evt, at in zip(repeats, positions, strict=True):
        deliveries.insert(at, evt)

    expected = asyncio.run(state_after(session, sent))
    got = asyncio.run(state_after(session, deliveries))

    assert got == expected, [e["type"] for e in deliveries]
    stock, reserved, _, restored, _ = got
    assert reserved == 0 and stock == STOCK - UNITS + restored
    assert restored == money_back(plan), plan
