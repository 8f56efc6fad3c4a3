"""Status: totals, reserved and available per product and variant, for storefront display."""

from __future__ import annotations

from schemas.operations import ProductStatus, VariantStatus
from service.engine.model.states import stock_state
from service.engine.model.stock import ProductStock


def product_status(stock: ProductStock, requested_as: str, default_threshold: int) -> ProductStatus:
    """A product's figures; with variants, the product figures are the variants' sums."""
    threshold = stock.threshold(default_threshold)
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
                    state=stock_state(available, threshold),
                )
            )
    cells = stock.cells()
    total = sum(stock.stock(cell) for cell in cells)
    reserved = sum(stock.reserved(cell) for cell in cells)
    available = sum(stock.available(cell) for cell in cells)
    return ProductStatus(
        product_id=requested_as,
        id=stock.id,
        title=stock.title,
        slug=stock.slug,
        sku=stock.product.sku,
        total=total,
        reserved=reserved,
        available=available,
        state=stock_state(available, threshold),
        low_stock_threshold=threshold,
        variants=variants,
    )
