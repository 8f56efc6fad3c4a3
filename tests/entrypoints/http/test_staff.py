"""Staff routes: adjustments with a ledger, history with filters and paging, holds, error
logs, reconcile."""

from __future__ import annotations

import httpx

from cms_client import mutations as m
from service.engine.inventory import Inventory
from tests.entrypoints.http.conftest import ADMIN, MANAGER, STOREFRONT, SUPPORT, assert_error_shape
from tests.entrypoints.http.fakes import SwitchableStore
from tests.support.clock import ManualClock


async def adjust(client: httpx.AsyncClient, **body: object) -> httpx.Response:
    return await client.post("/api/inventory/adjust", json=body, headers=MANAGER)


async def test_adjust_sets_or_moves_stock(client: httpx.AsyncClient):
    moved = await adjust(client, productId="railcam", delta=10, reason="restock", note="PO 12")
    set_size = await adjust(
        client, productId="halloween-tee", size="M", setTo=7, reason="correction"
    )

    assert moved.status_code == 200, moved.text
    assert moved.json()["adjustment"] | {"ledgerId": None} == {
        "productId": "product-railcam",
        "variantKey": None,
        "size": None,
        "reason": "restock",
        "previousStock": 5,
        "newStock": 15,
        "reserved": 0,
        "available": 15,
        "ledgerId": None,
        "replayed": False,
    }
    assert moved.json()["adjustment"]["ledgerId"].startswith("inventory.tx.")
    assert set_size.json()["adjustment"]["size"] == "m"
    assert set_size.json()["adjustment"]["newStock"] == 7
    status = await client.get("/api/stock-status?productIds=railcam,halloween-tee")
    figures = {e["productId"]: e for e in status.json()["stockStatus"]}
    assert figures["railcam"]["totalStock"] == 15
    assert {v["size"]: v["totalStock"] for v in figures["halloween-tee"]["variants"]}["m"] == 7


async def test_adjust_refuses_negative_stock_and_unknown_products(client: httpx.AsyncClient):
    negative = await adjust(client, productId="railcam", delta=-6, reason="damage")
    unknown = await adjust(client, productId="nope", delta=1, reason="restock")
    no_size = await adjust(client, productId="halloween-tee", size="xxl", delta=1, reason="restock")
    bad_reason = await adjust(client, productId="railcam", delta=1, reason="theft")

    assert_error_shape(negative, 409, "invalid_adjustment")
    assert_error_shape(unknown, 404, "product_not_found")
    assert_error_shape(no_size, 404, "variant_not_found")
    assert assert_error_shape(bad_reason, 400)["errors"][0]["field"] == "reason"


async def test_adjust_with_an_idempotency_key_applies_once(client: httpx.AsyncClient):
    headers = {**ADMIN, "Idempotency-Key": "restock-42"}
    body = {"productId": "railcam", "delta": 3, "reason": "restock"}

    first = await client.post("/api/inventory/adjust", json=body, headers=headers)
    again = await client.post("/api/inventory/adjust", json=body, headers=headers)
    other = await client.post("/api/inventory/adjust", json={**body, "delta": 4}, headers=headers)

    assert first.json()["adjustment"]["newStock"] == 8
    assert again.json()["adjustment"]["replayed"] is True
    assert_error_shape(other, 409, "idempotency_key_reused")


async def test_history_lists_entries_with_summary_and_low_stock_flag(
    client: httpx.AsyncClient, store: SwitchableStore, clock: ManualClock
):
    clock.advance(seconds=1)
    await client.post(
        "/api/reserve-stock",
        json={"sessionId": "cs_h", "operations": [{"productId": "railcam", "quantity": 2}]},
        headers=STOREFRONT,
    )
    clock.advance(seconds=1)
    await Inventory(store, clock=clock).commit("cs_h", "pi_1")
    clock.advance(minutes=1)
    await adjust(client, productId="railcam", delta=-1, reason="damage")

    response = await client.get("/api/inventory/history/railcam", headers=SUPPORT)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["productId"] == "product-railcam"
    types = [entry["type"] for entry in body["entries"]]
    assert types == ["damage", "sale", "reservation", "initial"]
    damage = body["entries"][0]
    assert damage["change"] == -1 and damage["actor"] == "mona"
    assert damage["before"] == {"stock": 3, "reserved": 0}
    assert damage["after"] == {"stock": 2, "reserved": 0}
    assert body["entries"][1]["reference"] == "cs_h"
    assert body["summary"]["sales"] == {"entries": 1, "units": -2}
    assert body["summary"]["adjustments"] == {"entries": 2, "units": 4}  # initial 5, damage -1
    assert body["stock"]["available"] == 2 and body["stock"]["state"] == "low_stock"
    assert body["lowStock"] is True


async def test_history_filters_and_pages(client: httpx.AsyncClient, clock: ManualClock):
    for delta in range(1, 6):
        clock.advance(minutes=1)
        await adjust(client, productId="timetable-zine", delta=delta, reason="restock")
    url = "/api/inventory/history/timetable-zine"

    restocks = await client.get(url, params={"type": "restock", "limit": 2}, headers=ADMIN)
    page1 = restocks.json()
    page2 = (
        await client.get(
            url,
            params={"type": "restock", "limit": 2, "cursor": page1["pagination"]["nextCursor"]},
            headers=ADMIN,
        )
    ).json()
    page3 = (
        await client.get(
            url,
            params={"type": "restock", "limit": 2, "cursor": page2["pagination"]["nextCursor"]},
            headers=ADMIN,
        )
    ).json()
    window = await client.get(
        url,
        params={"from": "2026-11-21T12:02:00Z", "to": "2026-11-21T12:04:00Z"},
        headers=ADMIN,
    )

    changes = [e["change"] for p in (page1, page2, page3) for e in p["entries"]]
    assert changes == [5, 4, 3, 2, 1]
    assert page1["pagination"]["hasMore"] is True and page3["pagination"]["hasMore"] is False
    assert page3["pagination"]["nextCursor"] is None
    assert page1["summary"]["adjustments"] == {"entries": 5, "units": 15}
    assert [e["change"] for e in window.json()["entries"]] == [4, 3, 2]
    assert window.json()["lowStock"] is False


async def test_history_of_an_unknown_product_and_a_bad_cursor(client: httpx.AsyncClient):
    assert_error_shape(
        await client.get("/api/inventory/history/never-was", headers=ADMIN),
        404,
        "product_not_found",
    )
    bad = await client.get("/api/inventory/history/railcam?cursor=nonsense", headers=ADMIN)
    assert assert_error_shape(bad, 400)["errors"][0]["field"] == "cursor"


async def test_reservations_by_status(client: httpx.AsyncClient, clock: ManualClock):
    for session in ("cs_a", "cs_b"):
        clock.advance(seconds=1)
        await client.post(
            "/api/reserve-stock",
            json={
                "sessionId": session,
                "operations": [{"productId": "timetable-zine", "quantity": 1}],
            },
            headers=STOREFRONT,
        )
    await client.post("/api/release-stock", json={"sessionId": "cs_a"}, headers=STOREFRONT)
    clock.advance(minutes=33)  # past expiresAt (30 min) plus the grace a late payment gets

    everything = (await client.get("/api/inventory/reservations", headers=SUPPORT)).json()
    active = (await client.get("/api/inventory/reservations?status=active", headers=SUPPORT)).json()

    assert [r["sessionId"] for r in everything["reservations"]] == ["cs_b", "cs_a"]
    assert [r["sessionId"] for r in active["reservations"]] == ["cs_b"]
    held = active["reservations"][0]
    assert held["overdue"] is True
    assert held["items"][0]["productId"] == "product-timetable-zine"
    assert held["items"][0]["quantity"] == 1


async def test_error_logs_are_listed_filtered_and_resolved(
    client: httpx.AsyncClient, store: SwitchableStore, clock: ManualClock
):
    inventory = Inventory(store, clock=clock)
    critical = await inventory.log_error(
        "stock_deduction", "critical", "paid but no stock", details={"sessionId": "cs_9"}
    )
    clock.advance(seconds=1)
    await inventory.log_error("webhook_processing", "low", "unknown session")

    listed = (await client.get("/api/inventory/errors", headers=SUPPORT)).json()
    criticals = (
        await client.get("/api/inventory/errors?severity=critical", headers=SUPPORT)
    ).json()
    resolved = await client.post(f"/api/inventory/errors/{critical}/resolve", headers=ADMIN)
    again = await client.post(f"/api/inventory/errors/{critical}/resolve", headers=ADMIN)
    open_logs = (await client.get("/api/inventory/errors?resolved=false", headers=SUPPORT)).json()
    closed = (await client.get("/api/inventory/errors?resolved=true", headers=SUPPORT)).json()

    assert [log["severity"] for log in listed["errorLogs"]] == ["low", "critical"]
    assert [log["id"] for log in criticals["errorLogs"]] == [critical]
    assert criticals["errorLogs"][0]["details"] == {"sessionId": "cs_9"}
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["alreadyResolved"] is False
    log = resolved.json()["errorLog"]
    assert log["resolved"] is True and log["resolvedBy"] == "alice"
    assert log["resolvedAt"] == "2026-11-21T12:00:01.000Z"
    assert again.json()["alreadyResolved"] is True
    assert [log["severity"] for log in open_logs["errorLogs"]] == ["low"]
    assert [log["id"] for log in closed["errorLogs"]] == [critical]


async def test_resolving_something_that_is_not_an_error_log_is_404(client: httpx.AsyncClient):
    for target in ("product-railcam", "inventory.error.none", "bad id!"):
        response = await client.post(f"/api/inventory/errors/{target}/resolve", headers=ADMIN)
        assert_error_shape(response, 404, "error_log_not_found")


async def test_staff_reconcile_repairs_a_bent_counter(
    client: httpx.AsyncClient, store: SwitchableStore, clock: ManualClock
):
    # A stale Studio publish left a reserved count no reservation explains.
    await store.mutate([m.patch("product-railcam", set={"reservedQuantity": 4})])
    clock.advance(minutes=5)

    response = await client.post("/api/inventory/reconcile", headers=ADMIN)

    assert response.status_code == 200, response.text
    repaired = response.json()["reconcile"]["repaired"]
    assert [(r["productId"], r["recorded"], r["expected"]) for r in repaired] == [
        ("product-railcam", 4, 0)
    ]
    status = await client.get("/api/stock-status?productIds=railcam")
    assert status.json()["stockStatus"][0]["reservedStock"] == 0
