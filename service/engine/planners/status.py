"""Status: totals, reserved and available per product and variant, for storefront display."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from schemas.operations import LocationFigures, ProductStatus, StockState, VariantStatus
from service.engine.model.states import stock_state
from service.engine.model.stock import Cell, ProductStock


def _policy_figures(stock: ProductStock, cell: Cell, today: date) -> dict[str, Any]:
    """What a storefront needs to sell beyond stock (products with a policy only)."""
    if not stock.has_policy(cell):
        return {}
    shipping = stock.available_from(cell)
    return {
        "inventory_policy": stock.policy(cell),
        "backorder_available": stock.backorder_available(cell),
        "backordered": stock.backordered(cell),
        "available_from": shipping.isoformat() if shipping else None,
    }


def _location_figures(stock: ProductStock, cell: Cell) -> dict[str, Any]:
    if not stock.located(cell):
        return {}
    figures = []
    for loc in stock.in_order(cell, active=False):
        site = stock.site(loc)
        figures.append(
            LocationFigures(
                location=site.slug or loc,
                name=site.name,
                active=site.active,
                stock=stock.loc_stock(cell, loc),
                reserved=stock.loc_reserved(cell, loc),
                available=stock.loc_available(cell, loc),
            )
        )
    return {"locations": figures}


def _at(stock: ProductStock, cell: Cell, location: str) -> tuple[int, int, int]:
    """(stock, reserved, available) of one cell at one location (0s without a row)."""
    return (
        stock.loc_stock(cell, location),
        stock.loc_reserved(cell, location),
        stock.loc_available(cell, location),
    )


def _state(
    stock: ProductStock, cell: Cell, available: int, threshold: int, today: date
) -> StockState:
    """Nothing in stock but the policy sells: backorder or preorder, else the usual."""
    if available <= 0 and stock.backorder_available(cell) != 0:
        return "preorder" if stock.fulfilment(cell, 1, today) == "preorder" else "backorder"
    return stock_state(available, threshold)


def product_status(
    stock: ProductStock,
    requested_as: str,
    default_threshold: int,
    *,
    today: date | None = None,
    location: str | None = None,
) -> ProductStatus:
    """A product's figures; with variants, the product figures are the variants' sums.

    `location` (a stockLocation `_id`): that location's figures only."""
    today = today or datetime.now(UTC).date()
    threshold = stock.threshold(default_threshold)
    if location is not None:
        return _status_at(stock, requested_as, threshold, location)
    variants: list[VariantStatus] | None = None
    if stock.has_variants:
        variants = []
        for cell in stock.cells():
            variant = stock.product.variants[cell.index or 0]
            available = stock.available(cell)
            variants.append(
                VariantStatus(
                    variant_key=cell.variant_key,
                    size=cell.size,
                    sku=variant.sku,
                    total=stock.stock(cell),
                    reserved=stock.reserved(cell),
                    available=available,
                    state=_state(stock, cell, available, threshold, today),
                    **_policy_figures(stock, cell, today),
                    **_location_figures(stock, cell),
                )
            )
    cells = stock.cells()
    total = sum(stock.stock(cell) for cell in cells)
    reserved = sum(stock.reserved(cell) for cell in cells)
    available = sum(stock.available(cell) for cell in cells)
    state = stock_state(available, threshold)
    product_figures: dict[str, Any] = {}
    if not stock.has_variants:
        state = _state(stock, cells[0], available, threshold, today)
        product_figures = {
            **_policy_figures(stock, cells[0], today),
            **_location_figures(stock, cells[0]),
        }
    elif variants and state == "out_of_stock":
        selling = [v.state for v in variants if v.state in ("backorder", "preorder")]
        if selling:
            state = "preorder" if "preorder" in selling else "backorder"
    if stock.has_variants and stock.product.inventory_policy is not None:
        product_figures = {"inventory_policy": stock.product.inventory_policy}
    return ProductStatus(
        product_id=requested_as,
        id=stock.id,
        title=stock.title,
        slug=stock.slug,
        sku=stock.product.sku,
        total=total,
        reserved=reserved,
        available=available,
        state=state,
        low_stock_threshold=threshold,
        variants=variants,
        **product_figures,
    )


def _status_at(
    stock: ProductStock, requested_as: str, threshold: int, location: str
) -> ProductStatus:
    """One location's figures (a product or size without a row there shows 0)."""
    slug = stock.site(location).slug or location
    variants: list[VariantStatus] | None = None
    if stock.has_variants:
        variants = []
        for cell in stock.cells():
            here, held, free = _at(stock, cell, location)
            variants.append(
                VariantStatus(
                    variant_key=cell.variant_key,
                    size=cell.size,
                    sku=stock.product.variants[cell.index or 0].sku,
                    total=here,
                    reserved=held,
                    available=free,
                    state=stock_state(free, threshold),
                )
            )
    figures = [_at(stock, cell, location) for cell in stock.cells()]
    available = sum(f[2] for f in figures)
    return ProductStatus(
        product_id=requested_as,
        id=stock.id,
        title=stock.title,
        slug=stock.slug,
        sku=stock.product.sku,
        total=sum(f[0] for f in figures),
        reserved=sum(f[1] for f in figures),
        available=available,
        state=stock_state(available, threshold),
        low_stock_threshold=threshold,
        variants=variants,
        location=slug,
    )
