"""The FastAPI application: `create_app()` builds it; `api/index.py` serves it on Vercel.

The lifespan opens the document store and the engine once per process (a warm Vercel
instance reuses them across requests). Tests pass their own `store` (closed by them, not
by the app) and `clock`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI

from cms_client.clock import Clock, utc_now
from cms_client.store import DocumentStore
from service.bootstrap import open_runtime
from service.config import ServiceSettings, load_settings
from service.entrypoints.context import Services
from service.entrypoints.http.error_handlers import install_error_handlers
from service.entrypoints.http.middleware import BodyLimitMiddleware, CatchAllMiddleware
from service.entrypoints.http.offline_docs import install_offline_docs
from service.entrypoints.http.request_log import RequestLogMiddleware
from service.entrypoints.http.routers import api_routers
from service.entrypoints.http.stripe_client import app_stripe_gateway
from service.entrypoints.http.tracing import install_tracing
from service.entrypoints.rate_limits import Limit, TokenBuckets
from service.integrations.alerts.after_response import AfterResponseMiddleware
from service.integrations.sanity.stock_feed import StockFeed, upstream_for
from service.integrations.stripe.session_expiry import BackgroundSessionExpiry
from service.integrations.stripe.signature import STRIPE_EVENT_MAX_BYTES

logger = logging.getLogger("stocksync")

DESCRIPTION = """\
Stock reservations, payments and refunds on Sanity product documents.

**Auth.** Public: `GET /api/stock-status`, `GET /api/stock-stream`, `GET /api/health`,
`GET /api/inventory-health`. Storefront key (`STOREFRONT_API_KEY`, as `Authorization:
Bearer` or `X-API-Key`): reserve, release, `POST /api/stock-status`. Cron secret
(`CRON_SECRET`, Bearer): `/api/cron/*` and `POST /api/inventory-health`. Staff keys
(`ADMIN_API_KEYS`, `name:role:key`): the `/api/inventory/*` routes, by role. Webhooks: a
signature of the raw body (`STRIPE_WEBHOOK_SECRET`, `SANITY_WEBHOOK_SECRET`); the success
page's fulfil route needs the storefront key and `STRIPE_SECRET_KEY`. A route whose secret
is not configured answers 503 naming the variable.

**Errors.** Every non-2xx answer is
`{success: false, code, error, message, details}`; branch on `code`.
"""

TAGS = [
    {"name": "storefront", "description": "What a shop's checkout calls."},
    {
        "name": "webhooks",
        "description": "Stripe and Sanity webhooks, verified by signature, and the success "
        "page's fulfilment.",
    },
    {"name": "staff", "description": "Stock adjustments and records, with staff keys."},
    {"name": "health", "description": "Liveness and inventory health."},
    {"name": "cron", "description": "Scheduled housekeeping (Vercel Cron)."},
]


class StocksyncAPI(FastAPI):
    """FastAPI whose schema leaves out the 422 it never sends.

    Request validation errors are answered 400 with the one error shape (the storefront
    contract's status), so FastAPI's generated 422 `HTTPValidationError` entries would
    document an answer that cannot happen.
    """

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            schema = super().openapi()
            for item in schema.get("paths", {}).values():
                for operation in item.values():
                    operation.get("responses", {}).pop("422", None)
            components = schema.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                components.pop(unused, None)
            self.openapi_schema = schema
        return self.openapi_schema


def _version() -> str:
    try:
        return version("stocksync")
    except PackageNotFoundError:
        return "0.0.0"


def rate_limits(config: ServiceSettings, monotonic: Callable[[], float]) -> dict[str, Any]:
    """The per-client buckets the settings ask for (`service.entrypoints.rate_limits`)."""
    limits: dict[str, Any] = {}
    if config.rate_limit_storefront_per_second > 0:
        limits["storefront_limit"] = TokenBuckets(
            Limit(config.rate_limit_storefront_per_second, config.rate_limit_storefront_burst),
            monotonic=monotonic,
        )
    if config.rate_limit_public_per_minute > 0:
        limits["public_limit"] = TokenBuckets(
            Limit.per_minute(config.rate_limit_public_per_minute), monotonic=monotonic
        )
    return limits


def create_app(
    settings: ServiceSettings | None = None,
    *,
    store: DocumentStore | None = None,
    clock: Clock | None = None,
    sleep: Callable[[float], Awaitable[object]] | None = None,
) -> FastAPI:
    """The service over `store` (default: the store the settings name, opened at startup)."""
    config = settings or load_settings()
    now = clock or utc_now
    pause = sleep or asyncio.sleep

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = open_runtime(config, store=store, clock=now)
        upstream = upstream_for(runtime.store)
        feed = StockFeed(upstream, sleep=pause) if upstream is not None else None
        staff_keys = config.staff_keys()
        if staff_keys.problem:
            logger.error("staff routes are closed: %s", staff_keys.problem)
        app.state.services = Services(
            settings=config,
            store=runtime.store,
            inventory=runtime.inventory,
            reorder_alerts=runtime.reorder_alerts,
            clock=now,
            storefront_keys=config.storefront_keys(),
            staff_keys=staff_keys,
            cron_secret=config.cron_secret_value(),
            **rate_limits(config, lambda: now().timestamp()),
            stock_feed=feed,
            sleep=pause,
        )
        services = app.state.services

        async def backoff(seconds: float) -> None:
            # Looked up at each wait: tests swap the engine's sleep after startup.
            await services.inventory.executor.sleep(seconds)

        expiry = BackgroundSessionExpiry(
            lambda: app_stripe_gateway(app, services), runtime.inventory, sleep=backoff
        )
        app.state.session_expiry = expiry
        runtime.inventory.watch_reclaimed_holds(expiry.schedule)
        try:
            yield
        finally:
            runtime.inventory.watch_reclaimed_holds(None)
            await expiry.drain()
            # Built on the first Stripe lookup (service.entrypoints.http.webhooks), if there was
            # one.
            gateway = getattr(app.state, "stripe_gateway", None)
            if gateway is not None:
                await gateway.aclose()
            if feed is not None:
                await feed.aclose()
            await runtime.aclose()

    app = StocksyncAPI(
        title="stocksync",
        version=_version(),
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        # Served by install_offline_docs instead: FastAPI's own pages load from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    install_offline_docs(app)
    install_error_handlers(app)
    # Innermost: alerts of a request's writes are sent once its response is out.
    app.add_middleware(AfterResponseMiddleware)
    # Added last = outermost: the catch-all also covers the body limit.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=config.max_body_bytes,
        path_limits={
            "/api/inventory/import": config.import_max_bytes,
            "/console/import": config.import_max_bytes,
            # Stripe events of types stocksync ignores can be big (invoices, subscriptions);
            # a 413 would make Stripe retry them for days.
            "/api/stripe-webhook": max(STRIPE_EVENT_MAX_BYTES, config.max_body_bytes),
        },
    )
    app.add_middleware(CatchAllMiddleware)
    # Outermost of all: one log line and an X-Request-Id for every answer, guards' included.
    app.add_middleware(RequestLogMiddleware)
    # Only when OTEL_EXPORTER_OTLP_ENDPOINT is set (service.entrypoints.http.tracing); otherwise
    # a no-op.
    install_tracing(app)
    for router in api_routers():
        app.include_router(router)
    # Imported here, like the API routers, so importing the app module stays cheap.
    from service.entrypoints.console.routes import router as console_router

    app.include_router(console_router)
    return app
