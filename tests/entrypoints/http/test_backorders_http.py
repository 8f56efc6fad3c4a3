"""Backorders and pre-orders over HTTP (issue 17 A): what a storefront and staff see."""

from __future__ import annotations

from datetime import timedelta

import httpx

from cms_client import mutations as m
from service.engine.inventory import Inventory
from tests.entrypoints.http.conftest import MANAGER, STOREFRONT, SUPPORT, assert_error_shape
from tests.entrypoints.http.fakes import SwitchableStore
from tests.support.clock import ManualClock

KETTLE = {
    "_id": "product-kettle",
    "_type": "product",
    "title": "Kettle <b>",
    "slug": {"current": "kettle"},
    "stockQuantity": 1,
    "inventoryPolicy": "backorder",
    "backorderLimit": 3,
}


async def reserve(client: httpx.AsyncClient, session: str, quantity: int) -> httpx.Response:
    return await client.post(
        "/api/reserve-stock",
        json={"sessionId": session, "operations": [{"productId": "kettle", "quantity": quantity}]},
        headers=STOREFRONT,
    )


async def kettle_status(client: httpx.AsyncClient) -> dict[str, object]:
    response = await client.get("/api/stock-status", params={"productIds": "kettle"})
    assert response.status_code == 200, response.text
    entry: dict[str, object] = response.json()["stockStatus"][0]
    return entry


async def test_reserve_beyond_stock_answers_backordered_and_fulfilment(
    client: httpx.AsyncClient, store: SwitchableStore
) -> None:
    await store.mutate([m.create(KETTLE)])
    held = await reserve(client, "cs_1", 3)
    assert held.status_code == 200, held.text
    (answer,) = held.json()["reservation"]["lines"]
    assert (answer["backordered"], answer["fulfilment"]) == (2, "backorder")
    status = await kettle_status(client)
    assert status["state"] == "backorder"
    assert (status["inventoryPolicy"], status["backorderAvailable"]) == ("backorder", 1)
    assert status["availableStock"] == 0 and status["totalStock"] == 1

    refused = await reserve(client, "cs_2", 2)
    body = assert_error_shape(refused, 409, "insufficient_stock")
    assert all(isinstance(line, str) for line in body["details"])
    assert "1 more on backorder" in body["details"][0]


async def test_products_without_a_policy_answer_without_the_new_fields(
    client: httpx.AsyncClient,
) -> None:
    held = await client.post(
        "/api/reserve-stock",
        json={"sessionId": "cs_x", "operations": [{"productId": "railcam", "quantity": 1}]},
        headers=STOREFRONT,
    )
    line = held.json()["reservation"]["lines"][0]
    assert "backordered" not in line and "fulfilment" not in line
    status = (await client.get("/api/stock-status?productIds=railcam")).json()["stockStatus"][0]
    assert not {"inventoryPolicy", "backorderAvailable", "backordered"} & set(status)


async def test_paid_backorders_are_listed_oldest_first_and_restock_fills_them(
    client: httpx.AsyncClient, store: SwitchableStore, clock: ManualClock
) -> None:
    await store.mutate([m.create(KETTLE)])
    inventory = Inventory(store, clock=clock)
    assert (await reserve(client, "cs_old", 2)).status_code == 200
    assert (await reserve(client, "cs_new", 2)).status_code == 200
    await inventory.commit("cs_old", "pi_old")
    clock.advance(minutes=2)
    await inventory.commit("cs_new", "pi_new")

    listed = await client.get("/api/inventory/backorders", headers=SUPPORT)
    assert listed.status_code == 200, listed.text
    rows = [(b["sessionId"], b["productId"], b["quantity"]) for b in listed.json()["backorders"]]
    assert rows == [("cs_old", "product-kettle", 1), ("cs_new", "product-kettle", 2)]
    assert listed.json()["backorders"][0]["since"] < listed.json()["backorders"][1]["since"]

    restock = await client.post(
        "/api/inventory/adjust",
        json={"productId": "kettle", "delta": 2, "reason": "restock"},
        headers=MANAGER,
    )
    assert restock.status_code == 200, restock.text
    adjustment = restock.json()["adjustment"]
    assert (adjustment["backorderFilled"], adjustment["newStock"]) == (2, 0)
    after = await client.get("/api/inventory/backorders", headers=SUPPORT)
    # The oldest is filled; the newer one shows what is still open after a partial fill.
    assert [(b["sessionId"], b["quantity"]) for b in after.json()["backorders"]] == [("cs_new", 1)]
    assert (await kettle_status(client))["backordered"] == 1


async def test_the_backorder_list_needs_a_staff_key(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/api/inventory/backorders")
    storefront = await client.get("/api/inventory/backorders", headers=STOREFRONT)
    assert_error_shape(anonymous, 401)
    assert storefront.status_code in (401, 403)


async def test_preorder_status_and_reserve(
    client: httpx.AsyncClient, store: SwitchableStore, clock: ManualClock
) -> None:
    ships = (clock() + timedelta(days=30)).date().isoformat()
    await store.mutate(
        [
            m.create(
                {
                    "_id": "product-book",
                    "_type": "product",
                    "title": "Book",
                    "slug": {"current": "book"},
                    "inventoryPolicy": "preorder",
                    "availableFrom": ships,
                }
            )
        ]
    )
    status = (await client.get("/api/stock-status?productIds=book")).json()["stockStatus"][0]
    assert (status["state"], status["availableFrom"]) == ("preorder", ships)
    assert "backorderAvailable" not in status  # no limit
    held = await client.post(
        "/api/reserve-stock",
        json={"sessionId": "cs_b", "operations": [{"productId": "book", "quantity": 2}]},
        headers=STOREFRONT,
    )
    assert held.json()["reservation"]["lines"][0]["fulfilment"] == "preorder"
