"""Stock locations for staff: each with its totals over every product (queries only)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError

from cms_client.store import DocumentStore
from schemas.base import Model
from schemas.locations import StockLocation
from schemas.product import Product, Variant, read_product

_LOCATIONS = '*[_type == "stockLocation"] | order(priority asc, _id asc) [0...1000]'
#: Every product's location rows (and its sizes'); at most 10,000 products are summed.
_STOCKED = '*[_type == "product"] [0...10000] {_id, locationStock, variants}'


class LocationTotals(Model):
    id: str = Field(description="The stockLocation's `_id`.")
    slug: str | None
    name: str | None
    priority: int
    active: bool
    products: int = Field(description="Products (or sizes) with stock counted here.")
    stock: int
    reserved: int
    available: int = Field(description="0 at an inactive location.")


class LocationList(Model):
    locations: list[LocationTotals]


async def read_locations(store: DocumentStore) -> list[StockLocation]:
    """Every readable stock location, in priority order."""
    rows: Any = await store.query(_LOCATIONS, {})
    places = []
    for row in rows if isinstance(rows, list) else []:
        try:
            places.append(StockLocation.model_validate(row))
        except ValidationError:
            continue  # a location nobody can read is left out, the others listed
    return places


async def list_locations(store: DocumentStore) -> LocationList:
    places = await read_locations(store)

    stocked: Any = await store.query(_STOCKED, {})
    sums: dict[str, list[int]] = {p.id: [0, 0, 0, 0] for p in places}
    for doc in stocked if isinstance(stocked, list) else []:
        product = read_product({"_type": "product", **doc}) if isinstance(doc, dict) else None
        if not isinstance(product, Product):
            continue  # quarantined: reported by the stock routes, not summed here
        lines: list[Product | Variant] = [product, *product.variants]
        for line in lines:
            for entry in line.location_stock:
                figures = sums.get(entry.location_id or "")
                if figures is None:
                    continue
                figures[0] += 1
                figures[1] += entry.stock
                figures[2] += entry.reserved
                figures[3] += max(0, entry.stock - entry.reserved)
    return LocationList(
        locations=[
            LocationTotals(
                id=p.id,
                slug=p.slug_current,
                name=p.name,
                priority=p.priority,
                active=p.active,
                products=sums[p.id][0],
                stock=sums[p.id][1],
                reserved=sums[p.id][2],
                available=sums[p.id][3] if p.active else 0,
            )
            for p in places
        ]
    )
