"""Health checks and the scheduled jobs."""

from __future__ import annotations

import httpx

from cms_client import mutations as m
from service.engine.inventory import Inventory
from tests.entrypoints.http.conftest import CRON, STOREFRONT, assert_error_shape
from tests.entrypoints.http.fakes import SwitchableStore
from tests.support.clock import ManualClock


async def hold(client: httpx.AsyncClient, session: str, quantity: int = 1) -> None:
    response = await client.post(
        "/api/reserve-stock",
        json={
            "sessionId": session,
            "operations": [{"productId": "timetable-zine", "quantity": quantity}],
            "expirationMinutes": 10,
        },
        headers=STOREFRONT,
    )
    assert response.status_code == 200, response.text


async def test_liveness(client: httpx.AsyncClient):
    response = await client.get("/api/health")
    assert response.json() == {
        "status": "ok",
        "service": "stocksync",
        "timestamp": "2026-11-21T12:00:00.000Z",
    }


async def test_inventory_health_counts_holds_and_is_healthy(
    client: httpx.AsyncClient, clock: ManualClock
):
    await hold(client, "cs_1")
    await hold(client, "cs_2")
    clock.advance(minutes=11)
    await hold(client, "cs_3")
    # Past expiresAt but inside the 2-minute grace: not overdue yet, as the sweep sees it.
    response = await client.get("/api/inventory-health")
    assert response.json()["metrics"]["expiredReservations"] == 0
    clock.advance(minutes=2)

    response = await client.get("/api/inventory-health")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["healthy"] is True and body["issues"] == []
    assert body["metrics"] == {
        "totalReservations": 3,
        "expiredReservations": 2,
        "recentErrors": 0,
        "criticalErrors": 0,
        "oversold": 0,
        "quarantined": [],
    }
    system = body["system"]
    assert system["timestamp"] == "2026-11-21T12:13:00.000Z"
    assert system["environment"] == "development"
    assert system["store"]["kind"] == "lake" and system["store"]["latencyMs"] >= 0
    assert system["pythonVersion"].count(".") == 2 and system["uptime"] >= 0


async def test_inventory_health_reports_critical_errors_and_oversold_products(
    client: httpx.AsyncClient, store: SwitchableStore, clock: ManualClock
):
    await Inventory(store, clock=clock).log_error("stock_deduction", "critical", "paid, no stock")
    await store.mutate([m.patch("product-railcam", set={"reservedQuantity": 9})])

    body = (await client.get("/api/inventory-health")).json()

    assert body["healthy"] is False
    assert body["metrics"]["criticalErrors"] == 1 and body["metrics"]["oversold"] == 1
    assert len(body["issues"]) == 2 and "critical" in body["issues"][0]


async def test_cron_cleanup_expires_overdue_holds(client: httpx.AsyncClient, clock: ManualClock):
    await hold(client, "cs_old", 3)
    clock.advance(minutes=13)
    await hold(client, "cs_new", 2)

    response = await client.get("/api/cron/cleanup", headers=CRON)
    again = await client.get("/api/cron/cleanup", headers=CRON)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["job"] == "cleanup"
    assert body["cleanup"]["expired"] == ["cs_old"] and body["cleanup"]["failed"] == []
    assert body["cleanup"]["purged"] == {"idempotencyRecords": 0, "errorLogs": 0}
    assert again.json()["cleanup"]["expired"] == []
    status = await client.get("/api/stock-status?productIds=timetable-zine")
    assert status.json()["stockStatus"][0]["reservedStock"] == 2


async def test_cron_reconcile_reports_what_it_checked(client: httpx.AsyncClient):
    response = await client.get("/api/cron/reconcile", headers=CRON)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["job"] == "reconcile" and body["reconcile"]["productsChecked"] == 5
    assert body["reconcile"]["repaired"] == []


async def test_post_inventory_health_cleans_up_then_checks(
    client: httpx.AsyncClient, clock: ManualClock
):
    await hold(client, "cs_gone")
    clock.advance(minutes=13)

    response = await client.post("/api/inventory-health", headers=CRON)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Cleanup completed successfully"
    assert body["cleanup"]["expired"] == ["cs_gone"]
    assert body["healthCheck"]["metrics"]["totalReservations"] == 0
    assert body["timestamp"] == "2026-11-21T12:13:00.000Z"


async def test_cron_routes_are_get_only(client: httpx.AsyncClient):
    assert_error_shape(await client.post("/api/cron/cleanup", headers=CRON), 405)
