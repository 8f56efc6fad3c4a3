"""Which stock lines an operation moved to another state, read from its ledger entries.

A stock line is where stock is counted: a product without variants, or one variant. Every
counter change the engine commits writes a ledger entry with the line's counters before and
after, in the same transaction, so the entries of one committed transaction say exactly how
each line moved; nothing has to be polled. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.display import first_text
from schemas.ledger import LEDGER_TYPE, InventoryTransaction
from schemas.operations import StockState
from service.engine import got_worse, stock_state

_ENTRY_INDEX = re.compile(r"-(\d+)$")


@dataclass(frozen=True)
class Crossing:
    """A stock line whose state an operation changed (e.g. in_stock -> low_stock)."""

    product_id: str
    title: str | None
    variant_key: str | None
    size: str | None
    before: StockState
    after: StockState
    stock: int
    reserved: int
    available: int
    threshold: int
    at: datetime
    transaction_id: str | None = None

    @property
    def is_alert(self) -> bool:
        """The line got worse: in stock -> low or out, or low -> out. A partial restock
        (out -> low) is good news and is not announced."""
        return got_worse(self.before, self.after)

    @property
    def is_recovery(self) -> bool:
        """Back in stock: the line may be announced again when it next runs low."""
        return self.after == "in_stock"

    @property
    def line(self) -> str | None:
        """The variant's identity within its product (None for a product without variants)."""
        if self.variant_key:
            return self.variant_key
        if self.size:
            return "size-" + self.size.strip().casefold()
        return None

    @property
    def label(self) -> str:
        name = self.title or self.product_id
        variant = self.size or self.variant_key
        return f"{name} ({variant})" if variant else name


def _entry_order(entry: InventoryTransaction) -> tuple[str, int]:
    match = _ENTRY_INDEX.search(entry.id)
    return (entry.transaction_id or "", int(match.group(1)) if match else 0)


def _line_key(entry: InventoryTransaction) -> tuple[str, str]:
    if entry.variant_key:
        return entry.product_id, "key:" + entry.variant_key
    if entry.size:
        return entry.product_id, "size:" + entry.size.strip().casefold()
    return entry.product_id, "-"


def _threshold(product: Mapping[str, Any] | None, default: int) -> int:
    value = product.get("lowStockThreshold") if product else None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return default
    return int(value)


def _state(stock: int, reserved: int, threshold: int) -> StockState:
    return stock_state(max(0, stock - reserved), threshold)


def crossings(documents: Mapping[str, Mapping[str, Any]], default_threshold: int) -> list[Crossing]:
    """The state changes recorded by one committed transaction.

    `documents` are the documents the transaction returned, by id: its ledger entries and
    the products it patched (for their `lowStockThreshold`). Several entries of one line
    (an expiry reclaimed before a reservation, say) count as one move, from the first
    entry's counters before to the last one's after.
    """
    entries = sorted(
        (
            InventoryTransaction.model_validate(doc)
            for doc in documents.values()
            if doc.get("_type") == LEDGER_TYPE
        ),
        key=_entry_order,
    )
    first: dict[tuple[str, str], InventoryTransaction] = {}
    last: dict[tuple[str, str], InventoryTransaction] = {}
    for entry in entries:
        key = _line_key(entry)
        first.setdefault(key, entry)
        last[key] = entry
    found: list[Crossing] = []
    for key, opening in first.items():
        closing = last[key]
        product = documents.get(opening.product_id)
        threshold = _threshold(product, default_threshold)
        before = _state(
            opening.previous_stock_quantity, opening.previous_reserved_quantity, threshold
        )
        after = _state(closing.new_stock_quantity, closing.new_reserved_quantity, threshold)
        if before == after:
            continue
        title = first_text(product.get("title")) if product else None
        found.append(
            Crossing(
                product_id=opening.product_id,
                title=title if isinstance(title, str) else opening.product_title,
                variant_key=closing.variant_key,
                size=closing.size,
                before=before,
                after=after,
                stock=closing.new_stock_quantity,
                reserved=closing.new_reserved_quantity,
                available=max(0, closing.new_stock_quantity - closing.new_reserved_quantity),
                threshold=threshold,
                at=closing.created_at,
                transaction_id=closing.transaction_id,
            )
        )
    return found
