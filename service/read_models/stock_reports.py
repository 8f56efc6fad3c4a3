"""Reports over every stock line: the export, the reorder list and the sales analytics.

Queries only. Products are read a page at a time by `_id`; ledger entries of the window
likewise, asking only for the types the metrics count (`stock_metrics.METRIC_TYPES`).
These are figures for people, read through queries (which may lag a write by a moment);
nothing here decides a stock change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from pydantic import Field

from cms_client.store import DocumentStore
from schemas.base import Model, Timestamp, format_timestamp
from schemas.ledger import LEDGER_TYPE
from schemas.locations import StockLocation
from schemas.stock_csv import EXPORT_COLUMNS, PURCHASE_ORDER_COLUMNS, Cell, write_csv
from service.engine import pages_by_id
from service.read_models.stock_lines import StockLine, all_lines
from service.read_models.stock_metrics import (
    METRIC_TYPES,
    at_or_below,
    metrics,
    rounded,
    suggested_quantity,
    tally,
)

PAGE_SIZE: Final = 1000
MAX_DAYS: Final = 365

_PRODUCT_FIELDS = (
    "_id, _type, title, slug, sku, stockQuantity, reservedQuantity, lowStockThreshold,"
    " reorderPoint, reorderQuantity, locationStock, variants"
)


async def read_lines(store: DocumentStore, default_threshold: int) -> list[StockLine]:
    """Every stock line of every published product, ordered by product `_id`."""
    docs: list[dict[str, Any]] = []
    async for page in pages_by_id(
        store,
        lambda limit: (
            f'*[_type == "product" && _id > $after] | order(_id asc) [0...{limit}]'
            f"{{{_PRODUCT_FIELDS}}}"
        ),
        page_size=PAGE_SIZE,
    ):
        docs.extend(page)
    return all_lines(docs, default_threshold)


async def read_sales(
    store: DocumentStore, *, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """Ledger entries that sell or give back units, created in [since, until]."""
    entries: list[dict[str, Any]] = []
    async for page in pages_by_id(
        store,
        lambda limit: (
            f'*[_type == "{LEDGER_TYPE}" && type in $types && _id > $after'
            " && dateTime(createdAt) >= dateTime($since)"
            " && dateTime(createdAt) <= dateTime($until)]"
            f" | order(_id asc) [0...{limit}]"
            "{_id, productId, variantKey, size, type, quantityChange}"
        ),
        {
            "types": list(METRIC_TYPES),
            "since": format_timestamp(since),
            "until": format_timestamp(until),
        },
        page_size=PAGE_SIZE,
    ):
        entries.extend(page)
    return entries


# -- export ------------------------------------------------------------------------------


def export_csv(
    lines: Iterable[StockLine], locations: Mapping[str, StockLocation] | None = None
) -> str:
    """The export file: one row per product without variants and one per variant; a line
    stocked by location instead gets one row per location (`location` its slug, else its
    `_id`), so the file imports back location by location (a total row beside them would
    set the total back after a location row changed it)."""
    places = locations or {}

    def rows(line: StockLine) -> Iterable[dict[str, Cell]]:
        common: dict[str, Cell] = {
            "productId": line.product_id,
            "documentId": line.document_id,
            "title": line.title,
            "sku": line.sku,
            "size": line.size,
            "variantKey": line.variant_key,
            "state": line.state,
            "reorderPoint": line.reorder_point,
        }
        if not line.places:
            yield {
                **common,
                "stock": line.stock,
                "reserved": line.reserved,
                "available": line.available,
            }
            return
        for place in line.places:
            site = places.get(place.location_id)
            active = site.active if site is not None else False
            yield {
                **common,
                "stock": place.stock,
                "reserved": place.reserved,
                "available": max(0, place.stock - place.reserved) if active else 0,
                "location": (site.slug_current if site else None) or place.location_id,
            }

    return write_csv(EXPORT_COLUMNS, (row for line in lines for row in rows(line)))


# -- reorder -----------------------------------------------------------------------------


class ReorderItem(Model):
    product_id: str = Field(description="The product's slug, else its `_id`.")
    document_id: str = Field(description="The product's `_id`.")
    size: str | None = None
    variant_key: str | None = None
    sku: str | None = None
    title: str | None = None
    available_stock: int
    reorder_point: int
    reorder_quantity: int | None = Field(description="As set on the line; null: suggested.")
    suggested_quantity: int = Field(
        description="reorderQuantity when set, else the units that bring cover to 30 days; "
        "never below 0."
    )
    velocity_per_day: float = Field(description="Net units sold per day over the window.")
    days_of_cover: float | None = Field(description="available / velocity; null at velocity 0.")


class ReorderReport(Model):
    days: int = Field(description="The window velocity is measured over.")
    generated_at: Timestamp
    items: list[ReorderItem]


def reorder_items(
    lines: Iterable[StockLine], sales: Iterable[Mapping[str, Any]], *, days: int
) -> list[ReorderItem]:
    """Lines at or below their reorder point, most urgent (least cover) first."""
    due = [line for line in lines if at_or_below(line.available, line.reorder_point)]
    moved = tally(sales, [line.ref for line in due])
    items: list[ReorderItem] = []
    for line in due:
        figures = metrics(moved[line.ref], available=line.available, days=days)
        assert line.reorder_point is not None  # at_or_below() says so
        items.append(
            ReorderItem(
                product_id=line.product_id,
                document_id=line.document_id,
                size=line.size,
                variant_key=line.variant_key,
                sku=line.sku,
                title=line.title,
                available_stock=line.available,
                reorder_point=line.reorder_point,
                reorder_quantity=line.reorder_quantity,
                suggested_quantity=suggested_quantity(
                    reorder_quantity=line.reorder_quantity,
                    velocity_per_day=figures.velocity_per_day,
                    available=line.available,
                ),
                velocity_per_day=rounded(figures.velocity_per_day, 4) or 0.0,
                days_of_cover=rounded(figures.days_of_cover, 2),
            )
        )
    items.sort(
        key=lambda item: (
            item.days_of_cover if item.days_of_cover is not None else float("inf"),
            item.available_stock - item.reorder_point,
            item.product_id,
            item.size or "",
        )
    )
    return items


async def reorder_report(
    store: DocumentStore, *, now: datetime, days: int, default_threshold: int
) -> ReorderReport:
    lines = await read_lines(store, default_threshold)
    due = [line for line in lines if at_or_below(line.available, line.reorder_point)]
    sales = await read_sales(store, since=now - timedelta(days=days), until=now) if due else []
    return ReorderReport(days=days, generated_at=now, items=reorder_items(due, sales, days=days))


def purchase_order_csv(items: Iterable[ReorderItem], *, reference: str) -> str:
    """A purchase order: each line with its suggested quantity as a `delta` and reason
    `restock`, so the file imports back unchanged when the goods arrive."""
    rows: list[dict[str, Cell]] = [
        {
            "productId": item.product_id,
            "title": item.title,
            "size": item.size,
            "variantKey": item.variant_key,
            "sku": item.sku,
            "delta": item.suggested_quantity,
            "reason": "restock",
            "reference": reference,
        }
        for item in items
        if item.suggested_quantity > 0
    ]
    return write_csv(PURCHASE_ORDER_COLUMNS, rows)


# -- analytics ---------------------------------------------------------------------------


class AnalyticsItem(Model):
    product_id: str = Field(description="The product's slug, else its `_id`.")
    document_id: str
    size: str | None = None
    variant_key: str | None = None
    title: str | None = None
    units_sold: int
    units_refunded: int = Field(description="refund, cancellation and return entries.")
    net_units: int
    velocity_per_day: float
    available_stock: int
    days_of_cover: float | None
    sell_through: float | None = Field(
        description="unitsSold / (unitsSold + availableStock); null when both are 0."
    )


class AnalyticsReport(Model):
    from_: Timestamp = Field(alias="from")
    to: Timestamp
    days: int
    items: list[AnalyticsItem]


ANALYTICS_COLUMNS: Final = (
    "productId",
    "documentId",
    "title",
    "size",
    "variantKey",
    "unitsSold",
    "unitsRefunded",
    "netUnits",
    "velocityPerDay",
    "availableStock",
    "daysOfCover",
    "sellThrough",
)


def analytics_items(
    lines: Iterable[StockLine], sales: Iterable[Mapping[str, Any]], *, days: int
) -> list[AnalyticsItem]:
    """Every line's figures, best sellers first."""
    every = list(lines)
    moved = tally(sales, [line.ref for line in every])
    items: list[AnalyticsItem] = []
    for line in every:
        figures = metrics(moved[line.ref], available=line.available, days=days)
        items.append(
            AnalyticsItem(
                product_id=line.product_id,
                document_id=line.document_id,
                size=line.size,
                variant_key=line.variant_key,
                title=line.title,
                units_sold=figures.units_sold,
                units_refunded=figures.units_refunded,
                net_units=figures.net_units,
                velocity_per_day=rounded(figures.velocity_per_day, 4) or 0.0,
                available_stock=line.available,
                days_of_cover=rounded(figures.days_of_cover, 2),
                sell_through=rounded(figures.sell_through, 4),
            )
        )
    items.sort(
        key=lambda item: (-item.net_units, -item.units_sold, item.product_id, item.size or "")
    )
    return items


async def analytics_report(
    store: DocumentStore, *, now: datetime, days: int, default_threshold: int
) -> AnalyticsReport:
    since = now - timedelta(days=days)
    lines = await read_lines(store, default_threshold)
    sales = await read_sales(store, since=since, until=now)
    return AnalyticsReport(
        from_=since, to=now, days=days, items=analytics_items(lines, sales, days=days)
    )


def analytics_csv(items: Iterable[AnalyticsItem]) -> str:
    return write_csv(
        ANALYTICS_COLUMNS,
        (
            {
                column: value
                for column, value in item.model_dump(by_alias=True, mode="json").items()
                if column in ANALYTICS_COLUMNS
            }
            for item in items
        ),
    )
