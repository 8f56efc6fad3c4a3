"""What a request handler can reach: settings, the store, the engine, the clock, the keys."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from cms_client.clock import Clock
from cms_client.store import DocumentStore
from service.config import ServiceSettings, StaffKeys
from service.engine import Inventory


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
    #: Reorder alerts and digest (None when LOW_STOCK_WEBHOOK_URL is unset).
    reorder_alerts: Any = None

    def uptime_seconds(self) -> float:
        return round(time.monotonic() - self.started, 3)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
