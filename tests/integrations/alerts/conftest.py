"""An engine over the demo catalogue with low-stock alerts posting to a local receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cms_client.lake import Lake
from service.bootstrap import open_runtime
from service.config import ServiceSettings
from service.engine.inventory import Inventory
from service.entrypoints.cli.demo import seed_catalogue
from service.integrations.alerts.notifier import LowStockAlerts
from service.integrations.alerts.reorder import ReorderAlerts
from tests.integrations.alerts.receiver import Receiver, running_receiver
from tests.support.clock import ManualClock


@dataclass
class AlertingEngine:
    inventory: Inventory
    alerts: LowStockAlerts
    lake: Lake
    sleeps: list[float] = field(default_factory=list)
    reorder: ReorderAlerts | None = None

    async def settle(self) -> None:
        """Outside a request, alerts run in tasks of their own: wait for them."""
        await self.alerts.drain()
        if self.reorder is not None:
            await self.reorder.drain()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def open_engine(clock: ManualClock, tmp_path: Path) -> Callable[..., Any]:
    """`async with open_engine(url, path=None) as engine:` an alerting engine; engines
    opened on the same `path` share one lake file, like processes on one dataset."""

    @asynccontextmanager
    async def opened(url: str, *, path: Path | None = None) -> AsyncIterator[AlertingEngine]:
        lake = Lake(str(path) if path else None, clock=clock)
        sleeps: list[float] = []

        async def fake_sleep(seconds: float) -> None:
            sleeps.append(seconds)

        settings = ServiceSettings(_env_file=None, low_stock_webhook_url=url)
        runtime = open_runtime(settings, store=lake, clock=clock, sleep=fake_sleep)
        assert runtime.alerts is not None
        engine = AlertingEngine(
            runtime.inventory, runtime.alerts, lake, sleeps, reorder=runtime.reorder_alerts
        )
        try:
            yield engine
        finally:
            await runtime.aclose()
            await lake.aclose()

    return opened


@pytest.fixture
async def engine(
    open_engine: Callable[..., Any], receiver: Receiver
) -> AsyncIterator[AlertingEngine]:
    """railcam 5, halloween-tee s 3 / m 2, railways-and-sleepers 0, station-hoodie
    s 8 / m 0 / l 4, timetable-zine 40 (threshold 10); default threshold 5."""
    async with open_engine(receiver.url) as opened:
        assert await seed_catalogue(opened.lake, opened.inventory)
        await opened.settle()
        yield opened
