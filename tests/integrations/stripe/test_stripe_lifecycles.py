"""Stripe as it really runs (issue 11): every event comes from the fake Stripe, shaped from
Stripe's fixtures at the endpoint's API version, and is delivered in Stripe's order, in
other orders and more than once."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.integrations.conftest import Shop
from tests.integrations.stripe import stripe_fixtures as sf
from tests.support.stripe import events
from tests.support.stripe.fake import FakeStripe

RAILCAM_1 = [{"productId": "railcam", "quantity": 1}]


async def sale(shop: Shop, fake: FakeStripe, units: int = 2) -> str:
    """A paid checkout of `units` railcams (5 in stock); returns the session id."""
    session = fake.create_session()["id"]
    await shop.reserve(session, {"productId": "railcam", "quantity": units})
    fake.pay(session)
    for evt in fake.drain():
        assert (await shop.deliver(evt)).status_code == 200
    assert await shop.counters() == (5 - units, 0)
    return session


async def deliver_all(shop: Shop, sent: list[dict[str, Any]]) -> list[str]:
    actions = []
    for evt in sent:
        response = await shop.deliver(evt)
        assert response.status_code == 200, response.text
        actions.append(response.json()["action"])
    return actions


async def ledger_total(shop: Shop) -> int:
    return sum(e["quantityChange"] for e in await shop.ledger() if e["type"] in ("sale", "refund"))


# -- a refund's life ----------------------------------------------------------------------


@pytest.mark.parametrize("api_version", [events.CURRENT_API_VERSION, "2023-10-16", "2020-08-27"])
async def test_a_full_refund_that_fails_leaves_the_sale_standing(
    shop: Shop, api_version: str
) -> None:
    fake = FakeStripe(api_version=api_version)
    session = await sale(shop, fake)
    refund, _ = fake.refund(session, status="pending")
    await deliver_all(shop, fake.drain())
    assert await shop.counters() == (5, 0)  # restored while the money is on its way back

    fake.update_refund(refund["id"], "failed", failure_reason="expired_or_canceled_card")
    actions = await deliver_all(shop, fake.drain())

    assert "reversed" in actions
    assert await shop.counters() == (3, 0)
    assert await shop.status(session) == "committed"
    assert await ledger_total(shop) == -2
    (log,) = [log for log in await shop.error_logs() if log["severity"] == "high"]
    assert refund["id"] in log["message"] and "failed" in log["message"]


async def test_a_refund_that_succeeds_after_pending_restores_once(shop: Shop) -> None:
    fake = FakeStripe()
    session = await sale(shop, fake)
    refund, _ = fake.refund(session, status="pending")
    fake.update_refund(refund["id"], "succeeded")

    actions = await deliver_all(shop, fake.drain())

    assert actions.count("restored") == 1
    assert await shop.counters() == (5, 0)
    assert await shop.status(session) == "refunded"
    assert await shop.error_logs() == []


FAILED_REFUND_EVENTS = ("refund.created", "charge.refunded", "refund.updated", "refund.failed")


@pytest.mark.parametrize(
    "order", list(itertools.permutations(range(4))), ids=lambda o: "".join(map(str, o))
)
async def test_every_order_of_a_failing_full_refund_ends_in_the_same_state(
    shop: Shop, order: tuple[int, ...]
) -> None:
    fake = FakeStripe()
    session = await sale(shop, fake)
    refund, _ = fake.refund(session, status="pending")
    fake.update_refund(refund["id"], "failed")
    sent = fake.drain()
    assert tuple(e["type"] for e in sent) == FAILED_REFUND_EVENTS

    await deliver_all(shop, [sent[i] for i in order])
    await deliver_all(shop, sent)  # and every one redelivered

    assert await shop.counters() == (3, 0)
    assert await shop.status(session) == "committed"
    assert await ledger_total(shop) == -2


async def test_an_itemised_refund_then_a_full_refund_restores_each_unit_once(
    shop: Shop,
) -> None:
    fake = FakeStripe()
    session = await sale(shop, fake)
    fake.refund(session, amount=2500, lines=RAILCAM_1)
    fake.refund(session)  # the rest

    await deliver_all(shop, fake.drain())
    await deliver_all(shop, list(reversed(fake.events[-4:])))

    assert await shop.counters() == (5, 0)
    assert await shop.status(session) == "refunded"
    assert [log for log in await shop.error_logs() if "by hand" in log["message"]] == []


# -- staff follow-ups ------------------------------------------------------------------------


async def test_a_manual_restock_named_by_refund_counts_on_the_sale(shop: Shop) -> None:
    """A line-less partial refund asks staff to restock by hand; their `return` naming the
    refund counts as returned, so the later full refund restores only the rest."""
    fake = FakeStripe()
    session = await sale(shop, fake)
    partial, _ = fake.refund(session, amount=2500)
    await deliver_all(shop, fake.drain())
    (log,) = await shop.error_logs()
    assert partial["id"] in log["message"] and "return" in log["message"]

    staff = await shop.client.post(
        "/api/inventory/adjust",
        json={
            "productId": "railcam",
            "delta": 1,
            "reason": "return",
            "reference": partial["id"],
        },
        headers=ADMIN_HEADERS,
    )
    assert staff.status_code == 200, staff.text
    assert await shop.counters() == (4, 0)

    fake.refund(session)
    await deliver_all(shop, fake.drain())

    assert await shop.counters() == (5, 0)
    assert await shop.status(session) == "refunded"


# -- linking payments to holds --------------------------------------------------------------


@pytest.mark.parametrize("key", ["session_id", "checkout_session_id"])
async def test_generic_metadata_never_links_a_payment(shop: Shop, key: str) -> None:
    fake = FakeStripe()
    mine = await sale(shop, fake, units=1)
    other = fake.create_session()["id"]
    await shop.reserve(other, {"productId": "railcam", "quantity": 1})
    intent = fake.intents[fake.sessions[mine]["payment_intent"]]

    # Another customer's active hold named by a generic key: not committed.
    obj = dict(intent, metadata={key: other})
    response = await shop.deliver(events.event("payment_intent.succeeded", obj))
    assert response.json()["action"] in ("already_committed", "committed")
    assert response.json()["sessionId"] == mine
    assert await shop.status(other) == "active"

    # A refund of my payment carrying the same metadata is mine, not held for ever.
    fake.refund(mine)
    for evt in fake.drain():
        evt["data"]["object"].setdefault("metadata", {})[key] = other
        await shop.deliver(evt)
    assert await shop.status(mine) == "refunded"
    assert await shop.status(other) == "active"


async def test_a_storefront_that_reserved_under_its_cart_id_is_found_by_client_reference_id(
    shop: Shop,
) -> None:
    fake = FakeStripe()
    await shop.reserve("cart-42", {"productId": "railcam", "quantity": 2})
    session = fake.create_session(client_reference_id="cart-42")["id"]
    fake.pay(session)

    actions = await deliver_all(shop, fake.drain())

    assert "committed" in actions
    assert await shop.status("cart-42") == "committed"
    assert await shop.counters() == (3, 0)


# -- event hygiene ----------------------------------------------------------------------------


async def test_a_signed_thin_event_is_accepted_and_ignored(shop: Shop) -> None:
    before = await shop.count_documents()
    response = await shop.deliver(events.thin_event())
    assert response.status_code == 200, response.text
    assert response.json()["action"] == "ignored"
    assert await shop.count_documents() == before


async def test_events_of_the_other_mode_are_ignored(open_shop: Any) -> None:
    async with open_shop(stripe_mode="live") as shop:
        fake = FakeStripe()  # a test-mode account
        session = fake.create_session()["id"]
        await shop.reserve(session, {"productId": "railcam", "quantity": 2})
        fake.pay(session)
        actions = await deliver_all(shop, fake.drain())
        assert set(actions) == {"ignored_wrong_mode"}
        assert await shop.status(session) == "active"


async def test_the_keys_mode_decides(open_shop: Any) -> None:
    async with open_shop(stripe_secret_key="rk_live_restricted") as shop:
        assert shop.app.state.services.settings.stripe_livemode() is True
    async with open_shop(stripe_secret_key="sk_test_x", stripe_mode="live") as shop:
        assert shop.app.state.services.settings.stripe_livemode() is False


async def test_a_big_event_of_an_ignored_type_is_accepted_up_to_a_mebibyte(shop: Shop) -> None:
    invoice = {"id": "in_test_1", "object": "invoice", "lines": {"data": ["x" * 200_000]}}
    big = events.event("invoice.finalized", invoice)
    response = await shop.deliver(big)
    assert response.status_code == 200, response.text
    assert response.json()["action"] == "ignored"
    huge = events.event("invoice.finalized", dict(invoice, lines={"data": ["x" * 1_100_000]}))
    assert (await shop.deliver(huge)).status_code == 413


async def test_declined_cards_do_not_make_the_service_unhealthy(shop: Shop) -> None:
    fake = FakeStripe()
    session = fake.create_session()["id"]
    await shop.reserve(session, {"productId": "railcam", "quantity": 1})
    for n in range(25):
        fake.decline(session, "card_declined" if n % 2 else "insufficient_funds")
    await deliver_all(shop, fake.drain())

    health = await shop.client.get("/api/inventory-health")

    assert health.json()["healthy"] is True, health.json()
    assert await shop.status(session) == "active"


async def test_a_refund_of_a_payment_stocksync_never_saw_is_not_held_for_ever(
    shop: Shop,
) -> None:
    fake = FakeStripe()
    foreign = fake.create_session()["id"]  # another product line's checkout
    fake.pay(foreign)
    fake.drain()
    fake.refund(foreign)

    actions = await deliver_all(shop, fake.drain())
    assert set(actions) == {"refund_held"}
    shop.clock.advance(days=3)
    later = await shop.client.get("/api/cron/reconcile", headers=CRON_HEADERS)

    assert later.json()["heldRefunds"]["resolved"] == [fake.sessions[foreign]["payment_intent"]]
    assert [log for log in await shop.error_logs() if log["severity"] in ("high", "critical")] == []


ADMIN_HEADERS: dict[str, str] = {}
CRON_HEADERS: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _headers() -> None:
    from tests.entrypoints.http.conftest import ADMIN, CRON

    ADMIN_HEADERS.update(ADMIN)
    CRON_HEADERS.update(CRON)


__all__ = ["sf"]


# -- delayed payment methods ---------------------------------------------------------------


async def test_a_sepa_debit_that_settles_on_day_19_still_finds_its_hold(shop: Shop) -> None:
    """SEPA Direct Debit may take up to 14 business days: the hold lasts 20 calendar days."""
    fake = FakeStripe()
    session = fake.create_session(payment_method_types=["sepa_debit"])["id"]
    await shop.reserve(session, {"productId": "railcam", "quantity": 2})
    fake.pay(session, delayed=True)
    assert await deliver_all(shop, fake.drain()) == ["ignored", "payment_pending"]
    reservation = await shop.inventory.reservation(session)
    assert reservation is not None
    assert (reservation.expires_at - shop.clock()).days == 20

    shop.clock.advance(days=19)
    swept = await shop.client.get("/api/cron/cleanup", headers=CRON_HEADERS)
    assert swept.status_code == 200 and swept.json()["cleanup"]["expired"] == []
    fake.settle(session)
    actions = await deliver_all(shop, fake.drain())

    assert "committed" in actions
    assert await shop.counters() == (3, 0)


async def test_the_delayed_payment_hold_is_configurable(open_shop: Any) -> None:
    async with open_shop(delayed_payment_hold_days=30) as shop:
        fake = FakeStripe()
        session = fake.create_session(payment_method_types=["bacs_debit"])["id"]
        await shop.reserve(session, {"productId": "railcam", "quantity": 1})
        fake.pay(session, delayed=True)
        await deliver_all(shop, fake.drain())
        reservation = await shop.inventory.reservation(session)
        assert reservation is not None
        assert (reservation.expires_at - shop.clock()).days == 30
