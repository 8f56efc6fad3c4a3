"""Adjust: a person changes stock on hand (restock, correction, damage, return, initial)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from schemas.operations import AdjustRequest, AdjustResult
from service.engine.errors import (
    BelowReserved,
    InvalidAdjustment,
    ProductNotFound,
    ProductQuarantined,
    VariantNotFound,
)
from service.engine.model.backorders import fill_oldest_first
from service.engine.model.holds import load_reservation
from service.engine.model.plan import Plan
from service.engine.model.stock import Cell


def validate_adjust(request: AdjustRequest) -> None:
    if (request.set_to is None) == (request.delta is None):
        raise InvalidAdjustment("give exactly one of setTo and delta")
    if request.set_to is not None and request.set_to < 0:
        raise InvalidAdjustment(f"stock cannot be set to {request.set_to}: below zero")


def plan_adjust(
    plan: Plan[AdjustResult],
    request: AdjustRequest,
    *,
    resolved: Mapping[str, str | None],
    backorders: Sequence[str] = (),
) -> Plan[AdjustResult]:
    """`backorders`: reservations (read fresh) that may owe units of the product; a
    restock fills them oldest first before any unit becomes available."""
    product_id = resolved.get(request.product_id)
    stock = plan.product(product_id) if product_id else None
    if stock is None:
        if product_id in plan.quarantined:
            return plan.fail(ProductQuarantined(plan.quarantined[product_id]))
        return plan.fail(ProductNotFound(request.product_id))
    found = stock.find(request.variant_key, request.size)
    if not isinstance(found, Cell):
        return plan.fail(VariantNotFound(request.product_id, request.variant_key or request.size))
    cell = found
    before = stock.stock(cell)
    after = request.set_to if request.set_to is not None else before + (request.delta or 0)
    if after < 0:
        return plan.fail(
            InvalidAdjustment(
                f"stock of {stock.name(cell)} would go below zero: {before} -> {after}",
                details={"productId": stock.id, "stock": before, "delta": request.delta},
            )
        )
    reserved = stock.reserved(cell)
    # Lowering stock under what open checkouts hold means paying them would oversell; a
    # restock that still leaves it under (after drift) is an improvement and goes through.
    if after < reserved and after < before and not request.allow_below_reserved:
        return plan.fail(
            BelowReserved(
                f"stock of {stock.name(cell)} would be {after}, below the {reserved} units "
                f"reserved by open checkouts: paying them would oversell. Release or let "
                "those holds expire first, or set allowBelowReserved to do it anyway",
                details={"productId": stock.id, "stock": before, "reserved": reserved},
            )
        )
    entry_id = None
    filled = 0
    if after != before:
        entry_id = plan.move(
            stock,
            cell,
            entry_type=request.reason,
            stock_change=after - before,
            reference=request.reference,
            reason=request.note,
            actor=request.actor,
        ).id
    if after > before and stock.backordered(cell) > 0:
        owing = [r for rid in backorders if (r := load_reservation(plan, rid)) is not None]
        filled = fill_oldest_first(
            plan,
            stock,
            cell,
            owing,
            after - before,
            reference=request.reference,
            actor=request.actor,
        )
    return plan.succeed(
        AdjustResult(
            product_id=stock.id,
            variant_key=cell.variant_key,
            size=cell.size,
            reason=request.reason,
            previous_stock=before,
            new_stock=stock.stock(cell),
            reserved=stock.reserved(cell),
            available=stock.available(cell),
            ledger_id=entry_id,
            backorder_filled=filled or None,
            backordered=stock.backordered(cell) if stock.has_policy(cell) else None,
        )
    )
