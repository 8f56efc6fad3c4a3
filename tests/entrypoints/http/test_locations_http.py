"""Stock locations over HTTP (issue 17 B): adjust at a location, transfer, status, list."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from cms_client import mutations as m
from tests.entrypoints.http.conftest import (
    MANAGER,
    STOREFRONT,
    SUPPORT,
    assert_error_shape,
)
from tests.entrypoints.http.fakes import SwitchableStore

LOCATIONS = [
    {
        "_id": "loc-warehouse",
        "_type": "stockLocation",
        "name": "Warehouse",
        "slug": {"current": "warehouse"},
        "priority": 1,
    },
    {
        "_id": "loc-shop",
        "_type": "stockLocation",
        "name": "Shop <Main>",
        "slug": {"current": "shop"},
        "priority": 2,
    },
]
LAMP = {
    "_id": "product-lamp",
    "_type": "product",
    "title": "Lamp",
    "slug": {"current": "lamp"},
    "stockQuantity": 7,
    "locationStock": [
        {"_key": "w", "location": {"_type": "reference", "_ref": "loc-warehouse"}, "stock": 3},
        {"_key": "s", "location": {"_type": "reference", "_ref": "loc-shop"}, "stock": 4},
    ],
}


@pytest.fixture
async def lamp(store: SwitchableStore) -> None:
    await store.mutate([m.create(doc) for doc in (*LOCATIONS, LAMP)])


async def status(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    response = await client.get("/api/stock-status", params={"productIds": "lamp", **params})
    assert response.status_code == 200, response.text
    entry: dict[str, Any] = response.json()["stockStatus"][0]
    return entry


async def test_reserve_splits_across_locations_and_staff_see_the_allocations(
    client: httpx.AsyncClient, lamp: None
) -> None:
    held = await client.post(
        "/api/reserve-stock",
        json={"sessionId": "cs_1", "operations": [{"productId": "lamp", "quantity": 5}]},
        headers=STOREFRONT,
    )
    assert held.status_code == 200, held.text
    overall = await status(client)
    assert (overall["totalStock"], overall["reservedStock"], overall["availableStock"]) == (7, 5, 2)
    assert [(f["location"], f["reserved"]) for f in overall["locations"]] == [
        ("warehouse", 3),
        ("shop", 2),
    ]
    shop = await status(client, location="shop")
    assert (shop["location"], shop["totalStock"], shop["availableStock"]) == ("shop", 4, 2)
    listing = await client.get("/api/inventory/reservations", headers=SUPPORT)
    (hold,) = listing.json()["reservations"]
    assert [(a["location"], a["quantity"]) for a in hold["items"][0]["allocations"]] == [
        ("loc-warehouse", 3),
        ("loc-shop", 2),
    ]


async def test_unknown_location_is_404_with_the_one_error_shape(
    client: httpx.AsyncClient, lamp: None
) -> None:
    response = await client.get("/api/stock-status?productIds=lamp&location=attic")
    body = assert_error_shape(response, 404, "location_not_found")
    assert all(isinstance(d, str) for d in body["details"])
    assert "attic" in body["message"]


async def test_adjust_at_a_location_and_a_missing_location_is_named(
    client: httpx.AsyncClient, lamp: None
) -> None:
    missing = await client.post(
        "/api/inventory/adjust",
        json={"productId": "lamp", "delta": 2, "reason": "restock"},
        headers=MANAGER,
    )
    body = assert_error_shape(missing, 400, "invalid_request")
    assert body["errors"][0]["field"] == "location"
    done = await client.post(
        "/api/inventory/adjust",
        json={"productId": "lamp", "delta": 2, "reason": "restock", "location": "shop"},
        headers=MANAGER,
    )
    assert done.status_code == 200, done.text
    adjustment = done.json()["adjustment"]
    assert (adjustment["newStock"], adjustment["location"], adjustment["locationStock"]) == (
        9,
        "shop",
        6,
    )


async def test_transfer_moves_units_and_refuses_what_from_lacks(
    client: httpx.AsyncClient, lamp: None
) -> None:
    moved = await client.post(
        "/api/inventory/transfer",
        json={"productId": "lamp", "from": "warehouse", "to": "shop", "quantity": 2},
        headers=MANAGER,
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["transfer"]["fromStock"], moved.json()["transfer"]["toStock"]) == (1, 6)
    assert moved.json()["actor"] == "mona"
    short = await client.post(
        "/api/inventory/transfer",
        json={"productId": "lamp", "from": "warehouse", "to": "shop", "quantity": 2},
        headers=MANAGER,
    )
    body = assert_error_shape(short, 409, "insufficient_stock")
    assert all(isinstance(d, str) for d in body["details"])
    unknown = await client.post(
        "/api/inventory/transfer",
        json={"productId": "lamp", "from": "attic", "to": "shop", "quantity": 1},
        headers=MANAGER,
    )
    assert_error_shape(unknown, 404, "location_not_found")
    support = await client.post(
        "/api/inventory/transfer",
        json={"productId": "lamp", "from": "shop", "to": "warehouse", "quantity": 1},
        headers=SUPPORT,
    )
    assert_error_shape(support, 403, "forbidden")
    assert (await status(client))["totalStock"] == 7


async def test_locations_list_with_totals(client: httpx.AsyncClient, lamp: None) -> None:
    await client.post(
        "/api/reserve-stock",
        json={"sessionId": "cs_1", "operations": [{"productId": "lamp", "quantity": 4}]},
        headers=STOREFRONT,
    )
    listed = await client.get("/api/inventory/locations", headers=SUPPORT)
    assert listed.status_code == 200, listed.text
    rows = [
        (row["slug"], row["stock"], row["reserved"], row["available"])
        for row in listed.json()["locations"]
    ]
    assert rows == [("warehouse", 3, 3, 0), ("shop", 4, 1, 3)]


async def test_products_without_locations_answer_as_before(client: httpx.AsyncClient) -> None:
    entry = (await client.get("/api/stock-status?productIds=railcam")).json()["stockStatus"][0]
    assert "locations" not in entry and "location" not in entry
    refused = await client.post(
        "/api/inventory/adjust",
        json={"productId": "railcam", "delta": 1, "reason": "restock", "location": "shop"},
        headers=MANAGER,
    )
    assert refused.status_code in (400, 404)


async def test_the_export_lists_a_located_line_per_location_and_imports_back_there(
    client: httpx.AsyncClient, store: SwitchableStore, lamp: None
) -> None:
    exported = await client.get("/api/inventory/export", headers=SUPPORT)
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text, newline="")))
    lamp_rows = {r["location"]: r for r in rows if r["productId"] == "lamp"}
    # One row per location, no total row that would set the total back.
    assert {k: (r["stock"], r["available"]) for k, r in lamp_rows.items()} == {
        "warehouse": ("3", "3"),
        "shop": ("4", "4"),
    }
    assert all(r["location"] == "" for r in rows if r["productId"] != "lamp")

    lamp_rows["shop"]["stock"] = "6"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    imported = await client.post(
        "/api/inventory/import?reason=correction",
        content=out.getvalue().encode(),
        headers={**MANAGER, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    changed = [
        (r["location"], r["before"], r["after"]) for r in imported.json()["rows"] if r["change"]
    ]
    assert changed == [("shop", 4, 6)]
    figures = await status(client)
    assert figures["totalStock"] == 9
    assert {p["location"]: p["stock"] for p in figures["locations"]} == {
        "warehouse": 3,
        "shop": 6,
    }
