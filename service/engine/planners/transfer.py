"""Transfer: move available units of one product or variant between two stock locations.

Atomic: both rows change in one guarded transaction with a `transfer` ledger entry on each
side; totals do not move. Only units nobody holds can leave (`from` keeps its reserved).
"""

from __future__ import annotations

from collections.abc import Mapping

from schemas.operations import TransferRequest, TransferResult
from service.engine.errors import (
    InvalidRequest,
    InventoryError,
    LocationNotFound,
    LocationStockShort,
)
from service.engine.model.plan import Plan


def plan_transfer(
    plan: Plan[TransferResult],
    request: TransferRequest,
    *,
    resolved: Mapping[str, str | None],
    locations: Mapping[str, str | None],
) -> Plan[TransferResult]:
    """`locations`: slug -> stockLocation `_id` (None: no such location), read fresh."""
    found = plan.line_named(request.product_id, resolved, request.variant_key, request.size)
    if isinstance(found, InventoryError):
        return plan.fail(found)
    stock, cell = found
    source, target = locations.get(request.from_location), locations.get(request.to_location)
    for slug, location_id in ((request.from_location, source), (request.to_location, target)):
        if location_id is None:
            return plan.fail(LocationNotFound(slug))
    assert source is not None and target is not None
    if source == target:
        return plan.fail(InvalidRequest("from and to are the same location", field="to"))
    if not stock.located(cell):
        return plan.fail(
            InvalidRequest(
                f"{stock.name(cell)} is not stocked by location (no locationStock)",
                field="productId",
            )
        )
    free = max(0, stock.loc_stock(cell, source) - stock.loc_reserved(cell, source))
    if free < request.quantity:
        return plan.fail(
            LocationStockShort(
                f"{stock.name(cell)} at {request.from_location}: {free} available to move, "
                f"{request.quantity} asked",
                details={
                    "productId": stock.id,
                    "location": request.from_location,
                    "available": free,
                    "requested": request.quantity,
                },
            )
        )
    out = plan.move(
        stock,
        cell,
        entry_type="transfer",
        reason=f"to {request.to_location}" + (f": {request.note}" if request.note else ""),
        actor=request.actor,
        at={source: (-request.quantity, 0)},
    )
    into = plan.move(
        stock,
        cell,
        entry_type="transfer",
        reason=f"from {request.from_location}" + (f": {request.note}" if request.note else ""),
        actor=request.actor,
        at={target: (request.quantity, 0)},
    )
    return plan.succeed(
        TransferResult(
            product_id=stock.id,
            variant_key=cell.variant_key,
            size=cell.size,
            from_location=request.from_location,
            to_location=request.to_location,
            quantity=request.quantity,
            from_stock=stock.loc_stock(cell, source),
            to_stock=stock.loc_stock(cell, target),
            ledger_ids=[out.id, into.id],
        )
    )
