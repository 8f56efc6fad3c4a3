"""Restore: a refund, cancellation or return puts sold units back in stock, once per reference."""

from __future__ import annotations

from schemas.ledger import LedgerEntryType
from schemas.operations import ItemChange, RestoreRequest, RestoreResult
from schemas.reservation import SOLD, RestoreReason
from service.engine.errors import ReservationNotCommitted, ReservationNotFound
from service.engine.model import transitions
from service.engine.model.backorders import put_back, still_open
from service.engine.model.holds import load_reservation, match_lines, save_reservation
from service.engine.model.plan import Plan

_ENTRY_TYPE: dict[RestoreReason, LedgerEntryType] = {
    "refund": "refund",
    "cancellation": "cancellation",
    "return": "return",
}


def restore_key(reservation_id: str, reference: str) -> str:
    """The idempotency key that makes a restore happen once per reference."""
    return f"restore:{reservation_id}:{reference}"


def plan_restore(
    plan: Plan[RestoreResult], request: RestoreRequest, reservation_id: str
) -> Plan[RestoreResult]:
    reservation = load_reservation(plan, reservation_id)
    if reservation is None:
        return plan.fail(ReservationNotFound(request.session_id))
    for refund in reservation.refunds:
        if refund.reference == request.reference:
            # Applied before and its idempotency record is gone (past retention).
            return plan.succeed(
                RestoreResult(
                    session_id=request.session_id,
                    reservation_id=reservation_id,
                    reference=request.reference,
                    reason=refund.reason,
                    status=reservation.status,
                    restored=[],
                    replayed=True,
                )
            )
    if reservation.status not in SOLD:
        return plan.fail(ReservationNotCommitted(request.session_id, reservation.status))
    restorable = {item.key: item.restorable for item in reservation.items}
    wanted = (
        restorable
        if request.lines is None
        else match_lines(plan, reservation, request.lines, restorable, "restore")
    )
    restored: list[ItemChange] = []
    recorded: dict[str, dict[str, object]] = {}
    for item in reservation.items:
        quantity = wanted.get(item.key, 0)
        if quantity <= 0:
            continue
        restored.append(
            ItemChange(
                product_id=item.product_id,
                variant_key=item.variant_key,
                size=item.size,
                quantity=quantity,
            )
        )
        stock = plan.product(item.product_id)
        cell = stock.find_item(item) if stock else None
        if stock is None or cell is None:
            plan.log_error(
                "stock_restore",
                "high",
                "cannot restore stock of a product or variant that no longer exists",
                details={"item": item.to_json_dict(), "quantity": quantity},
                session_id=reservation.session_id,
                product_id=item.product_id,
            )
            continue
        after = put_back(
            plan,
            stock,
            cell,
            item,
            quantity,
            entry_type=_ENTRY_TYPE[request.reason],
            reference=request.reference,
            reason=f"{request.reason} for session {reservation.session_id}",
        )
        if after.backorder_cancelled != item.backorder_cancelled:
            recorded.setdefault(item.key, {})["backorder_cancelled"] = after.backorder_cancelled
        if after.allocations != item.allocations:
            recorded.setdefault(item.key, {})["allocations"] = after.allocations
    updated = transitions.restore(
        reservation,
        plan.now,
        added={key: quantity for key, quantity in wanted.items() if quantity > 0},
        reference=request.reference,
        reason=request.reason,
    )
    if recorded:
        updated = transitions.with_item_fields(updated, recorded)
        updated = updated.model_copy(
            update={"open_backorder": still_open(updated.items, reservation.open_backorder)}
        )
    save_reservation(plan, updated)
    return plan.succeed(
        RestoreResult(
            session_id=request.session_id,
            reservation_id=reservation_id,
            reference=request.reference,
            reason=request.reason,
            status=updated.status,
            restored=restored,
        )
    )
