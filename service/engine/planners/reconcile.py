"""Reconcile: recompute reserved counters from the active reservations, the source of truth.

Counters drift when a stale Studio draft is published over the service's writes, or when
someone edits them by hand. The repair sets the published document and every copy to the
recomputed value, writes a `reconcile` ledger entry per changed cell and one errorLog
saying what drifted; stock on hand has no other source of truth and is only reported
(`negative_stock`, logged by the sweep).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from schemas.base import format_timestamp
from schemas.ids import error_id_for_key
from schemas.operations import CellDrift
from schemas.product import Quarantine
from service.engine.model.holds import load_reservation
from service.engine.model.plan import Plan
from service.engine.model.stock import (
    BACKORDER_RESERVED_FIELD,
    BACKORDERED_FIELD,
    STOCK_FIELD,
    Cell,
    ProductStock,
)


@dataclass
class ProductReconcile:
    product_id: str
    repaired: list[CellDrift] = field(default_factory=list)
    negative_stock: list[CellDrift] = field(default_factory=list)
    stale_copies: list[str] = field(default_factory=list)
    settling: bool = False
    #: Why the product's stock fields cannot be read (it is skipped, not repaired).
    quarantine: Quarantine | None = None


def expected_reserved(
    plan: Plan[ProductReconcile], stock: ProductStock, reservation_ids: Sequence[str]
) -> dict[str, int]:
    """Units the active reservations among `reservation_ids` hold, per cell of `stock`."""
    expected = {cell.ident: 0 for cell in stock.cells()}
    for reservation_id in reservation_ids:
        reservation = load_reservation(plan, reservation_id)
        if reservation is None or reservation.status != "active":
            continue
        for item in reservation.items:
            if item.product_id != stock.id:
                continue
            cell = stock.find_item(item)
            if cell is not None:
                expected[cell.ident] += item.held - item.held_backordered
    return expected


def expected_owed(
    plan: Plan[ProductReconcile], stock: ProductStock, reservation_ids: Sequence[str]
) -> dict[str, tuple[int, int]]:
    """Per cell: (paid units still owed, units held beyond stock), from the reservations."""
    owed = {cell.ident: [0, 0] for cell in stock.cells()}
    for reservation_id in reservation_ids:
        reservation = load_reservation(plan, reservation_id)
        if reservation is None:
            continue
        for item in reservation.items:
            cell = stock.find_item(item) if item.product_id == stock.id else None
            if cell is None:
                continue
            owed[cell.ident][0] += item.open_backorder
            if reservation.status == "active":
                owed[cell.ident][1] += item.held_backordered
    return {ident: (pair[0], pair[1]) for ident, pair in owed.items()}


def expected_at_locations(
    plan: Plan[ProductReconcile], stock: ProductStock, reservation_ids: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Per cell and location: units the active reservations' allocations hold there."""
    held: dict[str, dict[str, int]] = {}
    for reservation_id in reservation_ids:
        reservation = load_reservation(plan, reservation_id)
        if reservation is None or reservation.status != "active":
            continue
        for item in reservation.items:
            cell = stock.find_item(item) if item.product_id == stock.id else None
            if cell is None:
                continue
            for allocation in item.allocations or []:
                at = held.setdefault(cell.ident, {})
                at[allocation.location] = at.get(allocation.location, 0) + allocation.quantity
    return held


def _repair_locations(
    plan: Plan[ProductReconcile],
    stock: ProductStock,
    cell: Cell,
    expected: dict[str, int],
    outcome: ProductReconcile,
) -> None:
    """Each location's reserved is what the open allocations hold there, and the cell's
    stock total is the sum over its locations (rebuilt from them when it drifted)."""
    for location in stock.locations(cell):
        recorded = stock.loc_reserved(cell, location)
        value = expected.get(location, 0)
        if recorded != value:
            plan.repair_counter(stock, cell, f"@{location}/reserved", value, reference="reconcile")
            outcome.repaired.append(_drift(cell, recorded, value, "reserved", location))
    total = sum(stock.loc_stock(cell, location) for location in stock.locations(cell))
    if stock.stock(cell) != total:
        recorded = stock.stock(cell)
        plan.repair_counter(stock, cell, STOCK_FIELD, total, reference="reconcile")
        outcome.repaired.append(_drift(cell, recorded, total, STOCK_FIELD))


def _repair_owed(
    plan: Plan[ProductReconcile],
    stock: ProductStock,
    cell: Cell,
    expected: tuple[int, int],
    outcome: ProductReconcile,
) -> None:
    """Backorder counters drift like reserved ones (a stale publish): set them from the
    reservations, with a `reconcile` ledger entry each."""
    for counter, recorded, value in (
        (BACKORDERED_FIELD, stock.backordered(cell), expected[0]),
        (BACKORDER_RESERVED_FIELD, stock.backorder_reserved(cell), expected[1]),
    ):
        stale = stock.stale_copies(cell, value, counter)
        if recorded == value and not stale:
            continue
        plan.repair_counter(stock, cell, counter, value, reference="reconcile")
        outcome.stale_copies.extend(s for s in stale if s not in outcome.stale_copies)
        if recorded != value:
            outcome.repaired.append(_drift(cell, recorded, value, counter))


def _drift(
    cell: Cell,
    recorded: int,
    expected: int,
    field: str | None = None,
    location: str | None = None,
) -> CellDrift:
    return CellDrift(
        product_id=cell.product_id,
        variant_key=cell.variant_key,
        size=cell.size,
        recorded=recorded,
        expected=expected,
        counter=field,
        location=location,
    )


def plan_reconcile_product(
    plan: Plan[ProductReconcile],
    product_id: str,
    reservation_ids: Sequence[str],
    *,
    changed_after: datetime | None = None,
) -> Plan[ProductReconcile]:
    """Repair one product's reserved counters.

    `reservation_ids` must name every active reservation of the product (found by a query
    run before the read). A product changed after `changed_after` is left alone: a query may
    not show the reservation that changed it yet.
    """
    outcome = ProductReconcile(product_id)
    stock = plan.product(product_id)
    if stock is None:
        outcome.quarantine = plan.quarantined.get(product_id)
        return plan.succeed(outcome)
    updated = _timestamp(stock.doc.get("_updatedAt"))
    if changed_after is not None and updated is not None and updated > changed_after:
        outcome.settling = True
        return plan.succeed(outcome)
    expected = expected_reserved(plan, stock, reservation_ids)
    owed = expected_owed(plan, stock, reservation_ids)
    held_at = expected_at_locations(plan, stock, reservation_ids)
    for cell in stock.cells():
        _repair_owed(plan, stock, cell, owed.get(cell.ident, (0, 0)), outcome)
        if stock.located(cell):
            _repair_locations(plan, stock, cell, held_at.get(cell.ident, {}), outcome)
        recorded = stock.reserved(cell)
        stale = stock.stale_copies(cell, expected[cell.ident])
        if recorded != expected[cell.ident] or stale:
            plan.repair_reserved(stock, cell, expected[cell.ident], reference="reconcile")
            outcome.stale_copies.extend(stale)
            if recorded != expected[cell.ident]:
                outcome.repaired.append(_drift(cell, recorded, expected[cell.ident]))
        if stock.stock(cell) < 0:
            outcome.negative_stock.append(_drift(cell, stock.stock(cell), 0))
    if outcome.repaired or outcome.stale_copies:
        plan.log_error(
            "reconciliation",
            "high",
            _message(stock, outcome),
            details={
                "repaired": [d.to_json_dict() for d in outcome.repaired],
                "staleCopies": outcome.stale_copies,
            },
            product_id=product_id,
        )
    return plan.succeed(outcome)


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _message(stock: ProductStock, outcome: ProductReconcile) -> str:
    parts = [f"{d.size or 'reserved'}: {d.recorded} -> {d.expected}" for d in outcome.repaired]
    if outcome.stale_copies:
        parts.append(f"stale reserved count in {', '.join(outcome.stale_copies)}")
    return f"{stock.title or stock.id}: " + "; ".join(parts)


def negative_stock_log(plan: Plan[str], title: str, outcome: ProductReconcile) -> Plan[str]:
    """A critical errorLog for stock below zero, once per product and value."""
    values = ",".join(f"{d.size or '-'}={d.recorded}" for d in outcome.negative_stock)
    log_id = plan.log_error(
        "reconciliation",
        "critical",
        f"{title}: stock below zero ({values}); count it and adjust",
        details={"negativeStock": [d.to_json_dict() for d in outcome.negative_stock]},
        product_id=outcome.product_id,
        dedupe_key=f"negative-stock:{outcome.product_id}:{values}",
    )
    return plan.succeed(log_id)


def quarantine_log_id(quarantine: Quarantine) -> str:
    """The one errorLog of a document and cause (`quarantine_log`)."""
    return error_id_for_key(
        f"quarantine:{quarantine.product_id}:{quarantine.field}:{quarantine.reason}"
    )


def quarantine_log(plan: Plan[str], quarantine: Quarantine) -> Plan[str]:
    """One errorLog per document and cause: its id comes from the product and the field and
    reason, so every later run (and every route that meets it) finds it already there. A log
    resolved when the product read again is reopened if the same cause comes back (the plan
    must have read it: `quarantine_log_id`)."""
    log_id = plan.log_error(
        "stock_validation",
        "high",
        f"{quarantine.title}: {quarantine.field} {quarantine.reason}. stocksync skips this "
        "product (no stock shown or changed) until the field is fixed in the Studio.",
        details=quarantine.to_json_dict(),
        product_id=quarantine.product_id,
        dedupe_key=f"quarantine:{quarantine.product_id}:{quarantine.field}:{quarantine.reason}",
    )
    existing = plan.snapshot.get(log_id)
    if existing is not None and existing.get("resolved") is True:
        plan.update(log_id, {"resolved": False, "reopenedAt": format_timestamp(plan.now)})
    return plan.succeed(quarantine.product_id)


def clear_quarantine_logs(plan: Plan[list[str]], log_ids: Sequence[str]) -> Plan[list[str]]:
    """Resolve the unresolved quarantine logs among `log_ids` (read by the plan): their
    product reads again. Returns the ids resolved."""
    resolved: list[str] = []
    for log_id in log_ids:
        doc = plan.snapshot.get(log_id)
        if doc is None or doc.get("resolved") is True:
            continue
        plan.update(
            log_id,
            {
                "resolved": True,
                "resolvedAt": format_timestamp(plan.now),
                "resolvedBy": "stocksync",
                "resolutionNote": "the product's stock fields read again (reconcile)",
            },
        )
        resolved.append(log_id)
    return plan.succeed(resolved)
