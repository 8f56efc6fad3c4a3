"""The planners on hand-built snapshots: every rule, no store."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from schemas.ids import reservation_id
from schemas.operations import (
    AdjustRequest,
    CommitRequest,
    ReleaseRequest,
    ReserveRequest,
    RestoreRequest,
)
from service.engine import (
    EngineSettings,
    InsufficientStock,
    InvalidAdjustment,
    InvalidRequest,
    ReservationConflict,
    ReservationNotActive,
    ReservationNotCommitted,
    ReservationNotFound,
)
from service.engine.planners.adjust import plan_adjust, validate_adjust
from service.engine.planners.commit import plan_commit
from service.engine.planners.lifecycle import plan_expire, plan_release
from service.engine.planners.reconcile import plan_reconcile_product
from service.engine.planners.reserve import hold_duration, plan_reserve, validate_reserve
from service.engine.planners.restore import plan_restore
from tests.engine.planning import NOW, creates, patches, plan_over, product, reservation
from tests.engine.support import line

SETTINGS = EngineSettings()
RID = reservation_id("cs_1")
TEE_VARIANTS = [
    {"_key": "k-s", "size": "s", "stockQuantity": 3, "reservedQuantity": 0},
    {"_key": "k-m", "size": "m", "stockQuantity": 2, "reservedQuantity": 0},
]


def reserve(
    plan: Any, *lines: Any, resolved: dict[str, str | None] | None = None, **kw: Any
) -> Any:
    request = ReserveRequest(session_id="cs_1", lines=list(lines), **kw)
    names = resolved or {ln.product_id: ln.product_id for ln in lines}
    return plan_reserve(plan, request, RID, resolved=names, settings=SETTINGS)


def reservation_created(plan: Any) -> dict[str, Any]:
    (doc,) = creates(plan, "stockReservation")
    return doc


# -- reserve ---------------------------------------------------------------------------


def test_reserve_merges_lines_of_one_product_named_by_id_and_slug() -> None:
    plan = plan_over(product(stock=5, slug="railcam"), missing=(RID,))
    reserve(plan, line("railcam", 2), line("p1", 3), resolved={"railcam": "p1", "p1": "p1"})
    result = plan.outcome()
    (merged,) = result.lines
    assert (merged.requested, merged.available, merged.code) == (5, 5, "ok")
    assert patches(plan)["p1"]["set"] == {"reservedQuantity": 5}
    (item,) = reservation_created(plan)["items"]
    assert (item["productId"], item["quantity"]) == ("p1", 5)


def test_two_lines_of_one_size_cannot_jointly_exceed_its_stock() -> None:
    plan = plan_over(product(variants=TEE_VARIANTS), missing=(RID,))
    reserve(plan, line("p1", 1, "M"), line("p1", 2, "m"))
    with pytest.raises(InsufficientStock) as caught:
        plan.outcome()
    (merged,) = caught.value.lines
    assert (merged.size, merged.requested, merged.available) == ("m", 3, 2)
    assert merged.code == "insufficient_stock"
    assert not plan.writes, "all or nothing: nothing is held"


def test_a_failed_reserve_reports_every_line_with_its_own_code() -> None:
    plan = plan_over(product(stock=1), product("p2", variants=TEE_VARIANTS), missing=(RID, "nope"))
    reserve(
        plan,
        line("p1", 2),
        line("p2", 1, "s"),
        line("p2", 1, "xl"),
        line("p2", 1),
        line("nope", 1),
        resolved={"p1": "p1", "p2": "p2", "nope": None},
    )
    with pytest.raises(InsufficientStock) as caught:
        plan.outcome()
    codes = [(o.product_id, o.size, o.code, o.requested, o.available) for o in caught.value.lines]
    assert codes == [
        ("p1", None, "insufficient_stock", 2, 1),
        ("p2", "s", "ok", 1, 3),
        ("p2", "xl", "variant_not_found", 1, 0),
        ("p2", None, "variant_required", 1, 0),
        ("nope", None, "product_not_found", 1, 0),
    ]
    assert "requested 2, available 1" in caught.value.message
    assert caught.value.code == "insufficient_stock"


def test_reserve_holds_every_line_and_creates_the_reservation_with_ledger() -> None:
    plan = plan_over(
        product(stock=5, reserved=1), product("p2", variants=TEE_VARIANTS), missing=(RID,)
    )
    reserve(plan, line("p1", 2), line("p2", 1, "S"), ttl_seconds=600)
    result = plan.outcome()
    assert result.expires_at == NOW + timedelta(minutes=10)
    assert patches(plan)["p1"]["set"] == {"reservedQuantity": 3}
    assert patches(plan)["p2"]["set"] == {'variants[_key=="k-s"].reservedQuantity': 1}
    doc = reservation_created(plan)
    assert doc["_id"] == "inventory.reservation.cs_1" and doc["sessionId"] == "cs_1"
    assert doc["status"] == "active" and doc["productIds"] == ["p1", "p2"]
    assert [i.get("size") for i in doc["items"]] == [None, "s"]
    kinds = [
        (e["productId"], e["type"], e["quantityChange"])
        for e in creates(plan, "inventoryTransaction")
    ]
    assert kinds == [("p1", "reservation", 2), ("p2", "reservation", 1)]


def test_replay_with_the_same_lines_returns_the_original_result() -> None:
    first = plan_over(product(stock=5), missing=(RID,))
    reserve(first, line("p1", 2))
    original = first.outcome()
    stored = reservation_created(first) | {"_rev": "r2"}
    replay = plan_over(product(stock=5, reserved=2), stored)
    reserve(replay, line("p1", 1), line("p1", 1))
    again = replay.outcome()
    assert again.replayed and not replay.writes
    assert again.model_dump(exclude={"replayed"}) == original.model_dump(exclude={"replayed"})


def test_same_session_with_other_lines_is_a_conflict() -> None:
    held = reservation(items=[{"productId": "p1", "quantity": 2}])
    plan = plan_over(product(stock=5, reserved=2), held)
    reserve(plan, line("p1", 3))
    with pytest.raises(ReservationConflict):
        plan.outcome()


def test_replay_of_a_hold_that_is_gone_says_it_is_not_active() -> None:
    held = reservation(items=[{"productId": "p1", "quantity": 2}], status="expired")
    plan = plan_over(product(stock=5), held)
    reserve(plan, line("p1", 2))
    with pytest.raises(ReservationNotActive) as caught:
        plan.outcome()
    assert caught.value.status == "expired"


def test_reserve_reclaims_overdue_holds_before_judging_stock() -> None:
    overdue = reservation(
        "cs_old", items=[{"productId": "p1", "quantity": 4}], expires_in=timedelta(minutes=-3)
    )
    plan = plan_over(product(stock=5, reserved=4), overdue, missing=(RID,))
    request = ReserveRequest(session_id="cs_1", lines=[line("p1", 3)])
    plan_reserve(
        plan, request, RID, resolved={"p1": "p1"}, settings=SETTINGS, reclaimable=[overdue["_id"]]
    )
    result = plan.outcome()
    assert result.reclaimed == ["cs_old"]
    assert patches(plan)["p1"]["set"] == {"reservedQuantity": 3}
    assert patches(plan)[overdue["_id"]]["set"]["status"] == "expired"
    types = [e["type"] for e in creates(plan, "inventoryTransaction")]
    assert types == ["expiry", "reservation"]


def test_holds_within_the_grace_period_are_not_reclaimed() -> None:
    recent = reservation(
        "cs_old", items=[{"productId": "p1", "quantity": 4}], expires_in=timedelta(minutes=-1)
    )
    plan = plan_over(product(stock=5, reserved=4), recent, missing=(RID,))
    request = ReserveRequest(session_id="cs_1", lines=[line("p1", 3)])
    plan_reserve(
        plan, request, RID, resolved={"p1": "p1"}, settings=SETTINGS, reclaimable=[recent["_id"]]
    )
    with pytest.raises(InsufficientStock):
        plan.outcome()
    assert plan.short_products == ["p1"]


def test_reserve_limits() -> None:
    settings = EngineSettings(max_lines=2, max_quantity_per_line=3)
    with pytest.raises(InvalidRequest, match="at most 2 lines"):
        validate_reserve(ReserveRequest(session_id="s", lines=[line("a")] * 3), settings)
    with pytest.raises(InvalidRequest, match="at most 3 units"):
        validate_reserve(ReserveRequest(session_id="s", lines=[line("a", 4)]), settings)
    with pytest.raises(InvalidRequest, match="at least one line"):
        validate_reserve(ReserveRequest(session_id="s", lines=[]), settings)
    plan = plan_over(product(stock=50), missing=(RID,))
    request = ReserveRequest(session_id="cs_1", lines=[line("p1", 2), line("p1", 2)])
    plan_reserve(plan, request, RID, resolved={"p1": "p1"}, settings=settings)
    with pytest.raises(InvalidRequest, match="units of one product"):
        plan.outcome()


def test_ttl_defaults_to_30_minutes_and_is_bounded() -> None:
    def ttl(seconds: int | None) -> timedelta:
        return hold_duration(
            ReserveRequest(session_id="s", lines=[], ttl_seconds=seconds), SETTINGS
        )

    assert ttl(None) == timedelta(minutes=30)
    assert ttl(24 * 3600) == SETTINGS.max_ttl == timedelta(minutes=60)
    assert ttl(5) == SETTINGS.min_ttl


# -- release and expiry ----------------------------------------------------------------


def test_release_gives_back_everything_once() -> None:
    held = reservation(items=[{"productId": "p1", "quantity": 2}])
    plan = plan_over(product(stock=5, reserved=2), held)
    result = plan_release(plan, ReleaseRequest(session_id="cs_1"), RID).outcome()
    assert result.status == "released" and result.released[0].quantity == 2
    assert patches(plan)["p1"]["set"] == {"reservedQuantity": 0}
    assert patches(plan)[RID]["ifRevisionID"] == "rr"
    assert patches(plan)[RID]["set"]["releasedAt"] == "2026-11-21T12:00:00.000Z"
    again = plan_over(product(stock=5), held | {"status": "released"})
    replay = plan_release(again, ReleaseRequest(session_id="cs_1"), RID).outcome()
    assert replay.replayed and replay.released[0].quantity == 2
    assert not again.writes
    expired = plan_over(product(stock=5), held | {"status": "expired"})
    with pytest.raises(ReservationNotActive):
        plan_release(expired, ReleaseRequest(session_id="cs_1"), RID).outcome()


def test_partial_release_keeps_the_rest_held() -> None:
    held = reservation(
        items=[
            {"productId": "p1", "quantity": 3},
            {"productId": "p2", "variantKey": "k-m", "size": "m", "quantity": 1},
        ]
    )
    plan = plan_over(
        product(stock=5, reserved=3, slug="railcam"), product("p2", variants=TEE_VARIANTS), held
    )
    request = ReleaseRequest(session_id="cs_1", lines=[line("railcam", 2)])
    result = plan_release(plan, request, RID).outcome()
    assert result.status == "active"
    assert patches(plan)["p1"]["set"] == {"reservedQuantity": 1}
    assert patches(plan)[RID]["set"]["items"][0]["releasedQuantity"] == 2
    too_many = plan_over(product(stock=5, reserved=3), product("p2", variants=TEE_VARIANTS), held)
    with pytest.raises(InvalidRequest, match="only 1 to release"):
        plan_release(too_many, ReleaseRequest(session_id="cs_1", lines=[line("p2", 2, "M")]), RID)


def test_release_of_unknown_session_is_not_found() -> None:
    with pytest.raises(ReservationNotFound):
        plan_release(plan_over(missing=(RID,)), ReleaseRequest(session_id="cs_1"), RID).outcome()


def test_a_reserved_counter_lower_than_the_hold_stops_at_zero_and_is_logged() -> None:
    held = reservation(items=[{"productId": "p1", "quantity": 3}])
    plan = plan_over(product(stock=5, reserved=1), held)
    plan_release(plan, ReleaseRequest(session_id="cs_1"), RID).outcome()
    assert patches(plan)["p1"]["set"] == {"reservedQuantity": 0}
    (log,) = creates(plan, "errorLog")
    assert log["type"] == "reconciliation" and log["severity"] == "high"


def test_expire_waits_for_the_grace_period() -> None:
    held = reservation(items=[{"productId": "p1", "quantity": 2}], expires_in=timedelta(minutes=-1))
    plan = plan_over(product(stock=5, reserved=2), held)
    assert plan_expire(plan, RID, grace=timedelta(minutes=2)).outcome() is False
    assert not plan.writes
    plan = plan_over(product(stock=5, reserved=2), held, now=NOW + timedelta(minutes=1))
    assert plan_expire(plan, RID, grace=timedelta(minutes=2)).outcome() is True
    assert patches(plan)[RID]["set"]["status"] == "expired"
    assert [e["type"] for e in creates(plan, "inventoryTransaction")] == ["expiry"]


# -- commit ----------------------------------------------------------------------------


def test_commit_deducts_stock_and_reserved() -> None:
    held = reservation(items=[{"productId": "p1", "quantity": 2}])
    plan = plan_over(product(stock=5, reserved=3), held)
    result = plan_commit(plan, CommitRequest(session_id="cs_1", payment_ref="pi_1"), RID).outcome()
    assert (result.status, result.late, result.shortfall) == ("committed", False, [])
    assert patches(plan)["p1"]["set"] == {"stockQuantity": 3, "reservedQuantity": 1}
    (entry,) = creates(plan, "inventoryTransaction")
    assert (entry["type"], entry["quantityChange"]) == ("sale", -2)


def test_commit_of_a_committed_reservation_replays_whatever_the_reference() -> None:
    held = reservation(
        items=[{"productId": "p1", "quantity": 2, "committedQuantity": 2}],
        status="committed",
        paymentRef="pi_1",
    )
    plan = plan_over(product(stock=3), held)
    result = plan_commit(plan, CommitRequest(session_id="cs_1", payment_ref="evt_9"), RID).outcome()
    assert result.replayed and result.payment_ref == "pi_1" and not plan.writes


def test_late_commit_takes_from_available_stock() -> None:
    held = reservation(items=[{"productId": "p1", "quantity": 2}], status="expired")
    plan = plan_over(product(stock=5, reserved=1), held)
    result = plan_commit(plan, CommitRequest(session_id="cs_1"), RID).outcome()
    assert result.late and not result.shortfall
    assert patches(plan)["p1"]["set"] == {"stockQuantity": 3}, "others' holds stay"
    assert not creates(plan, "errorLog")


def test_late_commit_without_stock_records_a_shortfall_and_a_critical_log() -> None:
    held = reservation(items=[{"productId": "p1", "quantity": 3}], status="released")
    plan = plan_over(product(stock=4, reserved=3), held)
    result = plan_commit(plan, CommitRequest(session_id="cs_1", payment_ref="pi_7"), RID).outcome()
    (short,) = result.shortfall
    assert (short.requested, short.committed, short.missing) == (3, 1, 2)
    assert patches(plan)["p1"]["set"] == {"stockQuantity": 3}
    saved = patches(plan)[RID]["set"]
    assert saved["status"] == "committed" and saved["lateCommit"] is True
    assert saved["shortfall"][0]["missing"] == 2
    (log,) = creates(plan, "errorLog")
    assert (log["type"], log["severity"]) == ("stock_deduction", "critical")
    assert "paid but no stock" in log["message"]
    assert json.loads(log["details"])["paymentRef"] == "pi_7"


def test_commit_never_takes_stock_below_zero() -> None:
    held = reservation(items=[{"productId": "p1", "quantity": 3}])
    plan = plan_over(product(stock=1, reserved=3), held)  # an editor cut stock meanwhile
    result = plan_commit(plan, CommitRequest(session_id="cs_1"), RID).outcome()
    assert result.shortfall[0].missing == 2
    assert patches(plan)["p1"]["set"] == {"stockQuantity": 0, "reservedQuantity": 0}


# -- restore ---------------------------------------------------------------------------

SOLD = reservation(
    items=[
        {"productId": "p1", "quantity": 3, "committedQuantity": 3},
        {
            "productId": "p2",
            "variantKey": "k-m",
            "size": "m",
            "quantity": 1,
            "committedQuantity": 1,
        },
    ],
    status="committed",
)


def test_restore_everything_refunds_the_reservation() -> None:
    plan = plan_over(product(stock=2), product("p2", variants=TEE_VARIANTS), SOLD)
    request = RestoreRequest(session_id="cs_1", reference="re_1")
    result = plan_restore(plan, request, RID).outcome()
    assert result.status == "refunded"
    assert patches(plan)["p1"]["set"] == {"stockQuantity": 5}
    assert patches(plan)["p2"]["set"] == {'variants[_key=="k-m"].stockQuantity': 3}
    assert {e["type"] for e in creates(plan, "inventoryTransaction")} == {"refund"}


def test_partial_restore_then_the_rest() -> None:
    plan = plan_over(product(stock=2), product("p2", variants=TEE_VARIANTS), SOLD)
    request = RestoreRequest(
        session_id="cs_1", reference="re_1", reason="return", lines=[line("p1", 2)]
    )
    result = plan_restore(plan, request, RID).outcome()
    assert result.status == "partially_refunded"
    saved = patches(plan)[RID]["set"]
    assert saved["items"][0]["restoredQuantity"] == 2
    assert saved["refunds"][0]["reference"] == "re_1"
    assert creates(plan, "inventoryTransaction")[0]["type"] == "return"
    later = plan_over(product(stock=4), product("p2", variants=TEE_VARIANTS), SOLD | saved)
    too_many = RestoreRequest(session_id="cs_1", reference="re_2", lines=[line("p1", 2)])
    with pytest.raises(InvalidRequest, match="only 1 to restore"):
        plan_restore(later, too_many, RID)
    rest = plan_restore(later, RestoreRequest(session_id="cs_1", reference="re_2"), RID).outcome()
    assert rest.status == "refunded"
    assert [(c.product_id, c.quantity) for c in rest.restored] == [("p1", 1), ("p2", 1)]


def test_restore_with_a_reference_already_applied_changes_nothing() -> None:
    refunded = SOLD | {
        "refunds": [
            {
                "_key": "r0",
                "reference": "re_1",
                "reason": "refund",
                "quantity": 4,
                "at": "2026-11-21T11:00:00.000Z",
            }
        ]
    }
    plan = plan_over(product(stock=2), refunded)
    result = plan_restore(plan, RestoreRequest(session_id="cs_1", reference="re_1"), RID).outcome()
    assert result.replayed and not plan.writes


def test_only_sold_stock_can_be_restored() -> None:
    plan = plan_over(product(stock=2), reservation(items=[{"productId": "p1", "quantity": 1}]))
    with pytest.raises(ReservationNotCommitted):
        plan_restore(plan, RestoreRequest(session_id="cs_1", reference="re_1"), RID).outcome()


# -- adjust ----------------------------------------------------------------------------


def adjust(plan: Any, **kw: Any) -> Any:
    request = AdjustRequest(product_id="p1", **kw)
    validate_adjust(request)
    return plan_adjust(plan, request, resolved={"p1": "p1"}).outcome()


def test_adjust_by_delta_or_to_a_value_with_reason_and_actor() -> None:
    plan = plan_over(product(stock=5, reserved=2))
    result = adjust(plan, delta=4, reason="restock", actor="alice", note="delivery 42")
    assert (result.previous_stock, result.new_stock, result.available) == (5, 9, 7)
    (entry,) = creates(plan, "inventoryTransaction")
    assert (entry["type"], entry["actor"], entry["reason"]) == ("restock", "alice", "delivery 42")
    plan = plan_over(product(variants=TEE_VARIANTS))
    result = adjust(plan, size="M", set_to=0, reason="damage")
    assert (result.previous_stock, result.new_stock, result.size) == (2, 0, "m")


def test_adjust_refuses_a_negative_result_and_ambiguous_requests() -> None:
    with pytest.raises(InvalidAdjustment, match="below zero"):
        adjust(plan_over(product(stock=2)), delta=-3, reason="damage")
    with pytest.raises(InvalidAdjustment, match="below zero"):
        adjust(plan_over(product(stock=2)), set_to=-1, reason="correction")
    with pytest.raises(InvalidAdjustment, match="exactly one"):
        adjust(plan_over(product(stock=2)), set_to=1, delta=1, reason="correction")


def test_adjust_to_the_same_value_writes_nothing() -> None:
    plan = plan_over(product(stock=2))
    assert adjust(plan, set_to=2, reason="correction").ledger_id is None
    assert not plan.writes


# -- reconcile -------------------------------------------------------------------------


def test_reconcile_recomputes_reserved_from_active_reservations_only() -> None:
    active = reservation(
        "cs_a", items=[{"productId": "p2", "variantKey": "k-s", "size": "s", "quantity": 2}]
    )
    partly = reservation(
        "cs_b",
        items=[
            {
                "productId": "p2",
                "variantKey": "k-s",
                "size": "s",
                "quantity": 2,
                "releasedQuantity": 1,
            }
        ],
    )
    gone = reservation(
        "cs_c",
        items=[{"productId": "p2", "variantKey": "k-m", "size": "m", "quantity": 2}],
        status="released",
    )
    variants = [
        dict(TEE_VARIANTS[0], reservedQuantity=0),
        dict(TEE_VARIANTS[1], reservedQuantity=2),
    ]
    stale_draft = product("drafts.p2", rev="dr", variants=[dict(v) for v in variants])
    plan = plan_over(product("p2", variants=variants), stale_draft, active, partly, gone)
    ids = [active["_id"], partly["_id"], gone["_id"]]
    outcome = plan_reconcile_product(plan, "p2", ids).outcome()
    assert [(d.size, d.recorded, d.expected) for d in outcome.repaired] == [
        ("s", 0, 3),
        ("m", 2, 0),
    ]
    expected = {
        'variants[_key=="k-m"].reservedQuantity': 0,
        'variants[_key=="k-s"].reservedQuantity': 3,
    }
    assert patches(plan)["p2"]["set"] == expected
    assert patches(plan)["drafts.p2"]["set"] == expected
    assert {e["type"] for e in creates(plan, "inventoryTransaction")} == {"reconcile"}
    (log,) = creates(plan, "errorLog")
    assert log["type"] == "reconciliation" and "0 -> 3" in log["message"]
    # Every reservation counted is guarded: a release meanwhile refuses the repair.
    assert patches(plan)[active["_id"]]["ifRevisionID"] == "rr"


def test_reconcile_leaves_a_correct_product_alone_and_skips_recent_changes() -> None:
    held = reservation(items=[{"productId": "p1", "quantity": 2}])
    plan = plan_over(product(stock=5, reserved=2), held)
    assert not plan_reconcile_product(plan, "p1", [held["_id"]]).outcome().repaired
    assert not plan.writes
    recent = product(stock=5, reserved=9, _updatedAt="2026-11-21T12:00:05Z")
    plan = plan_over(recent, held)
    outcome = plan_reconcile_product(plan, "p1", [held["_id"]], changed_after=NOW).outcome()
    assert outcome.settling and not plan.writes
