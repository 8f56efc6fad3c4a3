"""Alerts of a CLI run: the command opens the engine with alerts like the app does, and
sends what its changes announce before it exits."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cms_client import mutations as m
from cms_client.lake import Lake
from schemas.operations import LineRequest
from service.engine.inventory import Inventory
from service.entrypoints.cli.demo import seed_catalogue
from service.entrypoints.cli.main import main
from tests.integrations.alerts.receiver import Receiver
from tests.support.clock import ManualClock


def bent_zine(path: Path) -> None:
    """timetable-zine (40, threshold 10) with 35 held, then a stale publish that set its
    reserved count back to 0, an hour ago: the counters say in stock, the holds say low."""

    async def run() -> None:
        past = ManualClock(datetime.now(UTC) - timedelta(hours=1))
        async with Lake(path, clock=past) as lake:
            inventory = Inventory(lake, clock=past)
            await seed_catalogue(lake, inventory)
            await inventory.reserve(
                "cs_bulk", [LineRequest(product_id="timetable-zine", quantity=35)]
            )
            await lake.mutate([m.patch("product-timetable-zine", set={"reservedQuantity": 0})])

    asyncio.run(run())


def test_a_cli_reconcile_sends_the_alert_its_repair_causes_before_exiting(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "lake.sqlite3"
    bent_zine(data)
    monkeypatch.setenv("STOCKSYNC_DATA", str(data))
    monkeypatch.setenv("LOW_STOCK_WEBHOOK_URL", receiver.url)

    assert main(["reconcile"]) == 0

    assert receiver.alerts() == [("product-timetable-zine", None, "low_stock")]
