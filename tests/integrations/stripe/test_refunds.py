"""Refunds: full and itemised, once per refund whichever events announce it, held when
they arrive before their payment, and never silently dropped."""

from __future__ import annotations

import asyncio

import pytest

from service.engine.operations.held_refunds import apply_held_refunds
from tests.entrypoints.http.conftest import ADMIN, CRON
from tests.integrations.conftest import TEE, Shop
from tests.integrations.stripe import stripe_fixtures as sf

S = "cs_test_r1"
RAILCAM_1 = [{"productId": "railcam", "quantity": 1}]


async def sold(shop: Shop, session: str = S) -> None:
    """Two railcams and two tees in size m, paid (intent pi_1)."""
    await shop.reserve(
        session,
        {"productId": "railcam", "quantity": 2},
        {"productId": "halloween-tee", "size": "m", "quantity": 2},
    )
    response = await shop.stripe("evt_paid", "checkout.session.completed", sf.checkout_session(S))
    assert response.json()["action"] == "committed"
    assert await shop.counters() == (3, 0)
    assert await shop.counters(TEE, "m") == (0, 0)


def refund_types(entries: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(e["quantityChange"], e["referenceId"]) for e in entries if e["type"] == "refund"]


async def test_a_fully_refunded_charge_restores_everything(shop: Shop):
    await sold(shop)

    response = await shop.stripe("evt_ref", "charge.refunded", sf.charge())

    assert response.json()["action"] == "restored"
    assert await shop.counters() == (5, 0)
    assert await shop.counters(TEE, "m") == (2, 0)
    assert await shop.status(S) == "refunded"
    assert refund_types(await shop.ledger()) == [(2, "ch_1:full")]


async def test_refund_metadata_lines_restore_just_those_units(shop: Shop):
    await sold(shop)
    lines = [{"productId": "halloween-tee", "size": "M", "quantity": 1}]

    response = await shop.stripe("evt_r", "refund.created", sf.refund("re_1", lines=lines))

    assert response.json()["action"] == "restored"
    assert await shop.counters(TEE, "m") == (1, 0)
    assert await shop.counters() == (3, 0)
    assert await shop.status(S) == "partially_refunded"


async def test_one_refund_announced_by_three_events_restores_once(shop: Shop):
    await sold(shop)
    re_1 = sf.refund("re_1", lines=RAILCAM_1)

    created = await shop.stripe("evt_a", "refund.created", re_1)
    updated = await shop.stripe("evt_b", "refund.updated", re_1)
    charged = await shop.stripe(
        "evt_c", "charge.refunded", sf.charge(amount_refunded=2500, refunds=[re_1])
    )

    assert created.json()["action"] == "restored"
    assert updated.json()["action"] == "already_restored"
    assert charged.json()["action"] == "already_restored"
    assert await shop.counters() == (4, 0)
    assert refund_types(await shop.ledger()) == [(1, "re_1")]


async def test_concurrent_announcements_of_one_refund_restore_once(shop: Shop):
    await sold(shop)
    re_1 = sf.refund("re_1", lines=RAILCAM_1)
    listed = sf.charge(amount_refunded=2500, refunds=[re_1])
    deliveries = [
        shop.stripe(f"evt_{i}", kind, obj)
        for i in range(4)
        for kind, obj in (
            ("refund.created", re_1),
            ("refund.updated", re_1),
            ("charge.refunded", listed),
        )
    ]

    responses = await asyncio.gather(*deliveries)

    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    actions = [r.json()["action"] for r in responses]
    assert actions.count("restored") == 1, actions
    assert await shop.counters() == (4, 0)
    assert refund_types(await shop.ledger()) == [(1, "re_1")]


async def test_itemised_then_full_refund_restores_the_rest_once(shop: Shop):
    await sold(shop)
    re_1 = sf.refund("re_1", lines=RAILCAM_1)
    re_2 = sf.refund("re_2", amount=2500)
    await shop.stripe("evt_a", "refund.created", re_1)

    waiting = await shop.stripe("evt_b", "refund.created", re_2)
    full = await shop.stripe(
        "evt_c", "charge.refunded", sf.charge(amount_refunded=5000, refunds=[re_2, re_1])
    )

    assert waiting.json()["action"] == "awaiting_charge_refunded"
    assert full.json()["action"] == "restored"
    assert await shop.counters() == (5, 0)
    assert await shop.counters(TEE, "m") == (2, 0)
    assert await shop.status(S) == "refunded"
    assert not [log for log in await shop.error_logs() if "restock" in log["message"]]


async def test_full_refund_first_makes_a_later_itemised_refund_a_no_op(shop: Shop):
    await sold(shop)
    await shop.stripe("evt_full", "charge.refunded", sf.charge())

    response = await shop.stripe("evt_late", "refund.created", sf.refund("re_1", lines=RAILCAM_1))

    assert response.json()["action"] == "already_restored"
    assert await shop.counters() == (5, 0)
    assert not [log for log in await shop.error_logs() if "restock" in log["message"]]


async def test_a_partial_refund_without_lines_asks_for_a_manual_restock_once(shop: Shop):
    await sold(shop)
    unitemised = sf.refund("re_9", amount=1000)
    partial = sf.charge(amount_refunded=1000, refunds=[unitemised])

    first = await shop.stripe("evt_p", "charge.refunded", partial)
    again = await shop.stripe("evt_p2", "charge.refunded", partial)

    assert first.json()["action"] == "manual_restock_logged"
    assert again.json()["action"] == "already_restored"
    logs = await shop.error_logs()
    assert len(logs) == 1
    assert logs[0]["type"] == "stock_restore" and logs[0]["sessionId"] == S
    assert "by hand" in logs[0]["message"] and "re_9" in logs[0]["message"]
    assert "reference `re_9`" in logs[0]["message"]
    assert await shop.counters() == (3, 0)


async def test_an_itemised_partial_refund_writes_no_manual_restock_log(shop: Shop):
    """charge.refunded after an itemised refund.created (any order, redelivered) is not a
    partial refund nobody itemised."""
    await sold(shop)
    re_1 = sf.refund("re_1", lines=RAILCAM_1)
    partial = sf.charge(amount_refunded=2500)

    for evt, kind, obj in [
        ("evt_c", "charge.refunded", partial),
        ("evt_r", "refund.created", re_1),
        ("evt_c", "charge.refunded", partial),
        ("evt_c2", "charge.refunded", partial),
    ]:
        assert (await shop.stripe(evt, kind, obj)).status_code == 200

    assert await shop.counters() == (4, 0)
    assert await shop.error_logs() == []


async def test_an_unitemised_partial_refund_is_logged_once_its_refund_event_names_it(
    shop: Shop,
):
    """Since 2024-10-28 every refund has its refund.* events; charge.refunded alone waits."""
    await sold(shop)
    charged = await shop.stripe("evt_p", "charge.refunded", sf.charge(amount_refunded=1000))
    assert await shop.error_logs() == []
    assert charged.json()["action"] == "already_restored"

    named = await shop.stripe("evt_r", "refund.created", sf.refund("re_5", amount=1000))

    assert named.json()["action"] == "manual_restock_logged"
    (log,) = await shop.error_logs()
    assert "re_5" in log["message"]


async def test_an_old_api_versions_unitemised_partial_refund_is_logged_from_the_charge(
    shop: Shop,
):
    """Before 2024-10-28 card refunds get no refund.* event: the charge is all there is."""
    await sold(shop)
    body = sf.event(
        "evt_p", "charge.refunded", sf.charge(amount_refunded=1000), api_version="2023-10-16"
    )
    response = await shop.client.post(
        "/api/stripe-webhook",
        content=body,
        headers={"Stripe-Signature": sf.sign(body), "Content-Type": "application/json"},
    )
    assert response.json()["action"] == "manual_restock_logged"
    (log,) = await shop.error_logs()
    assert "ch_1:partial:1000" in log["message"]


async def test_unreadable_or_unmatched_lines_ask_for_a_manual_restock(shop: Shop):
    await sold(shop)
    bad = await shop.stripe("evt_1", "refund.created", sf.refund("re_bad", raw_lines="[{oops"))
    unknown = await shop.stripe(
        "evt_2",
        "refund.created",
        sf.refund("re_other", lines=[{"productId": "timetable-zine", "quantity": 1}]),
    )
    too_many = await shop.stripe(
        "evt_3",
        "refund.created",
        sf.refund("re_many", lines=[{"productId": "railcam", "quantity": 3}]),
    )

    for response in (bad, unknown, too_many):
        assert response.status_code == 200
        assert response.json()["action"] == "manual_restock_logged"
    messages = sorted(log["message"] for log in await shop.error_logs())
    assert len(messages) == 3
    assert all("by hand" in m for m in messages)
    assert await shop.counters() == (3, 0)


async def test_a_refund_before_its_payment_is_held_then_applied_by_the_payment(shop: Shop):
    await shop.reserve(S, {"productId": "railcam", "quantity": 2})

    held = await shop.stripe("evt_ref", "charge.refunded", sf.charge())
    assert held.json()["action"] == "refund_held"
    assert await shop.counters() == (5, 2)
    # Held is a state of the refund records, not an errorLog.
    assert await shop.error_logs() == []

    paid = await shop.stripe("evt_paid", "checkout.session.completed", sf.checkout_session(S))

    assert paid.json()["action"] == "committed"
    assert [e["action"] for e in paid.json()["effects"]] == ["held_refund_applied"]
    assert await shop.counters() == (5, 0)
    assert await shop.status(S) == "refunded"
    # Redelivering either event changes nothing more.
    await shop.stripe("evt_ref", "charge.refunded", sf.charge())
    await shop.stripe("evt_paid", "checkout.session.completed", sf.checkout_session(S))
    assert await shop.counters() == (5, 0)
    assert [e["type"] for e in await shop.ledger()] == ["reservation", "sale", "refund"]


async def test_a_held_refund_is_applied_by_reconcile_when_the_payment_came_another_way(
    shop: Shop,
):
    await shop.reserve(S, {"productId": "railcam", "quantity": 2})
    await shop.stripe("evt_r", "refund.created", sf.refund("re_1", lines=RAILCAM_1))
    # Paid through a path that does not look for held refunds (e.g. the CLI).
    await shop.inventory.commit(S, "pi_1")
    assert await shop.counters() == (3, 0)

    report = await apply_held_refunds(shop.inventory)
    again = await apply_held_refunds(shop.inventory)

    assert report.applied == ["pi_1"]
    assert again.applied == [] and again.held == []
    assert await shop.counters() == (4, 0)
    assert await shop.status(S) == "partially_refunded"


async def test_a_held_refund_whose_payment_never_came_resolves_after_the_wait(shop: Shop):
    await shop.reserve(S, {"productId": "railcam", "quantity": 2})
    await shop.stripe("evt_r", "charge.refunded", sf.charge())

    report = await apply_held_refunds(shop.inventory)
    assert report.held == ["pi_1"]

    shop.clock.advance(days=3)
    later = await apply_held_refunds(shop.inventory)
    assert later.resolved == ["pi_1"] and later.held == []
    assert (await apply_held_refunds(shop.inventory)).resolved == ["pi_1"]
    # Nothing for a person: info-level, no errorLog.
    assert await shop.error_logs() == []
    assert await shop.counters() == (5, 2)


async def test_a_failed_refund_after_its_restore_is_reversed_and_logged(shop: Shop):
    await sold(shop)
    await shop.stripe("evt_1", "refund.created", sf.refund("re_1", lines=RAILCAM_1))
    assert await shop.counters() == (4, 0)

    response = await shop.stripe(
        "evt_2", "refund.updated", sf.refund("re_1", lines=RAILCAM_1, status="failed")
    )

    assert response.json()["action"] == "reversed"
    assert await shop.counters() == (3, 0)
    assert await shop.status(S) == "committed"
    (log,) = await shop.error_logs()
    assert log["severity"] == "high" and "failed" in log["message"]
    assert refund_types(await shop.ledger()) == [(1, "re_1"), (-1, "re_1")]


async def test_a_refund_that_failed_before_any_restore_leaves_the_sale(shop: Shop):
    await sold(shop)
    response = await shop.stripe(
        "evt_f", "refund.failed", sf.refund("re_1", lines=RAILCAM_1, status="failed")
    )
    assert response.json()["action"] == "refund_not_returned"
    assert await shop.counters() == (3, 0)
    (log,) = await shop.error_logs()
    assert log["severity"] == "medium" and "sale stands" in log["message"]
    # The late refund.created of that refund changes nothing.
    late = await shop.stripe("evt_c", "refund.created", sf.refund("re_1", lines=RAILCAM_1))
    assert late.json()["action"] == "already_restored"
    assert await shop.counters() == (3, 0)


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        pytest.param("GET", "/api/cron/reconcile", CRON, id="cron"),
        pytest.param("POST", "/api/inventory/reconcile", ADMIN, id="staff"),
    ],
)
async def test_every_reconcile_route_applies_held_refunds(
    shop: Shop, method: str, path: str, headers: dict[str, str]
):
    await shop.reserve(S, {"productId": "railcam", "quantity": 2})
    await shop.stripe("evt_r", "charge.refunded", sf.charge())
    await shop.inventory.commit(S, "pi_1")
    assert await shop.counters() == (3, 0)

    response = await shop.client.request(method, path, headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["heldRefunds"] == {"applied": ["pi_1"], "held": [], "resolved": []}
    assert await shop.counters() == (5, 0)
    assert await shop.status(S) == "refunded"
