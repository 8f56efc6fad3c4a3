"""Every order of {completed, expired, payment_intent.succeeded, charge.refunded} for one
session converges to the same final state: sold once, refunded once.

One checkout of 2 railcams (stock 5) paid with pi_1 and then fully refunded. Whatever the
order, the end is stock 5, reserved 0, reservation `refunded`, no held refund left, and a
ledger of reservation (+2 held), sale (-2 stock) and refund (+2 stock), with a release
(-2 held) before the sale when the expiry came before the payment (a late commit).

Two set-ups: without `STRIPE_SECRET_KEY` a `payment_intent.succeeded` that arrives before
the checkout event cannot tell which session it pays and leaves the commit to
`checkout.session.completed`; with the key it asks Stripe (respx) and commits itself.
`expected()` is the table the README's Webhooks section prints.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import respx

from tests.integrations.conftest import Shop
from tests.integrations.stripe import stripe_fixtures as sf
from tests.integrations.stripe.stripe_api import FakeStripeApi, paid_session

S = "cs_test_order"
EVENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "completed": ("checkout.session.completed", sf.checkout_session(S)),
    "expired": (
        "checkout.session.expired",
        sf.checkout_session(S, status="expired", payment_status="unpaid"),
    ),
    "pi_succeeded": ("payment_intent.succeeded", sf.payment_intent("pi_1")),
    "refunded": ("charge.refunded", sf.charge("ch_1")),
}
ORDERS = list(itertools.permutations(EVENTS))


@dataclass(frozen=True)
class Expected:
    actions: tuple[str, ...]
    ledger: tuple[str, ...]


def expected(order: tuple[str, ...], *, lookup: bool) -> Expected:
    """Each delivery's `action`, and the ledger types, for one order of the four events."""
    state = "active"  # of the reservation
    paid_ref_known = False  # the reservation says it was paid with pi_1
    held = False
    ledger = ["reservation"]
    actions: list[str] = []

    def commit() -> str:
        nonlocal state, paid_ref_known, held
        if state in ("committed", "refunded"):
            return "already_committed"
        action = "committed_late" if state == "released" else "committed"
        state, paid_ref_known = "committed", True
        ledger.append("sale")
        if held:
            state, held = "refunded", False
            ledger.append("refund")
        return action

    for name in order:
        if name == "completed":
            actions.append(commit())
        elif name == "pi_succeeded":
            actions.append(commit() if lookup or paid_ref_known else "left_to_checkout_event")
        elif name == "expired":
            if state == "active":
                state = "released"
                ledger.append("release")
                actions.append("released")
            else:
                actions.append("nothing_to_release")
        else:  # refunded
            if state == "committed":
                state = "refunded"
                ledger.append("refund")
                actions.append("restored")
            else:
                held = True
                actions.append("refund_held")
    assert state == "refunded" and not held
    return Expected(tuple(actions), tuple(ledger))


def table() -> list[tuple[str, str, str]]:
    """(order, final ledger, what happened), as printed in the README."""
    rows = []
    for order in ORDERS:
        plain, keyed = expected(order, lookup=False), expected(order, lookup=True)
        notes = []
        if "release" in plain.ledger:
            notes.append("late commit")
        if "refund_held" in plain.actions:
            notes.append("refund held, applied at commit")
        if plain != keyed:
            notes.append("with STRIPE_SECRET_KEY the intent commits first")
        rows.append((" → ".join(order), ", ".join(plain.ledger), "; ".join(notes) or "in order"))
    return rows


@pytest.fixture
def stripe_api() -> Iterator[FakeStripeApi]:
    with respx.mock(assert_all_called=False) as router:
        api = FakeStripeApi(router)
        api.add(paid_session(S, "pi_1"))
        yield api


@pytest.mark.parametrize("lookup", [False, True], ids=["no-stripe-key", "stripe-lookup"])
@pytest.mark.parametrize("order", ORDERS, ids=["-".join(o) for o in ORDERS])
async def test_every_order_converges(
    open_shop: Callable[..., Any],
    stripe_api: FakeStripeApi,
    order: tuple[str, ...],
    lookup: bool,
):
    want = expected(order, lookup=lookup)
    settings = {"stripe_secret_key": sf.STRIPE_KEY} if lookup else {}
    async with open_shop(**settings) as shop:
        await shop.reserve(S, {"productId": "railcam", "quantity": 2})

        actions = []
        for index, name in enumerate(order):
            event_type, obj = EVENTS[name]
            response = await shop.stripe(f"evt_{index}_{name}", event_type, obj)
            assert response.status_code == 200, response.text
            actions.append(response.json()["action"])

        assert tuple(actions) == want.actions
        await assert_converged(shop, want)
        # Stripe redelivers everything (retries, resends): nothing changes.
        for index, name in enumerate(order):
            event_type, obj = EVENTS[name]
            await shop.stripe(f"evt_{index}_{name}", event_type, obj)
        await assert_converged(shop, want)


async def assert_converged(shop: Shop, want: Expected) -> None:
    assert await shop.counters() == (5, 0)
    assert await shop.status(S) == "refunded"
    entries = await shop.ledger()
    assert tuple(e["type"] for e in entries) == want.ledger
    assert sum(e["newStockQuantity"] - e["previousStockQuantity"] for e in entries) == 0
    assert sum(e["newReservedQuantity"] - e["previousReservedQuantity"] for e in entries) == 0
    assert all(log["resolved"] for log in await shop.error_logs())


def test_the_table_covers_all_24_orders_and_both_outcomes():
    rows = table()
    assert len(rows) == 24
    ledgers = {ledger for _, ledger, _ in rows}
    assert ledgers == {
        "reservation, sale, refund",
        "reservation, release, sale, refund",
    }
