"""Moves of a reservation that give its held stock back: release and expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from schemas.operations import ReleaseRequest, ReleaseResult
from schemas.reservation import ReservationItem, StockReservation
from service.engine.errors import ReservationNotActive, ReservationNotFound
from service.engine.model.holds import (
    give_back,
    load_reservation,
    match_lines,
    save_reservation,
    split_held,
)
from service.engine.model.plan import Plan
from service.engine.model.states import is_overdue


def expire_hold(plan: Plan[Any], reservation: StockReservation, grace: timedelta) -> bool:
    """Release an overdue hold with status expired; False when it is not overdue."""
    if not is_overdue(reservation, plan.now, grace):
        return False
    give_back(plan, reservation, {item.key: item.held for item in reservation.items}, "expiry")
    reservation = reservation.model_copy(update={"status": "expired", "expired_at": plan.now})
    save_reservation(plan, reservation)
    return True


def plan_expire(plan: Plan[bool], reservation_id: str, *, grace: timedelta) -> Plan[bool]:
    """Expire one reservation if it is still active and overdue; the result says if it did."""
    reservation = load_reservation(plan, reservation_id)
    if reservation is None:
        return plan.succeed(False)
    return plan.succeed(expire_hold(plan, reservation, grace))


def _shrunk(item: ReservationItem, quantity: int) -> ReservationItem:
    """The item after `quantity` of its held units were given back (beyond stock first)."""
    update: dict[str, object] = {"released_quantity": item.released_quantity + quantity}
    if item.backordered is not None:
        update["backordered"] = item.backordered - split_held(item, quantity)[1]
    return item.model_copy(update=update)


def plan_release(
    plan: Plan[ReleaseResult], request: ReleaseRequest, reservation_id: str
) -> Plan[ReleaseResult]:
    """Release the whole hold, or some lines of it; only an active reservation."""
    reservation = load_reservation(plan, reservation_id)
    if reservation is None:
        return plan.fail(ReservationNotFound(request.session_id))
    if reservation.status != "active":
        return plan.fail(ReservationNotActive(request.session_id, reservation.status))
    held = {item.key: item.held for item in reservation.items}
    wanted = (
        held
        if request.lines is None
        else match_lines(plan, reservation, request.lines, held, "release")
    )
    whole = all(wanted.get(key, 0) == quantity for key, quantity in held.items())
    released = give_back(plan, reservation, wanted, "release")
    if whole:
        # Items keep what the cart held when it left `active`: a late payment needs it.
        updated = reservation.model_copy(update={"status": "released", "released_at": plan.now})
    else:
        items = [_shrunk(item, wanted.get(item.key, 0)) for item in reservation.items]
        updated = reservation.model_copy(update={"items": items})
    save_reservation(plan, updated)
    return plan.succeed(
        ReleaseResult(
            session_id=request.session_id,
            reservation_id=reservation_id,
            status=updated.status,
            released=released,
        )
    )
