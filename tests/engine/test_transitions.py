"""The reservation state machine (`service.engine.model.transitions`): the moves it has,
the ones it refuses, and the timestamps each move sets once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.ids import reservation_id
from schemas.reservation import ReservationItem, ReservationStatus, StockReservation
from service.engine.model import transitions
from service.engine.model.transitions import TRANSITIONS, IllegalTransition

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
T2 = T0 + timedelta(minutes=9)


def hold(status: ReservationStatus = "active", **fields: object) -> StockReservation:
    items = [
        ReservationItem(key="a", product_id="p1", quantity=3),
        ReservationItem(key="b", product_id="p2", variant_key="v", size="M", quantity=1),
    ]
    return StockReservation.model_validate(
        {
            "_id": reservation_id("cs_1"),
            "sessionId": "cs_1",
            "status": status,
            "items": [item.to_json_dict() for item in items],
            "createdAt": T0,
            "expiresAt": T0 + timedelta(minutes=15),
            **fields,
        }
    )


def test_a_hold_released_whole_ends_and_keeps_what_the_cart_held() -> None:
    released = transitions.release(hold(), T1, {"a": 3, "b": 1})
    assert released.status == "released" and released.released_at == T1
    # A late payment needs the quantities the cart held.
    assert [item.held for item in released.items] == [3, 1]


def test_a_partial_release_stays_active_with_less_held() -> None:
    partly = transitions.release(hold(), T1, {"a": 2})
    assert partly.status == "active" and partly.released_at is None
    assert [item.held for item in partly.items] == [1, 1]
    rest = transitions.release(partly, T2, {"a": 1, "b": 1})
    assert rest.status == "released" and rest.released_at == T2


def test_expiry_then_late_commit_is_marked_late() -> None:
    expired = transitions.expire(hold(), T1)
    assert (expired.status, expired.expired_at) == ("expired", T1)
    paid = transitions.commit(expired, T2, taken={"a": 3, "b": 0}, payment_ref="pi", shortfall=[])
    assert paid.status == "committed" and paid.late_commit is True
    assert (paid.committed_at, paid.expired_at) == (T2, T1)
    assert [item.committed_quantity for item in paid.items] == [3, 0]


def test_restores_move_to_partially_refunded_then_refunded_with_timestamps_set_once() -> None:
    paid = transitions.commit(hold(), T0, taken={"a": 3, "b": 1}, payment_ref="pi", shortfall=[])
    assert paid.late_commit is None
    part = transitions.restore(paid, T1, added={"a": 1}, reference="re_1", reason="refund")
    assert part.status == "partially_refunded" and part.partially_refunded_at == T1
    again = transitions.restore(part, T2, added={"a": 1}, reference="re_2", reason="return")
    assert again.partially_refunded_at == T1  # set once, on first entry
    full = transitions.restore(again, T2, added={"a": 1, "b": 1}, reference="re_3", reason="refund")
    assert full.status == "refunded" and full.refunded_at == T2
    assert [(e.reference, e.reason, e.quantity) for e in full.refunds] == [
        ("re_1", "refund", 1),
        ("re_2", "return", 1),
        ("re_3", "refund", 2),
    ]


def test_a_refund_that_failed_takes_the_sale_back_to_committed() -> None:
    paid = transitions.commit(hold(), T0, taken={"a": 3, "b": 1}, payment_ref="pi", shortfall=[])
    full = transitions.set_restored(paid, T1, {"a": 3, "b": 1}, [])
    assert full.status == "refunded"
    back = transitions.set_restored(full, T2, {"a": 0, "b": 0}, [])
    assert back.status == "committed" and back.refunded_at == T1 and back.committed_at == T0


def test_a_payment_intent_extends_only_an_active_hold() -> None:
    later = T0 + timedelta(days=3)
    active = transitions.record_payment_intent(hold(), T1, "pi_1", later)
    assert (active.payment_intent_id, active.expires_at) == ("pi_1", later)
    released = transitions.release(hold(), T1, {"a": 3, "b": 1})
    kept = transitions.record_payment_intent(released, T1, "pi_1", later)
    assert kept.expires_at == released.expires_at and kept.status == "released"


@pytest.mark.parametrize(
    ("status", "move"),
    [
        ("released", lambda r: transitions.expire(r, T1)),
        ("expired", lambda r: transitions.release(r, T1, {"a": 3, "b": 1})),
        ("committed", lambda r: transitions.expire(r, T1)),
        ("refunded", lambda r: transitions.release(r, T1, {"a": 3, "b": 1})),
        ("active", lambda r: transitions.restore(r, T1, added={}, reference="x", reason="refund")),
        ("expired", lambda r: transitions.set_restored(r, T1, {"a": 1}, [])),
    ],
)
def test_moves_the_machine_does_not_have_fail_loudly(
    status: ReservationStatus, move: object
) -> None:
    assert callable(move)
    with pytest.raises(IllegalTransition, match=f"no move {status} ->"):
        move(hold(status))


def test_every_status_has_its_moves_and_nothing_leaves_a_sale_unsold() -> None:
    assert set(TRANSITIONS) == set(ReservationStatus.__args__)  # type: ignore[attr-defined]
    sold: ReservationStatus
    for sold in ("committed", "partially_refunded", "refunded"):
        assert TRANSITIONS[sold] <= {"committed", "partially_refunded", "refunded"}
    assert "active" not in set().union(*(TRANSITIONS[s] for s in TRANSITIONS if s != "active"))
