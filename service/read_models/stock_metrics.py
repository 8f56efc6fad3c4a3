"""How fast stock lines sell and when to reorder them, from ledger entries. Pure: no I/O.

A stock line is a product without variants or one variant. Over a window of `days`:

- `unitsSold`: units taken by `sale` entries; `unitsRefunded`: units put back by `refund`,
  `cancellation` and `return` entries (the same grouping as the history summary);
  `netUnits` = sold - refunded;
- `velocityPerDay` = netUnits / days;
- `daysOfCover` = available / velocity, null when velocity is 0 (or below: more came back
  than was sold, so stock is not being used up);
- `sellThrough` = sold / (sold + available), null when both are 0;
- `suggestedQuantity` (reorder) = the line's `reorderQuantity` when set, otherwise the
  units that bring cover to `TARGET_COVER_DAYS` at that velocity, never below 0.

Figures are computed unrounded; `rounded` gives the API's precision.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

SOLD_TYPES: Final = frozenset({"sale"})
REFUNDED_TYPES: Final = frozenset({"refund", "cancellation", "return"})
#: Ledger types the metrics read (a query can ask for just these).
METRIC_TYPES: Final = tuple(sorted(SOLD_TYPES | REFUNDED_TYPES))
TARGET_COVER_DAYS: Final = 30
DEFAULT_WINDOW_DAYS: Final = 30


def line_key(product_id: str, variant_key: str | None, size: str | None) -> tuple[str, str]:
    """Identity of a stock line: by variant key, else by size (any case), else the product."""
    if variant_key:
        return product_id, "key:" + variant_key
    if size:
        return product_id, "size:" + size.strip().casefold()
    return product_id, "-"


@dataclass
class Movement:
    """Units sold and refunded on one line within the window."""

    sold: int = 0
    refunded: int = 0

    @property
    def net(self) -> int:
        return self.sold - self.refunded


@dataclass(frozen=True)
class LineRef:
    """A stock line as it exists now, for matching ledger entries to it."""

    product_id: str
    variant_key: str | None = None
    size: str | None = None


def tally(
    entries: Iterable[Mapping[str, Any]], lines: Iterable[LineRef]
) -> dict[LineRef, Movement]:
    """Sold and refunded units per line from ledger entries (as stored: `productId`,
    `variantKey`, `size`, `type`, `quantityChange`).

    An entry finds its line by variant key, and by size when it has no key or its key is no
    longer on the product (a variant re-created under a new key keeps its history).
    Entries of lines that no longer exist are left out.
    """
    wanted = list(lines)
    by_key: dict[tuple[str, str], LineRef] = {}
    for ref in wanted:
        if ref.variant_key:
            by_key.setdefault(line_key(ref.product_id, ref.variant_key, None), ref)
        by_key.setdefault(line_key(ref.product_id, None, ref.size), ref)
    moved = {ref: Movement() for ref in wanted}
    for entry in entries:
        kind = entry.get("type")
        change = entry.get("quantityChange")
        product_id = entry.get("productId")
        if not isinstance(product_id, str) or isinstance(change, bool):
            continue
        if not isinstance(change, int):
            continue
        variant_key = entry.get("variantKey") if isinstance(entry.get("variantKey"), str) else None
        size = entry.get("size") if isinstance(entry.get("size"), str) else None
        line: LineRef | None = None
        if variant_key:
            line = by_key.get(line_key(product_id, variant_key, None))
        if line is None:
            line = by_key.get(line_key(product_id, None, size))
        if line is None:
            continue
        if kind in SOLD_TYPES:
            moved[line].sold -= change
        elif kind in REFUNDED_TYPES:
            moved[line].refunded += change
    return moved


@dataclass(frozen=True)
class LineMetrics:
    units_sold: int
    units_refunded: int
    net_units: int
    velocity_per_day: float
    available: int
    days_of_cover: float | None
    sell_through: float | None


def metrics(movement: Movement, *, available: int, days: int) -> LineMetrics:
    """The window's figures for one line (module docstring)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    velocity = movement.net / days
    cover = available / velocity if velocity > 0 else None
    sold_and_left = movement.sold + available
    sell_through = movement.sold / sold_and_left if sold_and_left > 0 else None
    return LineMetrics(
        units_sold=movement.sold,
        units_refunded=movement.refunded,
        net_units=movement.net,
        velocity_per_day=velocity,
        available=available,
        days_of_cover=cover,
        sell_through=sell_through,
    )


def suggested_quantity(
    *, reorder_quantity: int | None, velocity_per_day: float, available: int
) -> int:
    """`reorder_quantity` when set; else the units that bring cover to 30 days, >= 0."""
    if reorder_quantity is not None:
        return max(0, reorder_quantity)
    # Rounded first so 30 x 0.1 (= 3.0000000000000004 in floats) asks for 3, not 4.
    needed = round(TARGET_COVER_DAYS * velocity_per_day - available, 9)
    return max(0, math.ceil(needed))


def at_or_below(available: int, reorder_point: int | None) -> bool:
    """Whether a line is due for reordering (a line without a point never is)."""
    return reorder_point is not None and available <= reorder_point


def rounded(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)
