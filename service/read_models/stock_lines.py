"""Product documents as stock lines (a product without variants, or each variant), with
the figures the bulk tools, reorder list and analytics show. Pure: no I/O.

Counters are read as the engine reads them (missing -> 0, available never below 0). A
variant's reorder point and quantity are its own, else the product's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from schemas.operations import StockState
from schemas.product import LocationStock, Product
from service.engine import stock_state
from service.read_models.stock_metrics import LineRef


@dataclass(frozen=True)
class Place:
    """A line's stock at one location (`locationStock` row)."""

    location_id: str
    stock: int
    reserved: int


@dataclass(frozen=True)
class StockLine:
    document_id: str
    slug: str | None
    title: str | None
    sku: str | None
    size: str | None
    variant_key: str | None
    stock: int
    reserved: int
    state: StockState
    reorder_point: int | None
    reorder_quantity: int | None
    #: Where the stock is, for a line stocked by location (its counters are the sums).
    places: tuple[Place, ...] = ()

    @property
    def product_id(self) -> str:
        """How the storefront names the product: its slug, else its `_id`."""
        return self.slug or self.document_id

    @property
    def available(self) -> int:
        return max(0, self.stock - self.reserved)

    @property
    def ref(self) -> LineRef:
        return LineRef(self.document_id, self.variant_key, self.size)

    @property
    def label(self) -> str:
        name = self.title or self.product_id
        variant = self.size or self.variant_key
        return f"{name} ({variant})" if variant else name


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def product_lines(doc: Mapping[str, Any], default_threshold: int) -> list[StockLine]:
    """The lines of one product document; [] for a document that is not a readable product
    (it is reported by the engine's own reads, not here)."""
    try:
        product = Product.model_validate(doc)
    except ValidationError:
        return []
    threshold = (
        product.low_stock_threshold
        if product.low_stock_threshold is not None
        else default_threshold
    )
    sku = _text(product.sku)
    if not product.variants:
        available = max(0, product.stock_quantity - product.reserved_quantity)
        return [
            StockLine(
                document_id=product.id,
                slug=product.slug_current,
                title=product.title,
                sku=sku,
                size=None,
                variant_key=None,
                stock=product.stock_quantity,
                reserved=product.reserved_quantity,
                state=stock_state(available, threshold),
                reorder_point=product.reorder_point,
                reorder_quantity=product.reorder_quantity,
                places=_places(product.location_stock),
            )
        ]
    lines: list[StockLine] = []
    for variant in product.variants:
        available = max(0, variant.stock_quantity - variant.reserved_quantity)
        lines.append(
            StockLine(
                document_id=product.id,
                slug=product.slug_current,
                title=product.title,
                sku=variant.sku,
                size=variant.size,
                variant_key=variant.key,
                stock=variant.stock_quantity,
                reserved=variant.reserved_quantity,
                state=stock_state(available, threshold),
                reorder_point=(
                    variant.reorder_point
                    if variant.reorder_point is not None
                    else product.reorder_point
                ),
                reorder_quantity=(
                    variant.reorder_quantity
                    if variant.reorder_quantity is not None
                    else product.reorder_quantity
                ),
                places=_places(variant.location_stock),
            )
        )
    return lines


def _places(rows: Iterable[LocationStock]) -> tuple[Place, ...]:
    return tuple(Place(row.location_id, row.stock, row.reserved) for row in rows if row.location_id)


def all_lines(docs: Iterable[Mapping[str, Any]], default_threshold: int) -> list[StockLine]:
    return [line for doc in docs for line in product_lines(doc, default_threshold)]
