"""Pure helpers shared by the planners that move a reservation's stock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from schemas.operations import ItemChange, LineRequest
from schemas.reservation import Allocation, ReservationItem, StockReservation
from service.engine.errors import InvalidRequest
from service.engine.model.plan import Plan


def load_reservation(plan: Plan[Any], reservation_id: str) -> StockReservation | None:
    doc = plan.snapshot.get(reservation_id)
    if doc is None:
        return None
    return StockReservation.model_validate(doc)


def save_reservation(plan: Plan[Any], reservation: StockReservation) -> None:
    """Plan the reservation's new state as one guarded patch of its fields."""
    doc = reservation.to_document()
    doc.pop("_id")
    doc.pop("_type")
    plan.update(reservation.id, doc)


def give_back(
    plan: Plan[Any],
    reservation: StockReservation,
    quantities: dict[str, int],
    entry_type: Literal["release", "expiry"],
) -> list[ItemChange]:
    """Return held units of the given items to available stock (reserved decreases).

    A reserved counter lower than what the reservation holds means it drifted (for example
    a stale draft was published): it stops at zero, and an errorLog says so, in the same
    transaction. Reconcile recomputes such counters.
    """
    changes: list[ItemChange] = []
    for item in reservation.items:
        quantity = quantities.get(item.key, 0)
        if quantity <= 0:
            continue
        changes.append(_change(item, quantity))
        stock = plan.product(item.product_id)
        cell = stock.find_item(item) if stock else None
        if stock is None or cell is None:
            plan.log_error(
                "stock_reservation",
                "medium",
                "released a hold on a product or variant that no longer exists",
                details={"item": item.to_json_dict(), "quantity": quantity},
                session_id=reservation.session_id,
                product_id=item.product_id,
            )
            continue
        covered, beyond = split_held(item, quantity)
        amount = min(covered, stock.reserved(cell))
        owed = min(beyond, stock.backorder_reserved(cell))
        at = None
        if stock.located(cell) and item.allocations:
            # Back where they were held, each location at most what it holds.
            _, freed = release_allocations(item, covered)
            at = {
                loc: (0, -min(units, max(0, stock.loc_reserved(cell, loc))))
                for loc, units in freed.items()
            }
            amount = -sum(d[1] for d in at.values())
        if amount < covered or owed < beyond:
            plan.log_error(
                "reconciliation",
                "high",
                f"reserved count of {stock.name(cell)} was lower than the hold being released",
                details={
                    "reserved": stock.reserved(cell),
                    "releasing": quantity,
                    **({"heldBeyondStock": stock.backorder_reserved(cell)} if beyond else {}),
                },
                session_id=reservation.session_id,
                product_id=item.product_id,
            )
        if amount > 0 or owed > 0:
            plan.move(
                stock,
                cell,
                entry_type=entry_type,
                reserved_change=-amount,
                backorder_reserved_change=-owed,
                reference=reservation.session_id,
                at=at,
            )
    return changes


def release_allocations(
    item: ReservationItem, units: int
) -> tuple[list[Allocation] | None, dict[str, int]]:
    """`item`'s allocations after `units` held from stock are given back, and how many
    leave each location: the last allocated (lowest priority) first."""
    if not item.allocations:
        return item.allocations, {}
    kept = [a.model_copy() for a in item.allocations]
    freed: dict[str, int] = {}
    left = units
    for allocation in reversed(kept):
        take = min(left, allocation.quantity)
        if take > 0:
            allocation.quantity -= take
            freed[allocation.location] = freed.get(allocation.location, 0) + take
            left -= take
    return kept, freed


def split_held(item: ReservationItem, quantity: int) -> tuple[int, int]:
    """Split `quantity` held units of `item` into (from stock, beyond stock).

    Units held beyond stock (a backorder or pre-order) go first when a hold shrinks: what
    the customer keeps is then the part stock covers."""
    beyond = min(quantity, item.held_backordered)
    return quantity - beyond, beyond


def _change(item: ReservationItem, quantity: int) -> ItemChange:
    return ItemChange(
        product_id=item.product_id, variant_key=item.variant_key, size=item.size, quantity=quantity
    )


def match_lines(
    plan: Plan[Any],
    reservation: StockReservation,
    lines: Sequence[LineRequest],
    limit: dict[str, int],
    what: str,
) -> dict[str, int]:
    """Map caller lines onto the reservation's items: item key -> quantity.

    A line names its product by `_id` or slug and its variant by key or size, like a reserve
    line. Quantities are summed per item and may not exceed `limit` (what the item still has
    to give for this operation).
    """
    wanted: dict[str, int] = {}
    for index, line in enumerate(lines):
        item = _find_item(plan, reservation, line)
        if item is None:
            raise InvalidRequest(
                f"line {index + 1}: the reservation holds no {line.product_id!r}"
                + (f" size {line.size!r}" if line.size else ""),
                field=f"lines[{index}]",
            )
        wanted[item.key] = wanted.get(item.key, 0) + line.quantity
    for item in reservation.items:
        if wanted.get(item.key, 0) > limit.get(item.key, 0):
            raise InvalidRequest(
                f"cannot {what} {wanted[item.key]} of {item.product_id!r}"
                + (f" size {item.size!r}" if item.size else "")
                + f": only {limit.get(item.key, 0)} to {what}",
                field="lines",
            )
    return wanted


def _find_item(
    plan: Plan[Any], reservation: StockReservation, line: LineRequest
) -> ReservationItem | None:
    size = line.size.strip().casefold() if line.size and line.size.strip() else None
    for item in reservation.items:
        stock = plan.product(item.product_id)
        names = {item.product_id} | ({stock.slug} if stock and stock.slug else set())
        if line.product_id not in names:
            continue
        if line.variant_key:
            if item.variant_key == line.variant_key:
                return item
        elif size is not None:
            if item.size is not None and item.size.strip().casefold() == size:
                return item
        elif item.variant_key is None and item.size is None:
            return item
    return None
