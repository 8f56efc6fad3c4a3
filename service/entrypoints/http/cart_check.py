"""Cart validation (POST /api/stock-status): is every line of a cart available right now?

Pure: it judges the lines against one status read. Lines naming the same product and size
are judged on their total, as a reserve would; the answer is advice for the storefront,
and the reserve that follows re-checks on its own fresh read.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.operations import LineCode, ProductStatus, StatusResult, VariantStatus
from service.entrypoints.http.storefront_models import CartItem, StockCheck


def _same_size(a: str | None, b: str) -> bool:
    return a is not None and a.strip().casefold() == b.strip().casefold()


def _find_variant(product: ProductStatus, item: CartItem) -> tuple[VariantStatus | None, LineCode]:
    size = item.size.strip() if item.size and item.size.strip() else None
    if product.variants is None:
        return None, "variant_not_found" if (item.variant_key or size) else "ok"
    for variant in product.variants:
        if item.variant_key and variant.variant_key == item.variant_key:
            return variant, "ok"
        if not item.variant_key and size and _same_size(variant.size, size):
            return variant, "ok"
    return None, "variant_not_found" if (item.variant_key or size) else "variant_required"


def _cell(product: ProductStatus, variant: VariantStatus | None) -> tuple[str, str]:
    """Where a line's units come from: the product, or one of its variants."""
    if variant is None:
        return product.id, "-"
    return product.id, variant.variant_key or f"size:{(variant.size or '').casefold()}"


def check_cart(items: Sequence[CartItem], status: StatusResult) -> list[StockCheck]:
    by_name = {product.product_id: product for product in status.products}
    odd = {entry.product_id: entry for entry in status.quarantined}
    located: list[tuple[CartItem, ProductStatus | None, VariantStatus | None, LineCode]] = []
    demand: dict[tuple[str, str], int] = {}
    for item in items:
        product = by_name.get(item.product_id)
        if product is None:
            located.append(
                (
                    item,
                    None,
                    None,
                    "product_quarantined" if item.product_id in odd else "product_not_found",
                )
            )
            continue
        variant, code = _find_variant(product, item)
        located.append((item, product, variant, code))
        if code == "ok":
            cell = _cell(product, variant)
            demand[cell] = demand.get(cell, 0) + item.quantity

    checks: list[StockCheck] = []
    for item, product, variant, code in located:
        title = product.title if product else None
        name = title or item.product_id
        available = 0
        error: str | None = None
        if code == "product_not_found":
            error = "Product not found"
        elif code == "product_quarantined":
            found = odd[item.product_id]
            error = (
                f"{found.title} cannot be sold now: its {found.field} {found.reason} "
                "(quarantined until fixed in the Studio)"
            )
        elif code == "variant_not_found":
            error = f"Size {item.size or item.variant_key} not found for {name}"
        elif code == "variant_required":
            error = f"{name} needs a size"
        else:
            assert product is not None
            available = variant.available if variant else product.available
            cell = _cell(product, variant)
            if demand[cell] > available:
                code = "insufficient_stock"
                what = f"{name} size {variant.size}" if variant and variant.size else name
                error = (
                    f"Insufficient stock for {what}: requested {demand[cell]}, "
                    f"available {available}"
                )
        checks.append(
            StockCheck(
                product_id=item.product_id,
                size=variant.size if variant else item.size,
                variant_key=variant.variant_key if variant else item.variant_key,
                requested_quantity=item.quantity,
                available_stock=available,
                in_stock=code == "ok",
                product_title=title,
                code=code,
                error=error,
            )
        )
    return checks
