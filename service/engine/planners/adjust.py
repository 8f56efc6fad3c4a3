"""Adjust: a person changes stock on hand (restock, correction, damage, return, initial)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from schemas.operations import AdjustRequest, AdjustResult
from service.engine.errors import (
    BelowReserved,
    InvalidAdjustment,
    InvalidRequest,
    InventoryError,
    LocationNotFound,
)
from service.engine.model.backorders import fill_oldest_first
from service.engine.model.holds import load_reservation
from service.engine.model.plan import Plan
from service.engine.model.stock import Cell, ProductStock


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
    locations: Mapping[str, str | None] | None = None,
) -> Plan[AdjustResult]:
    """`backorders`: reservations (read fresh) that may owe units of the product; a
    restock fills them oldest first before any unit becomes available."""
    found = plan.line_named(request.product_id, resolved, request.variant_key, request.size)
    if isinstance(found, InventoryError):
        return plan.fail(found)
    stock, cell = found
    location = None
    if stock.located(cell) or request.location is not None:
        if request.location is None:
            return plan.fail(
                InvalidRequest(
                    f"{stock.name(cell)} is stocked by location: name the location "
                    f"({', '.join(_slugs(stock, cell))})",
                    field="location",
                )
            )
        location = (locations or {}).get(request.location)
        if location is None:
            return plan.fail(LocationNotFound(request.location))
        if not stock.located(cell):
            return plan.fail(
                InvalidRequest(
                    f"{stock.name(cell)} is not stocked by location; adjust it without one",
                    field="location",
                )
            )
    return _adjust(plan, request, stock, cell, location, backorders)


def _slugs(stock: ProductStock, cell: Cell) -> list[str]:
    return [stock.site(loc).slug or loc for loc in stock.in_order(cell, active=False)]


def _adjust(
    plan: Plan[AdjustResult],
    request: AdjustRequest,
    stock: ProductStock,
    cell: Cell,
    location: str | None,
    backorders: Sequence[str],
) -> Plan[AdjustResult]:
    """Stock of the line (or, given a `location`, at that location of a line stocked by
    location; the total moves by the same delta) never below zero, nor below what open
    checkouts hold there unless the request overrides; a restock fills open backorders
    oldest first before any unit becomes available."""
    where = (request.location or location) if location else None
    here, place = (f" at {where}", {"location": where}) if where else ("", {})
    before = stock.stock(cell)
    before_here = stock.loc_stock(cell, location) if location else before
    after_here = (
        request.set_to if request.set_to is not None else before_here + (request.delta or 0)
    )
    if after_here < 0:
        return plan.fail(
            InvalidAdjustment(
                f"stock of {stock.name(cell)}{here} would go below zero: "
                f"{before_here} -> {after_here}",
                details={"productId": stock.id, **place, "stock": before_here},
            )
        )
    held = stock.loc_reserved(cell, location) if location else stock.reserved(cell)
    # Lowering stock under what open checkouts hold means paying them would oversell; a
    # restock that still leaves it under (after drift) is an improvement and goes through.
    if after_here < held and after_here < before_here and not request.allow_below_reserved:
        return plan.fail(
            BelowReserved(
                f"stock of {stock.name(cell)}{here} would be {after_here}, below the {held} "
                f"units reserved{' there' if where else ''} by open checkouts: paying them "
                "would oversell. Release or let those holds expire first, or set "
                "allowBelowReserved to do it anyway",
                details={"productId": stock.id, **place, "stock": before_here, "reserved": held},
            )
        )
    change = after_here - before_here
    entry_id = None
    if change:
        entry_id = plan.move(
            stock,
            cell,
            entry_type=request.reason,
            stock_change=change,
            reference=request.reference,
            reason=request.note,
            actor=request.actor,
            at={location: (change, 0)} if location else None,
        ).id
    filled = 0
    if change > 0 and stock.backordered(cell) > 0:
        owing = [r for rid in backorders if (r := load_reservation(plan, rid)) is not None]
        filled = fill_oldest_first(
            plan,
            stock,
            cell,
            owing,
            change,
            reference=request.reference,
            actor=request.actor,
            location=location,
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
            location=where,
            location_stock=stock.loc_stock(cell, location) if location else None,
        )
    )
