"""Cart validation (POST /api/stock-status): the engine's answer as the storefront's
`stockChecks`.

The engine judges the lines with the reserve planner itself (`Inventory.check_cart`), so
the check and the reserve that follows agree on merging, codes and messages; this module
only translates, one check per cart line in order.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.operations import LineOutcome, LineRequest
from service.engine import CartCheckResult
from service.entrypoints.http.storefront_models import CartItem, StockCheck


def cart_lines(items: Sequence[CartItem]) -> list[LineRequest]:
    return [
        LineRequest(
            product_id=item.product_id,
            quantity=item.quantity,
            variant_key=item.variant_key,
            size=item.size,
        )
        for item in items
    ]


def _error(outcome: LineOutcome) -> str | None:
    # The old storefront's contract words a missing product exactly so (storefronts may
    # show it as is); the line's own `productId` names the product.
    if outcome.code == "product_not_found":
        return "Product not found"
    return outcome.message or None


def stock_checks(items: Sequence[CartItem], result: CartCheckResult) -> list[StockCheck]:
    return [
        StockCheck(
            product_id=item.product_id,
            size=outcome.size if outcome.size is not None else item.size,
            variant_key=outcome.variant_key,
            requested_quantity=item.quantity,
            available_stock=outcome.available,
            in_stock=outcome.code == "ok",
            product_title=outcome.title,
            code=outcome.code,
            error=_error(outcome),
        )
        for item, outcome in zip(items, result.lines, strict=True)
    ]
