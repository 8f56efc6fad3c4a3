"""Reserve: hold stock for a checkout session, all lines or none.

Lines are merged per product/variant before any check, so two lines of one size can never
jointly exceed its stock (race 2 of the storefront contract). The session's reservation is
created with `create` at an id derived from the session id: a concurrent duplicate fails on
it and, after a re-read, is answered as a replay or a conflict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from schemas.operations import LineCode, LineOutcome, LineRequest, ReserveRequest, ReserveResult
from schemas.product import Quarantine
from schemas.reservation import Allocation, ReservationItem, StockReservation
from service.engine.errors import (
    InsufficientStock,
    InvalidRequest,
    ReservationConflict,
    ReservationNotActive,
)
from service.engine.model.holds import load_reservation
from service.engine.model.plan import Plan
from service.engine.model.stock import Cell, ProductStock
from service.engine.planners.lifecycle import expire_hold
from service.engine.settings import EngineSettings

_MESSAGES: dict[LineCode, str] = {
    "product_not_found": "Product {name} not found",
    "variant_not_found": "Size {size} not found for {name}",
    "variant_required": "{name} needs a size",
}


def validate_reserve(request: ReserveRequest, settings: EngineSettings) -> None:
    """Limits that need no store read (the merged-quantity limit is checked in planning)."""
    if len(request.session_id) > settings.max_session_id_length:
        raise InvalidRequest("sessionId is too long", field="sessionId")
    if not request.lines:
        raise InvalidRequest("at least one line is needed", field="lines")
    if len(request.lines) > settings.max_lines:
        raise InvalidRequest(f"at most {settings.max_lines} lines per reservation", field="lines")
    for index, line in enumerate(request.lines):
        if line.quantity > settings.max_quantity_per_line:
            raise InvalidRequest(
                f"at most {settings.max_quantity_per_line} units per line",
                field=f"lines[{index}].quantity",
            )


def hold_duration(request: ReserveRequest, settings: EngineSettings) -> timedelta:
    """The asked TTL bounded to [min_ttl, max_ttl]; the default when none was asked."""
    if request.ttl_seconds is None:
        return settings.default_ttl
    asked = timedelta(seconds=request.ttl_seconds)
    return max(settings.min_ttl, min(settings.max_ttl, asked))


@dataclass
class _Merged:
    ref: str
    quantity: int
    variant_key: str | None
    size: str | None
    stock: ProductStock | None = None
    cell: Cell | None = None
    code: LineCode = "ok"
    refs: list[str] = field(default_factory=list)
    #: Why the product cannot be read (`code` is then `product_quarantined`).
    quarantine: Quarantine | None = None


def _merge(
    plan: Plan[Any],
    lines: Sequence[LineRequest],
    resolved: Mapping[str, str | None],
    per_line: list[_Merged] | None = None,
    *,
    refuse_quarantined: bool = True,
) -> list[_Merged]:
    """Lines merged per product/variant; `per_line` receives each line's merged entry.

    A quarantined product (design rule 10) makes a reserve refuse by name
    (`ProductQuarantined`); judged without refusing, its lines say `product_quarantined`.
    """
    merged: dict[tuple[str, ...], _Merged] = {}
    for line in lines:
        product_id = resolved.get(line.product_id)
        stock = plan.product(product_id) if product_id else None
        if refuse_quarantined:
            plan.refuse_quarantined(product_id)
        size = line.size.strip() if line.size and line.size.strip() else None
        odd = plan.quarantined.get(product_id) if product_id else None
        key: tuple[str, ...]
        if odd is not None:
            key = ("!", odd.product_id, line.variant_key or "", size or "")
            entry = _Merged(
                line.product_id,
                0,
                line.variant_key,
                size,
                code="product_quarantined",
                quarantine=odd,
            )
        elif stock is None:
            key = ("?", line.product_id, line.variant_key or "", size or "")
            entry = _Merged(line.product_id, 0, line.variant_key, size, code="product_not_found")
        else:
            found = stock.find(line.variant_key, size)
            if isinstance(found, Cell):
                key = (stock.id, found.ident)
                entry = _Merged(
                    line.product_id, 0, found.variant_key, found.size, stock=stock, cell=found
                )
            else:
                key = ("?", stock.id, line.variant_key or "", (size or "").casefold(), found)
                entry = _Merged(line.product_id, 0, line.variant_key, size, stock, code=found)
        entry = merged.setdefault(key, entry)
        entry.quantity += line.quantity
        entry.refs.append(line.product_id)
        if per_line is not None:
            per_line.append(entry)
    return list(merged.values())


def _outcome(line: _Merged, today: date) -> LineOutcome:
    stock, cell = line.stock, line.cell
    odd_id = line.quarantine.product_id if line.quarantine else None
    odd_title = line.quarantine.title if line.quarantine else None
    name = (stock.title if stock else None) or line.ref
    available = stock.available(cell) if stock and cell else 0
    code: LineCode = line.code
    beyond = max(0, line.quantity - available)
    # Policies (backorder, preorder) sell beyond stock up to what the limit leaves.
    can_owe = stock.backorder_available(cell) if stock and cell else 0
    if code == "ok" and beyond > 0 and can_owe is not None and beyond > can_owe:
        code = "insufficient_stock"
    extra: dict[str, object] = {}
    if stock is not None and cell is not None and stock.has_policy(cell):
        extra = {
            "backordered": beyond if code == "ok" else 0,
            "fulfilment": stock.fulfilment(cell, beyond if code == "ok" else 0, today),
            "backorder_available": can_owe,
        }
    if code == "insufficient_stock":
        what = f"{name} size {line.size}" if line.size else name
        message = f"Insufficient stock for {what}: requested {line.quantity}, available {available}"
        if can_owe:
            message += f" (and {can_owe} more on backorder)"
    elif code == "ok":
        message = ""
    elif line.quarantine is not None:
        odd = line.quarantine
        message = (
            f"{odd.title} cannot be sold now: its {odd.field} {odd.reason} "
            "(quarantined until fixed in the Studio)"
        )
    else:
        message = _MESSAGES[code].format(name=name, size=line.size or line.variant_key)
    return LineOutcome(
        product_id=line.ref,
        resolved_id=stock.id if stock else odd_id,
        title=stock.title if stock else odd_title,
        variant_key=line.variant_key,
        size=line.size,
        requested=line.quantity,
        available=available,
        code=code,
        message=message,
        **extra,
    )


def judge_lines(
    plan: Plan[Any], lines: Sequence[LineRequest], resolved: Mapping[str, str | None]
) -> list[LineOutcome]:
    """What a reserve of `lines` would answer for each line on the products as read, one
    outcome per line in order: lines of one product/variant are judged on their total,
    exactly as a reserve judges them (the cart check asks this; nothing is held)."""
    per_line: list[_Merged] = []
    merged = _merge(plan, lines, resolved, per_line, refuse_quarantined=False)
    outcomes = {id(line): _outcome(line, plan.now.date()) for line in merged}
    return [outcomes[id(line)] for line in per_line]


def _signature(items: Sequence[tuple[str, str | None, str | None, int]]) -> list[tuple[str, ...]]:
    return sorted(
        (product_id, key or "", (size or "").casefold(), str(quantity))
        for product_id, key, size, quantity in items
    )


def _same_lines(reservation: StockReservation, merged: Sequence[_Merged]) -> bool:
    if any(line.stock is None or line.cell is None for line in merged):
        return False
    asked = _signature(
        [
            (line.stock.id, line.cell.variant_key, line.cell.size, line.quantity)
            for line in merged
            if line.stock is not None and line.cell is not None
        ]
    )
    held = _signature(
        [
            (item.product_id, item.variant_key, item.size, item.quantity)
            for item in reservation.items
        ]
    )
    return asked == held


def replayed_result(reservation: StockReservation) -> ReserveResult:
    """The result of the reserve that created `reservation`, marked as a replay."""
    if reservation.reserve_result:
        original = ReserveResult.model_validate_json(reservation.reserve_result)
        return original.model_copy(update={"replayed": True})
    return ReserveResult(
        session_id=reservation.session_id,
        reservation_id=reservation.id,
        status=reservation.status,
        expires_at=reservation.expires_at,
        lines=[
            LineOutcome(
                product_id=item.product_id,
                resolved_id=item.product_id,
                title=item.title,
                variant_key=item.variant_key,
                size=item.size,
                requested=item.quantity,
                available=item.quantity,
            )
            for item in reservation.items
        ],
        replayed=True,
    )


def plan_reserve(
    plan: Plan[ReserveResult],
    request: ReserveRequest,
    reservation_id: str,
    *,
    resolved: Mapping[str, str | None],
    settings: EngineSettings,
    reclaimable: Sequence[str] = (),
) -> Plan[ReserveResult]:
    """Plan a reserve against the products as read.

    `resolved` maps each line's product name (`_id` or slug) to the product `_id` (None
    when unknown). `reclaimable` names expired holds read fresh that may be released first
    to make room (design rule 6); they are released even when the reserve still fails.
    """
    merged = _merge(plan, request.lines, resolved)
    existing = load_reservation(plan, reservation_id)
    if existing is not None:
        if not _same_lines(existing, merged):
            return plan.fail(ReservationConflict(request.session_id))
        if existing.status != "active":
            return plan.fail(ReservationNotActive(request.session_id, existing.status))
        return plan.succeed(replayed_result(existing))
    for line in merged:
        if line.quantity > settings.max_quantity_per_line:
            return plan.fail(
                InvalidRequest(
                    f"at most {settings.max_quantity_per_line} units of one product or size",
                    field="lines",
                )
            )
    reclaimed: list[str] = []
    for hold_id in reclaimable:
        hold = load_reservation(plan, hold_id)
        if hold is not None and expire_hold(plan, hold, settings.expire_grace):
            reclaimed.append(hold.session_id)
    outcomes = [_outcome(line, plan.now.date()) for line in merged]
    if any(outcome.code != "ok" for outcome in outcomes):
        plan.short_products = sorted(
            {o.resolved_id for o in outcomes if o.code == "insufficient_stock" and o.resolved_id}
        )
        return plan.fail(InsufficientStock(outcomes))
    items: list[ReservationItem] = []
    for index, (line, outcome) in enumerate(zip(merged, outcomes, strict=True)):
        assert line.stock is not None and line.cell is not None  # every outcome is ok
        beyond = outcome.backordered or 0
        allocations = None
        at = None
        if line.stock.located(line.cell):
            # Saleor's strategy: active locations in priority order, a line split when the
            # first is short; the reservation records where each unit is held.
            split = line.stock.allocate(line.cell, line.quantity - beyond)
            at = {location: (0, units) for location, units in split}
            allocations = [
                Allocation(key=f"a{n}", location=location, quantity=units)
                for n, (location, units) in enumerate(split)
            ]
        plan.move(
            line.stock,
            line.cell,
            entry_type="reservation",
            reserved_change=line.quantity - beyond,
            backorder_reserved_change=beyond,
            reference=request.session_id,
            at=at,
        )
        items.append(
            ReservationItem(
                key=f"line{index}",
                product_id=line.stock.id,
                variant_key=line.cell.variant_key,
                size=line.cell.size,
                title=line.stock.title,
                quantity=line.quantity,
                backordered=outcome.backordered,
                fulfilment=outcome.fulfilment,
                allocations=allocations,
            )
        )
    result = ReserveResult(
        session_id=request.session_id,
        reservation_id=reservation_id,
        status="active",
        expires_at=plan.now + hold_duration(request, settings),
        lines=outcomes,
        reclaimed=reclaimed,
    )
    reservation = StockReservation(
        id=reservation_id,
        session_id=request.session_id,
        status="active",
        items=items,
        product_ids=sorted({item.product_id for item in items}),
        created_at=plan.now,
        expires_at=result.expires_at,
        reserve_result=result.model_dump_json(by_alias=True, exclude_none=True),
    )
    plan.create(reservation.to_document())
    return plan.succeed(result)
