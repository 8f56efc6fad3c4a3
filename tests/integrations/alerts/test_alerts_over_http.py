"""Alerts of the HTTP app: sent after the response, whatever route changed the stock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from cms_client.lake import Lake
from service.config import ServiceSettings
from service.engine.inventory import Inventory
from service.entrypoints.cli.demo import seed_catalogue
from service.entrypoints.http.app import create_app
from tests.entrypoints.http.conftest import app_client
from tests.integrations.alerts.receiver import Receiver
from tests.support.clock import ManualClock

MANAGER = {"X-API-Key": "manager-key"}
STOREFRONT = {"Authorization": "Bearer sf-key"}


@asynccontextmanager
async def serving(
    clock: ManualClock, **values: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Lake]]:
    lake = Lake(None, clock=clock)
    await seed_catalogue(lake, Inventory(lake, clock=clock))
    settings = ServiceSettings(
        _env_file=None,
        admin_api_keys="mona:inventory_manager:manager-key",
        storefront_api_key="sf-key",
        **values,
    )
    try:
        async with app_client(create_app(settings, store=lake, clock=clock)) as client:
            yield client, lake
    finally:
        await lake.aclose()


async def test_an_adjustment_through_the_api_is_announced(
    clock: ManualClock, receiver: Receiver
) -> None:
    async with serving(clock, low_stock_webhook_url=receiver.url) as (client, _):
        response = await client.post(
            "/api/inventory/adjust",
            json={"productId": "timetable-zine", "setTo": 0, "reason": "damage"},
            headers=MANAGER,
        )
        assert response.status_code == 200, response.text
    assert receiver.alerts() == [("product-timetable-zine", None, "out_of_stock")]


async def test_a_checkout_hold_is_announced_and_the_storefront_still_gets_its_answer(
    clock: ManualClock, receiver: Receiver
) -> None:
    receiver.statuses = [400]  # a receiver that refuses: logged, never the shop's problem
    async with serving(clock, low_stock_webhook_url=receiver.url) as (client, _):
        response = await client.post(
            "/api/reserve-stock",
            json={
                "sessionId": "cs_http_1",
                "operations": [{"productId": "station-hoodie", "size": "S", "quantity": 8}],
            },
            headers=STOREFRONT,
        )
        assert response.status_code == 200, response.text
        assert response.json()["success"] is True
        logs = await client.get(
            "/api/inventory/errors", params={"type": "webhook_processing"}, headers=MANAGER
        )
    assert receiver.hits == 1
    (log,) = logs.json()["errorLogs"]
    assert log["productId"] == "product-station-hoodie"
    assert "Out of stock: Station Hoodie (s)" in log["message"]


async def test_without_a_webhook_url_no_alert_state_is_kept(clock: ManualClock) -> None:
    async with serving(clock) as (client, lake):
        response = await client.post(
            "/api/inventory/adjust",
            json={"productId": "timetable-zine", "setTo": 0, "reason": "damage"},
            headers=MANAGER,
        )
        assert response.status_code == 200
        assert await lake.query('count(*[_type == "inventoryAlert"])') == 0


async def test_with_a_webhook_url_the_alert_state_is_kept_in_the_dataset(
    clock: ManualClock, receiver: Receiver
) -> None:
    async with serving(clock, low_stock_webhook_url=receiver.url) as (client, lake):
        await client.post(
            "/api/inventory/adjust",
            json={"productId": "station-hoodie", "size": "l", "setTo": 0, "reason": "damage"},
            headers=MANAGER,
        )
        (record,) = await lake.get_documents(["inventory.alert.product-station-hoodie.size-l"])
    assert record is not None
    assert (record["_type"], record["alerted"], record["size"]) == (
        "inventoryAlert",
        ["out_of_stock"],
        "l",
    )
