"""The Sanity-compatible ASGI app: routes, middleware and error handlers in one place."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route

from cms_client.errors import StoreError
from cms_client.faults import FaultPlan, RequestRateLimit
from cms_client.server.conditions import ProductionConditions, Sleep
from cms_client.server.errors import (
    Refusal,
    http_error_handler,
    refusal_handler,
    store_error_handler,
)
from cms_client.server.inputs import Gate
from cms_client.server.listen import Listen
from cms_client.server.mutations import Writes
from cms_client.server.queries import Reads
from cms_client.server.transfer import Export
from cms_client.store import DocumentStore


def create_lake_app(
    lake: DocumentStore,
    *,
    dataset: str = "production",
    token: str | None = None,
    latency_ms: float = 0,
    faults: FaultPlan | None = None,
    sleep: Sleep = asyncio.sleep,
    mutate_rate_limit: float | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    public: bool = False,
) -> Starlette:
    """The Sanity-compatible ASGI app over `lake`.

    `token`: when set, every request needs `Authorization: Bearer <token>` (else 401).
    `latency_ms`: slept (with `sleep`) before each request. `faults`: planned failures.
    `mutate_rate_limit`: mutate requests per second per client IP before 429s (Sanity: ~25).
    `public`: the dataset's visibility; a public one answers published documents to requests
    without a token (drafts never); a private one (the default) answers them 401.
    The app does not close `lake`; whoever opened it does.
    """
    if latency_ms < 0:
        raise ValueError("latency_ms must not be negative")
    gate = Gate(dataset, token, public=public)
    reads = Reads(lake, gate)
    writes = Writes(lake, gate)
    listen = Listen(lake, gate)
    export = Export(lake, gate)
    rate_limit = (
        RequestRateLimit(mutate_rate_limit, monotonic=monotonic)
        if mutate_rate_limit is not None
        else None
    )
    return Starlette(
        routes=[
            Route("/v{version}/data/doc/{dataset}/{ids}", reads.doc, methods=["GET"]),
            Route("/v{version}/data/query/{dataset}", reads.query, methods=["GET", "POST"]),
            Route("/v{version}/data/mutate/{dataset}", writes.mutate, methods=["POST"]),
            Route("/v{version}/data/listen/{dataset}", listen.listen, methods=["GET"]),
            Route("/v{version}/data/export/{dataset}", export.export, methods=["GET"]),
        ],
        middleware=[
            Middleware(
                ProductionConditions,
                latency_s=latency_ms / 1000,
                sleep=sleep,
                faults=faults,
                rate_limit=rate_limit,
            )
        ],
        exception_handlers={
            Refusal: refusal_handler,
            StoreError: store_error_handler,
            HTTPException: http_error_handler,
        },
    )
