"""Commit: the customer paid, so the held stock leaves (stock and reserved both decrease).

A payment is never refused: the money was taken. A hold that was released or expired is
committed late from available stock; whatever cannot be covered is recorded as a shortfall
on the reservation with a critical errorLog for a person (design rule 5).
"""

from __future__ import annotations

from schemas.operations import CommitRequest, CommitResult, ItemChange, ShortfallOutcome
from schemas.reservation import (
    SOLD,
    Allocation,
    ReservationItem,
    ShortfallLine,
    StockReservation,
)
from service.engine.errors import ReservationNotFound
from service.engine.model import transitions
from service.engine.model.holds import load_reservation, save_reservation
from service.engine.model.locations import LocationDelta, merge
from service.engine.model.plan import Plan
from service.engine.model.stock import Cell, ProductStock


def commit_result(
    reservation: StockReservation, *, replayed: bool, payment_ref: str | None = None
) -> CommitResult:
    return CommitResult(
        session_id=reservation.session_id,
        reservation_id=reservation.id,
        status=reservation.status,
        payment_ref=reservation.payment_ref if replayed else payment_ref,
        late=bool(reservation.late_commit),
        committed=[
            ItemChange(
                product_id=item.product_id,
                variant_key=item.variant_key,
                size=item.size,
                quantity=item.committed_quantity,
            )
            for item in reservation.items
            if item.committed_quantity
        ],
        backordered=[
            ItemChange(
                product_id=item.product_id,
                variant_key=item.variant_key,
                size=item.size,
                quantity=item.backorder_quantity,
            )
            for item in reservation.items
            if item.backorder_quantity
        ]
        or None,
        shortfall=[
            ShortfallOutcome(
                product_id=line.product_id,
                variant_key=line.variant_key,
                size=line.size,
                requested=line.requested,
                committed=line.committed,
                missing=line.missing,
            )
            for line in reservation.shortfall
        ],
        replayed=replayed,
    )


def plan_commit(
    plan: Plan[CommitResult], request: CommitRequest, reservation_id: str
) -> Plan[CommitResult]:
    reservation = load_reservation(plan, reservation_id)
    if reservation is None:
        return plan.fail(ReservationNotFound(request.session_id))
    if reservation.status in SOLD:
        # Paid already: every later delivery of the payment is the same payment.
        return plan.succeed(commit_result(reservation, replayed=True))
    late = reservation.status != "active"
    taken_by_item: dict[str, int] = {}
    recorded: dict[str, dict[str, object]] = {}
    shortfall: list[ShortfallLine] = []
    owed_any = False
    for item in reservation.items:
        paid = item.held
        taken, owed, allocations = _take(plan, reservation, item, paid, late)
        taken_by_item[item.key] = taken
        if allocations is not None:
            recorded.setdefault(item.key, {})["allocations"] = allocations
        if owed or item.backordered is not None:
            recorded.setdefault(item.key, {})["backorder_quantity"] = owed
            owed_any = owed_any or owed > 0
        if taken + owed < paid:
            shortfall.append(
                ShortfallLine(
                    key=item.key,
                    product_id=item.product_id,
                    variant_key=item.variant_key,
                    size=item.size,
                    requested=paid,
                    committed=taken + owed,
                    missing=paid - taken - owed,
                )
            )
    updated = transitions.commit(
        reservation,
        plan.now,
        taken=taken_by_item,
        payment_ref=request.payment_ref,
        shortfall=shortfall,
    )
    if recorded:
        updated = transitions.with_item_fields(
            updated, recorded, open_backorder=True if owed_any else None
        )
    if shortfall:
        plan.log_error(
            "stock_deduction",
            "critical",
            "paid but no stock: "
            + ", ".join(f"{line.missing} x {line.product_id}" for line in shortfall),
            details={
                "paymentRef": request.payment_ref,
                "late": late,
                "shortfall": [line.to_json_dict() for line in shortfall],
            },
            session_id=reservation.session_id,
            product_id=shortfall[0].product_id,
        )
    save_reservation(plan, updated)
    return plan.succeed(commit_result(updated, replayed=False, payment_ref=request.payment_ref))


def _take(
    plan: Plan[CommitResult],
    reservation: StockReservation,
    item: ReservationItem,
    paid: int,
    late: bool,
) -> tuple[int, int, list[Allocation] | None]:
    """Deduct up to `paid` units of one item from stock; under a backorder or pre-order
    policy the rest is owed as a backorder (within the backorder limit). Returns (taken
    from stock, owed, where they were taken); whatever is neither is a shortfall."""
    if paid <= 0:
        return 0, 0, item.allocations
    stock = plan.product(item.product_id)
    cell = stock.find_item(item) if stock else None
    if stock is None or cell is None:
        return 0, 0, item.allocations
    beyond = 0 if late else min(paid, item.held_backordered)
    covered = paid - beyond
    allocations = item.allocations
    if stock.located(cell):
        taken, allocations = _take_at_locations(plan, reservation, item, stock, cell, covered, late)
        taken += _unhold(plan, reservation, stock, cell, beyond)
    elif late:
        # The hold is gone: take only what nobody else holds.
        taken = min(paid, stock.available(cell))
        if taken:
            plan.move(
                stock,
                cell,
                entry_type="sale",
                stock_change=-taken,
                reference=reservation.session_id,
                reason="late payment",
            )
    else:
        # Stock no other hold counts on may cover units this one held beyond stock (a
        # restock came in meanwhile); units held from stock come from stock first.
        free = max(0, stock.stock(cell) - (stock.reserved(cell) - covered))
        taken = min(paid, max(0, stock.stock(cell)), max(covered, free))
        unreserve = min(covered, max(0, stock.reserved(cell)))
        _check_reserved(plan, reservation, stock, cell, unreserve, covered, paid)
        unhold = min(beyond, stock.backorder_reserved(cell))
        if taken or unreserve or unhold:
            plan.move(
                stock,
                cell,
                entry_type="sale",
                stock_change=-taken,
                reserved_change=-unreserve,
                backorder_reserved_change=-unhold,
                reference=reservation.session_id,
            )
    owed = 0
    can_owe = stock.backorder_available(cell)
    if taken < paid and (can_owe is None or can_owe > 0):
        owed = paid - taken if can_owe is None else min(paid - taken, can_owe)
        plan.move(
            stock,
            cell,
            entry_type="backorder",
            backordered_change=owed,
            reference=reservation.session_id,
            reason="paid beyond stock: owed until a restock fills it",
        )
    return taken, owed, allocations


def _check_reserved(
    plan: Plan[CommitResult],
    reservation: StockReservation,
    stock: ProductStock,
    cell: Cell,
    unreserve: int,
    covered: int,
    paid: int,
) -> None:
    if unreserve < covered:
        plan.log_error(
            "reconciliation",
            "high",
            f"reserved count of {stock.name(cell)} was lower than the paid hold",
            details={"reserved": stock.reserved(cell), "paid": paid},
            session_id=reservation.session_id,
            product_id=stock.id,
        )


def _unhold(
    plan: Plan[CommitResult],
    reservation: StockReservation,
    stock: ProductStock,
    cell: Cell,
    beyond: int,
) -> int:
    """Paid units held beyond stock stop being held; stock that came in since covers what
    it can (from active locations in priority order). Returns the units taken."""
    if beyond <= 0:
        return 0
    unhold = min(beyond, stock.backorder_reserved(cell))
    extra = stock.allocate(cell, beyond)
    taken = sum(units for _, units in extra)
    if unhold or taken:
        plan.move(
            stock,
            cell,
            entry_type="sale",
            stock_change=-taken,
            backorder_reserved_change=-unhold,
            reference=reservation.session_id,
            at={location: (-units, 0) for location, units in extra},
        )
    return taken


def _take_at_locations(
    plan: Plan[CommitResult],
    reservation: StockReservation,
    item: ReservationItem,
    stock: ProductStock,
    cell: Cell,
    covered: int,
    late: bool,
) -> tuple[int, list[Allocation]]:
    """A paid hold of a product stocked by location: each allocation's units leave the
    location that held them; a shortfall there (or a late payment) is taken from what
    active locations have free, in priority order."""
    at: dict[str, LocationDelta] = {}
    kept: list[Allocation] = []
    taken = unreserve = 0
    if not late:
        for allocation in item.allocations or []:
            units = allocation.quantity
            here = min(units, max(0, stock.loc_stock(cell, allocation.location)))
            held = min(units, max(0, stock.loc_reserved(cell, allocation.location)))
            merge(at, {allocation.location: (-here, -held)})
            taken += here
            unreserve += held
            kept.append(allocation.model_copy(update={"committed": here}))
        if not item.allocations and covered:
            # Held before the product was stocked by location: let go where it is held.
            unreserve = min(covered, max(0, stock.reserved(cell)))
            merge(at, stock.distribute(cell, 0, -unreserve))
        _check_reserved(plan, reservation, stock, cell, unreserve, covered, covered)
        if taken or unreserve:
            plan.move(
                stock,
                cell,
                entry_type="sale",
                stock_change=-taken,
                reserved_change=-unreserve,
                reference=reservation.session_id,
                at=at,
            )
    extra = stock.allocate(cell, covered - taken)
    if extra:
        units = sum(n for _, n in extra)
        plan.move(
            stock,
            cell,
            entry_type="sale",
            stock_change=-units,
            reference=reservation.session_id,
            reason="late payment" if late else None,
            at={location: (-n, 0) for location, n in extra},
        )
        taken += units
        kept += [
            Allocation(key=f"x{n}", location=location, quantity=0, committed=units_here)
            for n, (location, units_here) in enumerate(extra)
        ]
    return taken, kept
