"""Issue 12 item 7: a refund that does not match what was sold is logged, also after the
charge was already refunded in full (it used to be dropped without a log)."""

from __future__ import annotations

from tests.integrations.conftest import Shop
from tests.integrations.stripe import stripe_fixtures as sf
from tests.integrations.stripe.test_refunds import sold


async def test_mismatched_refunds_after_a_full_refund_are_each_logged_once(shop: Shop) -> None:
    await sold(shop)
    full = await shop.stripe("evt_ref", "charge.refunded", sf.charge())
    assert full.json()["action"] == "restored"
    restored = await shop.counters()
    assert await shop.error_logs() == []

    unknown = sf.refund("re_other", lines=[{"productId": "timetable-zine", "quantity": 1}])
    too_many = sf.refund("re_many", lines=[{"productId": "railcam", "quantity": 3}])
    answers = [
        await shop.stripe("evt_2", "refund.created", unknown),
        await shop.stripe("evt_3", "refund.created", too_many),
        # Stripe delivers again: still one log each.
        await shop.stripe("evt_2", "refund.created", unknown),
    ]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["action"] for a in answers[:2]] == ["manual_restock_logged"] * 2
    messages = sorted(log["message"] for log in await shop.error_logs())
    assert len(messages) == 2
    assert "re_many" in messages[0] and "re_other" in messages[1]
    assert all("do not match what was sold" in m for m in messages)
    # Nothing restored twice.
    assert await shop.counters() == restored
