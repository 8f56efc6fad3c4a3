"""Moves of a reservation that give its held stock back: release and expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from schemas.operations import ItemChange, ReleaseRequest, ReleaseResult
from schemas.reservation import StockReservation
from service.engine.errors import ReservationNotActive, ReservationNotFound
from service.engine.model import transitions
from service.engine.model.holds import (
    give_back,
    load_reservation,
    match_lines,
    release_allocations,
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
    save_reservation(plan, transitions.expire(reservation, plan.now))
    return True


def plan_expire(plan: Plan[bool], reservation_id: str, *, grace: timedelta) -> Plan[bool]:
    """Expire one reservation if it is still active and overdue; the result says if it did."""
    reservation = load_reservation(plan, reservation_id)
    if reservation is None:
        return plan.succeed(False)
    return plan.succeed(expire_hold(plan, reservation, grace))


def plan_release(
    plan: Plan[ReleaseResult], request: ReleaseRequest, reservation_id: str
) -> Plan[ReleaseResult]:
    """Release the whole hold, or some lines of it; only an active reservation, except
    that a whole release of a released hold replays (200, `replayed`)."""
    reservation = load_reservation(plan, reservation_id)
    if reservation is None:
        return plan.fail(ReservationNotFound(request.session_id))
    if reservation.status == "released" and request.lines is None:
        # A whole release sent again (its answer was lost, or the shopper clicked twice):
        # what was asked is what holds, so the answer is the release, replayed.
        return plan.succeed(
            ReleaseResult(
                session_id=request.session_id,
                reservation_id=reservation_id,
                status="released",
                released=[
                    ItemChange(
                        product_id=item.product_id,
                        variant_key=item.variant_key,
                        size=item.size,
                        quantity=item.held,
                    )
                    for item in reservation.items
                    if item.held > 0
                ],
                replayed=True,
            )
        )
    if reservation.status != "active":
        return plan.fail(ReservationNotActive(request.session_id, reservation.status))
    held = {item.key: item.held for item in reservation.items}
    wanted = (
        held
        if request.lines is None
        else match_lines(plan, reservation, request.lines, held, "release")
    )
    released = give_back(plan, reservation, wanted, "release")
    updated = transitions.release(reservation, plan.now, wanted)
    if updated.status == "active":
        # Still held: units beyond stock were given back first, then the lowest-priority
        # locations' units.
        shrunk: dict[str, dict[str, object]] = {}
        for item in reservation.items:
            units = wanted.get(item.key, 0)
            if units <= 0:
                continue
            covered, beyond = split_held(item, units)
            if item.backordered is not None:
                shrunk.setdefault(item.key, {})["backordered"] = item.backordered - beyond
            if item.allocations:
                # The locations keep what is still held there.
                kept = release_allocations(item, covered)[0]
                shrunk.setdefault(item.key, {})["allocations"] = kept
        if shrunk:
            updated = transitions.with_item_fields(updated, shrunk)
    save_reservation(plan, updated)
    return plan.succeed(
        ReleaseResult(
            session_id=request.session_id,
            reservation_id=reservation_id,
            status=updated.status,
            released=released,
        )
    )
