"""What the store says after the sale: units sold, units left, and any oversell.

Read from the lake server itself, not from what the service answered: the counters of every
product, the reservations by status and the ledger's sale entries.

`oversold` counts, per product, the units beyond its initial stock that were held or sold
(`max(sold, won) - stock`, when positive), plus every negative counter (stock, reserved or
available below zero). Anything but 0 is a bug.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bench.flash_sale.shoppers import Product

PRODUCTS = '*[_type == "product" && _id in $ids]{_id, stockQuantity, reservedQuantity}'
RESERVATION_STATUSES = '*[_type == "stockReservation"]{status}'
SALES = 'count(*[_type == "inventoryTransaction" && type == "sale"])'


class Queries(Protocol):
    async def query(self, query: str, params: dict[str, Any] | None = None) -> Any: ...


@dataclass(frozen=True)
class FinalState:
    sold: int
    oversold: int
    units_left: int
    reserved_left: int
    sale_entries: int
    reservations: dict[str, int]


async def final_state(
    lake: Queries, products: Sequence[Product], stock: int, won: Mapping[int, int]
) -> FinalState:
    """`won`: holds granted per product index, as the buyers were told."""
    rows: list[dict[str, Any]] = await lake.query(PRODUCTS, {"ids": [p.id for p in products]})
    by_id = {row["_id"]: row for row in rows}
    sold = oversold = units_left = reserved_left = 0
    for product in products:
        row = by_id.get(product.id)
        if row is None:
            raise RuntimeError(f"{product.id} disappeared from the store")
        on_hand = int(row.get("stockQuantity") or 0)
        reserved = int(row.get("reservedQuantity") or 0)
        sold_here = stock - on_hand
        sold += sold_here
        units_left += on_hand - reserved
        reserved_left += reserved
        oversold += max(0, max(sold_here, won.get(product.index, 0)) - stock)
        oversold += sum(1 for value in (on_hand, reserved, on_hand - reserved) if value < 0)
    statuses = [row.get("status", "?") for row in await lake.query(RESERVATION_STATUSES)]
    sale_entries: int = await lake.query(SALES)
    return FinalState(
        sold=sold,
        oversold=oversold,
        units_left=units_left,
        reserved_left=reserved_left,
        sale_entries=sale_entries,
        reservations=dict(sorted(Counter(statuses).items())),
    )
