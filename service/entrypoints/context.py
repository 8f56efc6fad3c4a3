"""What a request handler can reach: settings, the store, the engine, the clock, the keys."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from cms_client.clock import Clock
from cms_client.store import DocumentStore
from service.config import ServiceSettings, StaffKeys
from service.engine import Inventory
from service.entrypoints.rate_limits import TokenBuckets
from service.integrations.sanity.stock_feed import StockFeed


@dataclass
class Services:
    """Built once per process by the app's lifespan and kept on `app.state.services`."""

    settings: ServiceSettings
    store: DocumentStore
    inventory: Inventory
    clock: Clock
    storefront_keys: list[str]
    staff_keys: StaffKeys
    cron_secret: str | None
    started: float = field(default_factory=time.monotonic)
    #: Per-client buckets of the storefront routes and the public stock status (None: off).
    storefront_limit: TokenBuckets | None = None
    public_limit: TokenBuckets | None = None
    #: Reorder alerts and digest (None when LOW_STOCK_WEBHOOK_URL is unset).
    reorder_alerts: Any = None
    #: The process's one upstream listener for live stock streams (None: the store has none).
    stock_feed: StockFeed | None = None
    #: Waits between keep-alive comments; tests pass a sleep they control.
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep

    def uptime_seconds(self) -> float:
        return round(time.monotonic() - self.started, 3)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
