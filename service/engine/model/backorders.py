"""Backorders: paid units owed beyond stock, filled by restocks, cancelled by refunds.

Pure helpers the planners share (commit records them, adjust fills them oldest first,
restore and Stripe refunds cancel them). `backorderedQuantity` on the product or variant is
the total owed; each paid reservation item records its own part (`backorderQuantity`, less
`backorderFilled` and `backorderCancelled`), which is the source of truth reconcile uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas.ledger import LedgerEntryType
from schemas.reservation import ReservationItem, StockReservation
from service.engine.model.holds import save_reservation
from service.engine.model.locations import LocationDelta, merge, take_in_order
from service.engine.model.plan import Plan
from service.engine.model.stock import Cell, ProductStock


def put_back(
    plan: Plan[Any],
    stock: ProductStock,
    cell: Cell,
    item: ReservationItem,
    quantity: int,
    *,
    entry_type: LedgerEntryType,
    reference: str | None,
    reason: str,
) -> ReservationItem:
    """Refund `quantity` paid units of `item`: units still owed are cancelled first (they
    never left stock), the rest go back to stock, to the locations they were taken from
    (products stocked by location). Returns the item with what it records updated."""
    cancel = min(quantity, item.open_backorder, max(0, stock.backordered(cell)))
    if cancel > 0:
        plan.move(
            stock,
            cell,
            entry_type="backorder_cancel",
            backordered_change=-cancel,
            reference=reference,
            reason=f"{reason}: backorder cancelled",
        )
    back = quantity - cancel
    allocations = item.allocations
    if back > 0:
        at: dict[str, LocationDelta] | None = None
        if stock.located(cell) and item.allocations:
            allocations = [a.model_copy() for a in item.allocations]
            at = {}
            left = back
            for allocation in allocations:
                room = (allocation.committed or 0) - (allocation.restored or 0)
                units = min(left, room)
                if units > 0:
                    allocation.restored = (allocation.restored or 0) + units
                    merge(at, {allocation.location: (units, 0)})
                    left -= units
            if left:
                merge(at, stock.distribute(cell, left, 0))
        plan.move(
            stock,
            cell,
            entry_type=entry_type,
            stock_change=back,
            reference=reference,
            reason=reason,
            at=at,
        )
    updated = with_cancelled(item, cancel)
    if allocations is not item.allocations:
        updated = updated.model_copy(update={"allocations": allocations})
    return updated


def take_back(
    plan: Plan[Any],
    stock: ProductStock,
    cell: Cell,
    item: ReservationItem,
    quantity: int,
    *,
    entry_type: LedgerEntryType,
    reference: str | None,
    reason: str,
) -> ReservationItem:
    """Undo `put_back` of `quantity` units (a refund that ended unpaid): from the locations
    the refund returned them to, newest allocation first, as far as each has unheld units;
    the rest as any fall of stock is placed. The caller has checked the cell has them."""
    allocations = item.allocations
    at: dict[str, LocationDelta] | None = None
    if stock.located(cell) and item.allocations:
        allocations = [a.model_copy() for a in item.allocations]
        at = {}
        free = {
            loc: max(0, stock.loc_stock(cell, loc) - stock.loc_reserved(cell, loc))
            for loc in stock.in_order(cell, active=False)
        }
        left = quantity
        for allocation in reversed(allocations):
            units = min(left, allocation.restored or 0, free.get(allocation.location, 0))
            if units > 0:
                allocation.restored = (allocation.restored or 0) - units
                free[allocation.location] -= units
                merge(at, {allocation.location: (-units, 0)})
                left -= units
        # Units the refund put elsewhere: from unheld stock, lowest priority first.
        rest = take_in_order([(loc, n) for loc, n in reversed(free.items())], left)
        merge(at, {loc: (-n, 0) for loc, n in rest})
        left -= sum(n for _, n in rest)
        if left:
            # Totals and rows disagree (drift reconcile repairs): the sums must still match.
            on_hand = [(loc, stock.loc_stock(cell, loc) + at.get(loc, (0, 0))[0]) for loc in free]
            merge(at, {loc: (-n, 0) for loc, n in take_in_order(on_hand[::-1], left)})
    plan.move(
        stock,
        cell,
        entry_type=entry_type,
        stock_change=-quantity,
        reference=reference,
        reason=reason,
        at=at,
    )
    if allocations is item.allocations:
        return item
    return item.model_copy(update={"allocations": allocations})


def with_cancelled(item: ReservationItem, cancelled: int) -> ReservationItem:
    if not cancelled:
        return item
    return item.model_copy(
        update={"backorder_cancelled": (item.backorder_cancelled or 0) + cancelled}
    )


def still_open(items: Sequence[ReservationItem], was: bool | None) -> bool | None:
    """The reservation's `openBackorder` flag: True while any unit is owed; False once a
    reservation that owed is settled (a patch cannot unset a field); unset otherwise."""
    if any(item.open_backorder > 0 for item in items):
        return True
    return None if was is None else False


def fill_oldest_first(
    plan: Plan[Any],
    stock: ProductStock,
    cell: Cell,
    reservations: Sequence[StockReservation],
    units: int,
    *,
    reference: str | None,
    actor: str,
    location: str | None = None,
) -> int:
    """A restock of `units` fills open backorders of `cell` first, oldest payment first:
    `backorderedQuantity` falls by min(units, owed) and only the rest reaches stock (the
    caller has added all `units` to stock). Returns the units filled."""
    filled = min(units, max(0, stock.backordered(cell)))
    if filled <= 0:
        return 0
    plan.move(
        stock,
        cell,
        entry_type="backorder_fill",
        stock_change=-filled,
        backordered_change=-filled,
        reference=reference,
        reason="restock filled open backorders (oldest first)",
        actor=actor,
        at={location: (-filled, 0)} if location else None,
    )
    left = filled
    ordered = sorted(reservations, key=lambda r: (r.committed_at or r.created_at, r.id))
    for reservation in ordered:
        if left <= 0:
            break
        changed = False
        items = []
        for item in reservation.items:
            found = stock.find_item(item) if item.product_id == stock.id else None
            share = min(left, item.open_backorder) if found == cell else 0
            if share > 0:
                left -= share
                changed = True
                item = item.model_copy(
                    update={"backorder_filled": (item.backorder_filled or 0) + share}
                )
            items.append(item)
        if changed:
            save_reservation(
                plan,
                reservation.model_copy(
                    update={
                        "items": items,
                        "open_backorder": still_open(items, reservation.open_backorder),
                    }
                ),
            )
    return filled
