"""Opening the engine with low-stock alerts attached, when `LOW_STOCK_WEBHOOK_URL` is set.

The alert modules (and httpx with them) are imported only when alerts are configured, so
an app without them starts no slower.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from cms_client.clock import Clock, utc_now
from cms_client.store import DocumentStore
from service.config import ServiceSettings
from service.engine.inventory import Inventory
from service.runtime import open_inventory

if TYPE_CHECKING:
    import httpx

    from service.alerts.notifier import LowStockAlerts

logger = logging.getLogger("stocksync.alerts")


def webhook_url(settings: ServiceSettings) -> str | None:
    """The configured URL, or None (alerts off) when unset or not http(s)."""
    secret = settings.low_stock_webhook_url
    if secret is None:
        return None
    url = secret.get_secret_value().strip()
    if not url.startswith(("https://", "http://")):
        logger.error("LOW_STOCK_WEBHOOK_URL is not an http(s) URL: low-stock alerts are off")
        return None
    return url


def open_inventory_with_alerts(
    settings: ServiceSettings,
    store: DocumentStore,
    *,
    clock: Clock = utc_now,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[Inventory, LowStockAlerts | None]:
    """The engine over `store`; with a webhook URL, over `store` watched by the alerts."""
    url = webhook_url(settings)
    if url is None:
        return open_inventory(settings, store, clock=clock), None
    from service.alerts.delivery import WebhookSender
    from service.alerts.notifier import LowStockAlerts

    alerts = LowStockAlerts(
        store,
        WebhookSender(url, sleep=sleep, transport=transport),
        default_threshold=settings.low_stock_threshold,
    )
    inventory = open_inventory(settings, alerts.watch(store), clock=clock)
    alerts.errors = inventory
    return inventory, alerts
