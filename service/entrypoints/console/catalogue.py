"""The console's product list: filtered, searched, counted and paged in one GROQ query.

Stock is kept per stock line: a product without variants, or each variant. The console
files a product under its most urgent line: out of stock when any line has nothing
available, else low stock when any line is at or below the product's threshold, else in
stock. (The storefront API's product `state` sums the variants instead; a product with one
size sold out is "in stock" there and "out of stock" here, because that size needs a
restock.) The conditions are written in GROQ, so the store filters, counts and slices a
catalogue of thousands and only one page of products travels. Figures of the page itself
come from the engine's own status arithmetic (`product_status`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

from cms_client.store import DocumentStore
from schemas.operations import StockState
from schemas.product import Quarantine
from service.engine import ProductQuarantined, ProductStock, product_status, worst_state

StateFilter = Literal["attention", "in_stock", "low_stock", "out_of_stock"]
STATE_FILTERS: tuple[StateFilter, ...] = get_args(StateFilter)
PAGE_SIZE = 25
MAX_SEARCH = 100

_AVAILABLE = "(coalesce(stockQuantity, 0) - coalesce(reservedQuantity, 0))"
_SIMPLE = "!defined(variants[0])"
_OWN_THRESHOLD = "coalesce(lowStockThreshold, $threshold)"
_PRODUCT_THRESHOLD = "coalesce(^.lowStockThreshold, $threshold)"


def _any_line(simple: str, variant: str) -> str:
    """A product whose own counters (no variants) or any variant meets the condition."""
    return f"(({_SIMPLE} && {simple}) || coalesce(count(variants[{variant}]), 0) > 0)"


ANY_OUT = _any_line(f"{_AVAILABLE} <= 0", f"{_AVAILABLE} <= 0")
ANY_LOW = _any_line(
    f"{_AVAILABLE} > 0 && {_AVAILABLE} <= {_OWN_THRESHOLD}",
    f"{_AVAILABLE} > 0 && {_AVAILABLE} <= {_PRODUCT_THRESHOLD}",
)
STATE_CLAUSES: dict[StateFilter, str] = {
    "out_of_stock": ANY_OUT,
    "low_stock": f"!{ANY_OUT} && {ANY_LOW}",
    "in_stock": f"!{ANY_OUT} && !{ANY_LOW}",
    "attention": f"({ANY_OUT} || {ANY_LOW})",
}
SEARCH_CLAUSE = (
    "(string::startsWith(lower(title), $search)"
    " || string::startsWith(lower(slug.current), $search) || _id == $searchId)"
)
PRODUCT_FIELDS = (
    "{_id, _rev, _type, title, slug, sku, stockQuantity, reservedQuantity, lowStockThreshold, "
    "variants}"
)
TITLE_ORDER = "order(lower(coalesce(title, slug.current, _id)) asc, _id asc)"


@dataclass(frozen=True)
class StockLine:
    variant_key: str | None
    size: str | None
    sku: str | None
    stock: int
    reserved: int
    available: int
    state: StockState

    @property
    def variant(self) -> str | None:
        return self.size or self.variant_key


@dataclass(frozen=True)
class ProductRow:
    id: str
    title: str | None
    slug: str | None
    sku: str | None
    threshold: int
    lines: list[StockLine]
    #: Why the product's stock cannot be read (flagged in the list instead of figures).
    quarantine: Quarantine | None = None

    @property
    def state(self) -> StockState:
        """The most urgent line's state: what the product is filed under."""
        if not self.lines:
            return "out_of_stock"
        return worst_state([line.state for line in self.lines])

    @property
    def ref(self) -> str:
        """What the console's product URLs use: the slug when there is one."""
        return self.slug or self.id


@dataclass(frozen=True)
class ProductPage:
    rows: list[ProductRow]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class StateCounts:
    in_stock: int
    low_stock: int
    out_of_stock: int

    @property
    def total(self) -> int:
        return self.in_stock + self.low_stock + self.out_of_stock


def product_row(doc: dict[str, Any], default_threshold: int) -> ProductRow:
    try:
        stock = ProductStock(doc)
    except ProductQuarantined as exc:
        found = exc.quarantine
        slug = doc.get("slug")
        current = slug.get("current") if isinstance(slug, dict) else slug
        return ProductRow(
            id=found.product_id,
            title=found.title,
            slug=current if isinstance(current, str) and current else None,
            sku=None,
            threshold=default_threshold,
            lines=[],
            quarantine=found,
        )
    status = product_status(stock, doc["_id"], default_threshold)
    if status.variants is None:
        lines = [
            StockLine(
                None, None, None, status.total, status.reserved, status.available, status.state
            )
        ]
    else:
        lines = [
            StockLine(v.variant_key, v.size, v.sku, v.total, v.reserved, v.available, v.state)
            for v in status.variants
        ]
    return ProductRow(
        id=status.id,
        title=status.title,
        slug=status.slug,
        sku=status.sku,
        threshold=status.low_stock_threshold,
        lines=lines,
    )


def product_filter(state: StateFilter | None, search: str | None, params: dict[str, Any]) -> str:
    """The GROQ filter of the list, filling `params`."""
    clauses = ['_type == "product"']
    if state is not None:
        clauses.append(STATE_CLAUSES[state])
    if search:
        params["search"] = search.strip().lower()[:MAX_SEARCH]
        params["searchId"] = search.strip()[:MAX_SEARCH]
        clauses.append(SEARCH_CLAUSE)
    return " && ".join(clauses)


async def list_products(
    store: DocumentStore,
    *,
    default_threshold: int,
    state: StateFilter | None = None,
    search: str | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> ProductPage:
    """One page of products by title, with the count of all that match, in one query (a
    page past the end is asked again as the last page)."""
    params: dict[str, Any] = {"threshold": default_threshold}
    where = product_filter(state, search, params)
    page = max(1, page)
    while True:
        start = (page - 1) * page_size
        found: Any = await store.query(
            f'{{"total": count(*[{where}]), "rows": *[{where}] | {TITLE_ORDER}'
            f" [{start}...{start + page_size}] {PRODUCT_FIELDS}}}",
            params,
        )
        found = found if isinstance(found, dict) else {}
        total = found.get("total") if isinstance(found.get("total"), int) else 0
        pages = max(1, math.ceil(total / page_size))
        if page <= pages:
            break
        page = pages
    rows = found.get("rows")
    docs = [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []
    return ProductPage(
        rows=[product_row(doc, default_threshold) for doc in docs],
        total=total,
        page=page,
        pages=pages,
    )


def counts_query() -> str:
    """GROQ for the products in each state (they partition the catalogue)."""
    return (
        "{"
        + ", ".join(
            f'"{state}": count(*[_type == "product" && {STATE_CLAUSES[state]}])'
            for state in ("in_stock", "low_stock", "out_of_stock")
        )
        + "}"
    )


def state_counts(row: Any) -> StateCounts:
    def count(name: str) -> int:
        value = row.get(name) if isinstance(row, dict) else None
        return value if isinstance(value, int) else 0

    return StateCounts(count("in_stock"), count("low_stock"), count("out_of_stock"))
