"""Commit: the customer paid, so the held stock leaves (stock and reserved both decrease).

A payment is never refused: the money was taken. A hold that was released or expired is
committed late from available stock; whatever cannot be covered is recorded as a shortfall
on the reservation with a critical errorLog for a person (design rule 5).
"""

from __future__ import annotations

from schemas.operations import CommitRequest, CommitResult, ItemChange, ShortfallOutcome
from schemas.reservation import SOLD, ReservationItem, ShortfallLine, StockReservation
from service.engine.errors import ReservationNotFound
from service.engine.model import transitions
from service.engine.model.holds import load_reservation, save_reservation
from service.engine.model.plan import Plan


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
    shortfall: list[ShortfallLine] = []
    for item in reservation.items:
        paid = item.held
        taken = _take(plan, reservation, item, paid, late)
        taken_by_item[item.key] = taken
        if taken < paid:
            shortfall.append(
                ShortfallLine(
                    key=item.key,
                    product_id=item.product_id,
                    variant_key=item.variant_key,
                    size=item.size,
                    requested=paid,
                    committed=taken,
                    missing=paid - taken,
                )
            )
    updated = transitions.commit(
        reservation,
        plan.now,
        taken=taken_by_item,
        payment_ref=request.payment_ref,
        shortfall=shortfall,
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
) -> int:
    """Deduct up to `paid` units of one item; returns how many were actually deducted."""
    if paid <= 0:
        return 0
    stock = plan.product(item.product_id)
    cell = stock.find_item(item) if stock else None
    if stock is None or cell is None:
        return 0
    if late:
        # The hold is gone: take only what nobody else holds.
        taken = min(paid, stock.available(cell))
        unreserve = 0
    else:
        taken = min(paid, max(0, stock.stock(cell)))
        unreserve = min(paid, max(0, stock.reserved(cell)))
        if unreserve < paid:
            plan.log_error(
                "reconciliation",
                "high",
                f"reserved count of {stock.name(cell)} was lower than the paid hold",
                details={"reserved": stock.reserved(cell), "paid": paid},
                session_id=reservation.session_id,
                product_id=item.product_id,
            )
    if taken or unreserve:
        plan.move(
            stock,
            cell,
            entry_type="sale",
            stock_change=-taken,
            reserved_change=-unreserve,
            reference=reservation.session_id,
            reason="late payment" if late else None,
        )
    return taken
