"""Held refunds: found however many others wait for a payment that never comes, and
never applied once their refund failed."""

from __future__ import annotations

from tests.integrations.conftest import Shop
from tests.integrations.stripe import stripe_fixtures as sf

BATCH = 100

S = "cs_test_backlog"


async def test_a_held_refund_is_applied_behind_a_backlog_of_orphaned_refunds(shop: Shop):
    # Refunds of payments that never went through a checkout (invoices, payment links):
    # no session is ever found for them, so their holds stay open for good.
    for n in range(BATCH):
        response = await shop.stripe(
            f"evt_orphan_{n}",
            "charge.refunded",
            sf.charge(f"ch_orphan_{n}", payment_intent=f"pi_orphan_{n}"),
        )
        assert response.json()["action"] == "refund_held"
    await shop.reserve(S, {"productId": "railcam", "quantity": 2})
    held = await shop.stripe("evt_ref", "charge.refunded", sf.charge())
    assert held.json()["action"] == "refund_held"

    paid = await shop.stripe("evt_paid", "checkout.session.completed", sf.checkout_session(S))

    assert [e["action"] for e in paid.json()["effects"]] == ["held_refund_applied"]
    assert await shop.counters() == (5, 0)
    assert await shop.status(S) == "refunded"


RAILCAM_1 = [{"productId": "railcam", "quantity": 1}]


async def test_a_held_refund_that_failed_before_its_payment_is_never_applied(shop: Shop):
    await shop.reserve(S, {"productId": "railcam", "quantity": 2})
    held = await shop.stripe("evt_r", "refund.created", sf.refund("re_1", lines=RAILCAM_1))
    assert held.json()["action"] == "refund_held"
    failed = await shop.stripe(
        "evt_f", "refund.failed", sf.refund("re_1", lines=RAILCAM_1, status="failed")
    )
    assert failed.json()["action"] == "refund_held"

    paid = await shop.stripe("evt_paid", "checkout.session.completed", sf.checkout_session(S))

    # The money never went back, so neither did the goods: nothing is restored.
    assert paid.json()["action"] == "committed"
    assert await shop.counters() == (3, 0)
    assert await shop.status(S) == "committed"
