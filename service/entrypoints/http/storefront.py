"""Storefront routes: reserve, release, stock status, cart validation."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from schemas.operations import LineRequest
from service.entrypoints.context import Services, get_services
from service.entrypoints.http.cart_check import cart_lines, stock_checks
from service.entrypoints.http.error_handlers import single_query_value, validation_error
from service.entrypoints.http.error_responses import COMMON, ReserveFailureBody, error_responses
from service.entrypoints.http.security import Public, Storefront
from service.entrypoints.http.storefront_models import (
    ProductStock,
    QuarantinedProduct,
    ReleaseStockRequest,
    ReleaseStockResponse,
    ReserveStockRequest,
    ReserveStockResponse,
    StockCheckRequest,
    StockCheckResponse,
    StockOperation,
    StockStatusResponse,
)
from service.entrypoints.http.stripe_client import stripe_gateway
from service.integrations.stripe.session_expiry import end_checkout_sessions

router = APIRouter(prefix="/api", tags=["storefront"])

ServicesDep = Annotated[Services, Depends(get_services)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=255,
        description="Optional: a retry with the same key returns the first answer instead of "
        "acting twice.",
    ),
]


def _lines(operations: list[StockOperation]) -> list[LineRequest]:
    return [
        LineRequest(
            product_id=op.product_id,
            quantity=op.quantity,
            size=op.size,
            variant_key=op.variant_key,
        )
        for op in operations
    ]


def _too_many(field: str, count: int, limit: int) -> None:
    if count > limit:
        raise validation_error(
            [(field, f"at most {limit} lines (STOCKSYNC_MAX_LINES)", "too_long")]
        )


@router.post(
    "/reserve-stock",
    response_model=ReserveStockResponse,
    summary="Hold stock for a checkout session (every line or none)",
    responses=error_responses(*COMMON, 401, 409, 429, models={409: ReserveFailureBody}),
)
async def reserve_stock(
    body: ReserveStockRequest, services: ServicesDep, caller: Storefront
) -> ReserveStockResponse:
    """Reserve every line or none. Repeating the same request for the same session returns
    the original answer (`reservation.replayed`); other lines for that session are a 409
    `reservation_conflict`. Short stock or an unknown product or size is a 409 with one
    `errors` entry per line, saying what was requested and what was available."""
    ttl = timedelta(minutes=body.expiration_minutes) if body.expiration_minutes else None
    result = await services.inventory.reserve(body.session_id, _lines(body.operations), ttl=ttl)
    return ReserveStockResponse.of(result)


@router.post(
    "/release-stock",
    response_model=ReleaseStockResponse,
    summary="Give a checkout's hold back (all of it, or some lines)",
    responses=error_responses(*COMMON, 401, 404, 409, 429),
)
async def release_stock(
    body: ReleaseStockRequest,
    request: Request,
    services: ServicesDep,
    caller: Storefront,
    idempotency_key: IdempotencyKey = None,
) -> ReleaseStockResponse:
    """Only an active hold can be released: an unknown session is 404
    `reservation_not_found`, a hold that expired or was paid is 409
    `reservation_not_active`. A whole release sent again for a released hold (its answer
    was lost) answers 200 with `replayed: true` and changes nothing. With `operations`, only
    those lines are released (send an Idempotency-Key to make a partial release safe to
    repeat). With `STRIPE_SECRET_KEY`, releasing a whole hold also expires its Checkout
    Session."""
    if body.operations is not None:
        _too_many("operations", len(body.operations), services.settings.max_lines)
    keys = [f"release:{body.session_id}:{idempotency_key}"] if idempotency_key else []
    result = await services.inventory.release(
        body.session_id,
        _lines(body.operations) if body.operations else None,
        idempotency_keys=keys,
    )
    if result.status == "released" and not result.replayed:
        await end_checkout_sessions(
            stripe_gateway(request, services),
            services.inventory,
            [result.session_id],
            sleep=services.inventory.executor.sleep,
        )
    return ReleaseStockResponse.of(result)


@router.get(
    "/stock-status",
    response_model=StockStatusResponse,
    response_model_exclude_none=True,
    summary="Stock of up to 100 products (public)",
    responses=error_responses(*COMMON, 404, 429),
)
async def stock_status(
    request: Request,
    services: ServicesDep,
    response: Response,
    caller: Public,
    product_ids: Annotated[
        str,
        Query(
            alias="productIds",
            max_length=20_000,
            description="Comma-separated slugs or `_id`s (at most 100).",
            examples=["railcam,halloween-tee,railways-and-sleepers"],
        ),
    ],
    location: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description="A stock location's slug: that location's figures only (404 "
            "`location_not_found` when there is none).",
        ),
    ] = "",
) -> StockStatusResponse:
    """Total, reserved and available stock with a state (in_stock, low_stock,
    out_of_stock) per product and, for sized products, per size. Unknown names are listed
    in `notFound`. Cached briefly (STOCKSYNC_STATUS_CACHE_SECONDS)."""
    names = [name.strip() for name in product_ids.split(",") if name.strip()]
    if not names:
        raise validation_error([("productIds", "name at least one product", "missing")])
    single_query_value(request.query_params, "location")
    status = await services.inventory.status(names, location=location or None)
    seconds = services.settings.status_cache_seconds
    response.headers["Cache-Control"] = (
        f"public, max-age={seconds}, s-maxage={seconds}" if seconds else "no-store"
    )
    return StockStatusResponse(
        stock_status=[ProductStock.of(product) for product in status.products],
        not_found=status.not_found,
        quarantined=[QuarantinedProduct.of(entry) for entry in status.quarantined],
        timestamp=status.checked_at,
    )


@router.post(
    "/stock-status",
    response_model=StockCheckResponse,
    response_model_exclude_none=True,
    summary="Check a cart against current stock",
    responses=error_responses(*COMMON, 401, 429),
)
async def check_stock(
    body: StockCheckRequest, services: ServicesDep, caller: Storefront
) -> StockCheckResponse:
    """One check per line; `allInStock` is true when every line can be bought now. Lines
    of the same product and size are judged on their total. Nothing is held: reserve to
    hold stock."""
    _too_many("items", len(body.items), services.settings.max_lines)
    names = list(dict.fromkeys(item.product_id for item in body.items))
    limit = services.inventory.settings.status_max_products
    if len(names) > limit:
        raise validation_error([("items", f"at most {limit} different products", "too_long")])
    if names:
        checked = await services.inventory.check_cart(cart_lines(body.items))
        checks = stock_checks(body.items, checked)
        checked_at = checked.checked_at
    else:
        checks, checked_at = [], services.clock()
    return StockCheckResponse(
        all_in_stock=all(check.in_stock for check in checks),
        stock_checks=checks,
        timestamp=checked_at,
    )
