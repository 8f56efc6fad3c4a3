"""Opening what a process works with: the configured document store, the engine over it and,
when `LOW_STOCK_WEBHOOK_URL` is set, the low-stock alerts watching the engine's writes.

The app's lifespan and every CLI command open them here (`open_runtime`, `running`), so a
stock change announces itself the same way whichever process made it. The alert modules
(and httpx with them) are imported only when alerts are configured, so a process without
them starts no slower.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cms_client.clock import Clock, utc_now
from cms_client.store import DocumentStore
from service.config import ServiceSettings
from service.engine import Inventory, MutationPacing, pacing_of

if TYPE_CHECKING:
    import httpx

    from service.integrations.alerts.notifier import LowStockAlerts
    from service.integrations.alerts.reorder import ReorderAlerts

logger = logging.getLogger("stocksync.alerts")


def open_store(settings: ServiceSettings, *, clock: Clock = utc_now) -> DocumentStore:
    """Sanity when `SANITY_PROJECT_ID` is set, else the embedded lake in `STOCKSYNC_DATA`.

    Each client is imported only when chosen, so the lake pays nothing for httpx and the
    Sanity deployment nothing for SQLite.
    """
    if settings.uses_sanity:
        from cms_client.sanity_client import SanityClient

        return SanityClient(settings.sanity_settings(), clock=clock)
    if os.environ.get("VERCEL"):
        # A function's disk is per instance and temporary: stock kept there would differ
        # between instances and vanish. Refuse to start rather than oversell.
        raise RuntimeError(
            "SANITY_PROJECT_ID is not set: on Vercel the embedded lake would not be durable"
        )
    from cms_client.lake import Lake

    Path(settings.data_file).parent.mkdir(parents=True, exist_ok=True)
    return Lake(settings.data_file, clock=clock)


def open_inventory(
    settings: ServiceSettings,
    store: DocumentStore,
    *,
    clock: Clock = utc_now,
    pacing: MutationPacing | None = None,
) -> Inventory:
    """The engine over `store`, without alerts (`open_runtime` adds them when configured).

    `pacing`: the mutate limiter of the store `store` wraps (default: `store`'s own)."""
    return Inventory(store, clock=clock, settings=settings.engine_settings(), pacing=pacing)


def alerts_webhook_url(settings: ServiceSettings) -> str | None:
    """The configured alert URL, or None (alerts off) when unset or not http(s)."""
    secret = settings.low_stock_webhook_url
    if secret is None:
        return None
    url = secret.get_secret_value().strip()
    if not url.startswith(("https://", "http://")):
        logger.error("LOW_STOCK_WEBHOOK_URL is not an http(s) URL: low-stock alerts are off")
        return None
    return url


@dataclass
class Runtime:
    """The store, the engine over it, and the alerts watching the engine (if configured)."""

    store: DocumentStore
    inventory: Inventory
    alerts: LowStockAlerts | None = None
    #: False when the caller passed its own store (it closes that store itself).
    owns_store: bool = True
    #: Reorder-point alerts and the daily digest, on the same channel as `alerts`.
    reorder_alerts: ReorderAlerts | None = None

    async def aclose(self) -> None:
        """Finish the alerts still being handled, then close what was opened here."""
        try:
            if self.reorder_alerts is not None:
                await self.reorder_alerts.drain()
            if self.alerts is not None:
                await self.alerts.aclose()
        finally:
            if self.owns_store:
                await self.store.aclose()


def open_runtime(
    settings: ServiceSettings,
    *,
    store: DocumentStore | None = None,
    clock: Clock = utc_now,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Runtime:
    """Open the configured store (or use `store`) and the engine over it; with an alert URL,
    the engine writes through the store watched by the alerts.

    `sleep` and `transport` reach the alerts' webhook sender (tests: no waits, no network).
    """
    active = store if store is not None else open_store(settings, clock=clock)
    owns_store = store is None
    url = alerts_webhook_url(settings)
    if url is None:
        return Runtime(active, open_inventory(settings, active, clock=clock), None, owns_store)
    from service.integrations.alerts.delivery import WebhookSender
    from service.integrations.alerts.notifier import LowStockAlerts
    from service.integrations.alerts.reorder import ReorderAlerts

    sender = WebhookSender(url, sleep=sleep, transport=transport)
    alerts = LowStockAlerts(active, sender, default_threshold=settings.low_stock_threshold)
    reorder = ReorderAlerts(active, sender, default_threshold=settings.low_stock_threshold)
    watched = alerts.watch(active)
    watched.subscribe(reorder.observe)
    inventory = open_inventory(settings, watched, clock=clock, pacing=pacing_of(active))
    alerts.errors = inventory
    reorder.errors = inventory
    return Runtime(active, inventory, alerts, owns_store, reorder_alerts=reorder)


@asynccontextmanager
async def running(
    settings: ServiceSettings, *, store: DocumentStore | None = None, clock: Clock = utc_now
) -> AsyncIterator[Runtime]:
    """`open_runtime` for one run (a CLI command): alerts are drained and everything opened
    is closed when the block ends, even when it fails."""
    runtime = open_runtime(settings, store=store, clock=clock)
    try:
        yield runtime
    finally:
        await runtime.aclose()
