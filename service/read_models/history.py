"""A product's ledger (`inventoryTransaction` entries), newest first, with a summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from cms_client.store import DocumentStore
from schemas.base import Model, Timestamp, format_timestamp
from schemas.display import first_text
from schemas.ledger import LEDGER_TYPE, InventoryTransaction, LedgerEntryType
from schemas.operations import ProductStatus
from service.engine import Inventory, ProductNotFound
from service.read_models.paging import NEWEST_FIRST, Page, fetch_page, rows_of

#: Entries the summary adds up at most (a summary of a longer range says it is partial).
SUMMARY_LIMIT = 10_000

SALES = frozenset({"sale"})
REFUNDS = frozenset({"refund", "cancellation", "return"})
ADJUSTMENTS = frozenset({"restock", "correction", "damage", "initial", "editor"})

_PRODUCT = '*[_type == "product" && (_id == $ref || slug.current == $ref)][0]{_id, title}'


class Counters(Model):
    stock: int
    reserved: int


class HistoryEntry(Model):
    id: str
    type: LedgerEntryType
    change: int = Field(
        description="Signed; of reservedQuantity for reservation, release, expiry and "
        "reconcile entries, of stockQuantity otherwise."
    )
    before: Counters
    after: Counters
    size: str | None = None
    variant_key: str | None = None
    reason: str | None = None
    actor: str
    reference: str | None = Field(default=None, description="Checkout session, refund or event.")
    time: Timestamp


class Tally(Model):
    entries: int = 0
    units: int = Field(default=0, description="Net change of stockQuantity.")


class HistorySummary(Model):
    """Totals over every entry matching the filters (not just this page)."""

    sales: Tally = Field(default_factory=Tally)
    refunds: Tally = Field(
        default_factory=Tally, description="refund, cancellation and return entries."
    )
    adjustments: Tally = Field(
        default_factory=Tally, description="restock, correction, damage, initial, editor."
    )
    partial: bool = Field(
        default=False,
        description=f"More than {SUMMARY_LIMIT} entries matched; totals cover the newest ones.",
    )


class StockFlag(Model):
    total: int
    reserved: int
    available: int
    state: str
    low_stock_threshold: int
    low_stock: bool = Field(description="Available is at or below the threshold (or zero).")


class ProductHistory(Model):
    product_id: str = Field(description="The product's `_id`.")
    title: str | None = None
    entries: list[HistoryEntry]
    pagination: Page
    summary: HistorySummary
    stock: StockFlag | None = Field(
        default=None, description="Current figures; null when the product no longer exists."
    )
    low_stock: bool = False


def _entry(row: dict[str, Any]) -> HistoryEntry:
    tx = InventoryTransaction.model_validate(row)
    return HistoryEntry(
        id=tx.id,
        type=tx.entry_type,
        change=tx.quantity_change,
        before=Counters(stock=tx.previous_stock_quantity, reserved=tx.previous_reserved_quantity),
        after=Counters(stock=tx.new_stock_quantity, reserved=tx.new_reserved_quantity),
        size=tx.size,
        variant_key=tx.variant_key,
        reason=tx.reason,
        actor=tx.actor,
        reference=tx.reference_id,
        time=tx.created_at,
    )


def _summary(rows: list[dict[str, Any]]) -> HistorySummary:
    summary = HistorySummary(partial=len(rows) > SUMMARY_LIMIT)
    for row in rows[:SUMMARY_LIMIT]:
        kind = row.get("type")
        # Summarised types all count stockQuantity, so quantityChange is the stock change.
        change = row.get("quantityChange")
        units = change if isinstance(change, int) else 0
        tally = (
            summary.sales
            if kind in SALES
            else summary.refunds
            if kind in REFUNDS
            else summary.adjustments
            if kind in ADJUSTMENTS
            else None
        )
        if tally is not None:
            tally.entries += 1
            tally.units += units
    return summary


def _flag(status: ProductStatus) -> StockFlag:
    return StockFlag(
        total=status.total,
        reserved=status.reserved,
        available=status.available,
        state=status.state,
        low_stock_threshold=status.low_stock_threshold,
        low_stock=status.state != "in_stock",
    )


async def product_history(
    store: DocumentStore,
    inventory: Inventory,
    product: str,
    *,
    entry_type: LedgerEntryType | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> ProductHistory:
    """History of `product` (`_id` or slug). A deleted product's entries are still found by
    its `_id`; a name that matches neither a product nor any entry is `ProductNotFound`."""
    found: Any = await store.query(_PRODUCT, {"ref": product})
    product_id = found["_id"] if isinstance(found, dict) else product
    # Titles come in any shape a Studio saves (i18n objects, arrays): shown as text.
    title = first_text(found.get("title")) if isinstance(found, dict) else None

    params: dict[str, Any] = {"productId": product_id}
    filters = [f'_type == "{LEDGER_TYPE}"', "productId == $productId"]
    if entry_type is not None:
        filters.append("type == $entryType")
        params["entryType"] = entry_type
    if since is not None:
        filters.append("dateTime(createdAt) >= dateTime($since)")
        params["since"] = format_timestamp(since)
    if until is not None:
        filters.append("dateTime(createdAt) <= dateTime($until)")
        params["until"] = format_timestamp(until)
    page, pagination = await fetch_page(store, filters, params, cursor=cursor, limit=limit)
    if not isinstance(found, dict) and not page and cursor is None:
        raise ProductNotFound(product)
    matching = " && ".join(filters)
    totals = rows_of(
        await store.query(
            f"*[{matching}] | {NEWEST_FIRST} [0...{SUMMARY_LIMIT + 1}]{{type, quantityChange}}",
            params,
        )
    )
    stock: StockFlag | None = None
    if isinstance(found, dict):
        status = await inventory.status([product_id])
        stock = _flag(status.products[0]) if status.products else None
    return ProductHistory(
        product_id=product_id,
        title=title,
        entries=[_entry(row) for row in page],
        pagination=pagination,
        summary=_summary(totals),
        stock=stock,
        low_stock=stock.low_stock if stock else False,
    )
