"""Every failure becomes the one JSON error shape (`service.entrypoints.errors`).

Domain errors of the engine map to statuses here and nowhere else; FastAPI's own 404, 405
and request-validation errors are rewritten into the same shape; store outages answer 503
with `Retry-After` so callers (and Stripe) come back later.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from cms_client.errors import RateLimited, StoreUnavailable
from cms_client.errors import Unauthorized as StoreUnauthorized
from service.engine import (
    IdempotencyKeyReused,
    ImportInProgress,
    InsufficientStock,
    InvalidAdjustment,
    InvalidRequest,
    InventoryError,
    LocationNotFound,
    LocationStockShort,
    ProductNotFound,
    ProductQuarantined,
    ReservationConflict,
    ReservationNotActive,
    ReservationNotCommitted,
    ReservationNotFound,
    RetryLater,
    VariantNotFound,
)
from service.entrypoints.errors import ApiError, error_body

#: Seconds a caller should wait after a store outage or exhausted conflict retries.
STORE_RETRY_AFTER = 5
CONFLICT_RETRY_AFTER = 1

_STATUS_OF: dict[type[InventoryError], int] = {
    InvalidRequest: 400,
    ReservationNotFound: 404,
    ProductNotFound: 404,
    ProductQuarantined: 409,
    VariantNotFound: 404,
    LocationNotFound: 404,
    LocationStockShort: 409,
    InsufficientStock: 409,
    ReservationNotActive: 409,
    ReservationNotCommitted: 409,
    ReservationConflict: 409,
    InvalidAdjustment: 409,
    IdempotencyKeyReused: 409,
    ImportInProgress: 409,
    RetryLater: 503,
}

_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def json_error(error: ApiError) -> JSONResponse:
    headers = dict(error.headers)
    headers.setdefault("Cache-Control", "no-store")
    return JSONResponse(error_body(error), status_code=error.status, headers=headers)


def field_name(loc: Sequence[Any], *, rename: dict[str, str] | None = None) -> str:
    """`("body", "operations", 0, "quantity")` -> `operations[0].quantity`."""
    parts = list(loc)
    where = str(parts[0]) if parts else "body"
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            text = (rename or {}).get(str(part), str(part))
            name += f".{text}" if name else text
    return name or where


def validation_error(problems: Sequence[tuple[str, str, str]]) -> ApiError:
    """400 naming each bad field: `problems` are (field, message, type)."""
    readable = [f"{field}: {message}" for field, message, _ in problems]
    first = readable[0] if readable else "the request is invalid"
    more = f" (and {len(readable) - 1} more)" if len(readable) > 1 else ""
    return ApiError(
        400,
        "invalid_request",
        first + more,
        details=readable,
        title="Invalid request",
        extra={
            "errors": [
                {"field": field, "message": message, "type": kind}
                for field, message, kind in problems
            ]
        },
    )


def single_query_value(query: Any, name: str) -> None:
    """A query parameter that takes one value refuses several (FastAPI would keep the last
    silently): 400 naming it."""
    if len(query.getlist(name)) > 1:
        raise validation_error([(name, "give at most one value", "repeated")])


def engine_field(field: str | None) -> str:
    """The engine names reserve/release lines `lines`; the API calls them `operations`."""
    if not field:
        return "body"
    return "operations" + field[len("lines") :] if field.startswith("lines") else field


def inventory_error(error: InventoryError) -> ApiError:
    if isinstance(error, InvalidRequest):
        return validation_error([(engine_field(error.field), error.message, error.code)])
    if isinstance(error, InsufficientStock):
        return insufficient_stock(error)
    status = next(
        (code for cls, code in _STATUS_OF.items() if isinstance(error, cls)),
        500,
    )
    headers = {"Retry-After": str(CONFLICT_RETRY_AFTER)} if isinstance(error, RetryLater) else None
    return ApiError(
        status, error.code, _sentence(error.message), details=error.details or None, headers=headers
    )


def insufficient_stock(error: InsufficientStock) -> ApiError:
    """The storefront contract's 409: readable `details` and one `errors` entry per line."""
    failing = [line for line in error.lines if line.code != "ok"]
    # The top-level code agrees with the lines': theirs when they share one.
    codes = {line.code for line in failing}
    return ApiError(
        409,
        codes.pop() if len(codes) == 1 else error.code,
        "; ".join(line.message for line in failing) or "Stock reservation failed",
        details=[line.message for line in failing],
        title="Stock reservation failed",
        extra={
            "errors": [
                {
                    "productId": line.product_id,
                    "size": line.size,
                    "variantKey": line.variant_key,
                    "code": line.code,
                    "requested": line.requested,
                    "available": line.available,
                    "message": line.message,
                }
                for line in failing
            ]
        },
    )


def store_unavailable(error: StoreUnavailable | RateLimited | StoreUnauthorized) -> ApiError:
    if isinstance(error, RateLimited):
        wait = max(1, math.ceil(error.retry_after or 1))
        return ApiError(
            503,
            "store_rate_limited",
            "The document store is rate-limiting this service; try again shortly.",
            headers={"Retry-After": str(wait)},
        )
    if isinstance(error, StoreUnauthorized):
        return ApiError(
            503,
            "store_unauthorized",
            "The document store refused the service's credentials (check SANITY_API_TOKEN).",
        )
    return ApiError(
        503,
        "store_unavailable",
        "The document store is unavailable; nothing was changed that can't be retried. "
        "Try again shortly.",
        headers={"Retry-After": str(STORE_RETRY_AFTER)},
    )


def http_exception(exc: StarletteHTTPException, request: Request) -> ApiError:
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        message = f"No endpoint at {request.url.path}."
        code = "not_found"
    elif exc.status_code == 405:
        # Starlette names the methods of the first route that matched the path only; a
        # path served by two routes (GET and POST stock-status) must list both.
        headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
        allowed = ", ".join(allowed_methods(request))
        headers["Allow"] = allowed
        message = f"{request.method} is not allowed on {request.url.path}" + (
            f"; use {allowed}." if allowed else "."
        )
        code = "method_not_allowed"
    else:
        message = str(exc.detail)
        # FastAPI's own 400 is "There was an error parsing the body": a request problem.
        code = {400: "invalid_request", 413: "body_too_large", 415: "unsupported_media_type"}.get(
            exc.status_code, "http_error"
        )
    return ApiError(exc.status_code, code, message, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method the app serves on the request's path, from its OpenAPI paths."""
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(
        request.app.state, "allowed_methods", None
    )
    if table is None:
        table = []
        for path, item in request.app.openapi().get("paths", {}).items():
            methods = {method.upper() for method in item}
            table.append((compile_path(path)[0], methods))
        request.app.state.allowed_methods = table
    found: set[str] = set()
    for pattern, methods in table:
        if pattern.match(request.url.path):
            found |= methods
    return sorted(found)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return json_error(exc)

    async def on_inventory_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, InventoryError)
        return json_error(inventory_error(exc))

    async def on_store_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StoreUnavailable | RateLimited | StoreUnauthorized)
        return json_error(store_unavailable(exc))

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems: list[tuple[str, str, str]] = []
        for item in exc.errors():
            kind = str(item.get("type", "invalid"))
            if kind == "json_invalid":
                problems.append(("body", "the body is not valid JSON", kind))
                continue
            # pydantic prefixes the models' own checks with "Value error, ": noise to a caller.
            message = str(item.get("msg", "")).removeprefix("Value error, ")
            problems.append((field_name(item.get("loc", ())), message, kind))
        return json_error(validation_error(problems))

    async def on_http_exception(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return json_error(http_exception(exc, request))

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(InventoryError, on_inventory_error)
    app.add_exception_handler(StoreUnavailable, on_store_error)
    app.add_exception_handler(RateLimited, on_store_error)
    app.add_exception_handler(StoreUnauthorized, on_store_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
