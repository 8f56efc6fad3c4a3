"""The storefront routes keep the contract's paths and field names, over the demo catalogue."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.entrypoints.http.conftest import STOREFRONT, assert_error_shape
from tests.support.clock import ManualClock


async def reserve(
    client: httpx.AsyncClient, session: str, *operations: dict[str, object], **extra: object
) -> httpx.Response:
    return await client.post(
        "/api/reserve-stock",
        json={"sessionId": session, "operations": list(operations), **extra},
        headers=STOREFRONT,
    )


async def status(client: httpx.AsyncClient, *names: str) -> dict[str, dict[str, Any]]:
    response = await client.get("/api/stock-status", params={"productIds": ",".join(names)})
    assert response.status_code == 200, response.text
    return {entry["productId"]: entry for entry in response.json()["stockStatus"]}


async def test_stock_status_of_simple_sized_and_sold_out_products(client: httpx.AsyncClient):
    response = await client.get(
        "/api/stock-status",
        params={"productIds": "railcam,halloween-tee,railways-and-sleepers,no-such-thing"},
    )

    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=5, s-maxage=5"
    body = response.json()
    assert body["success"] is True and body["timestamp"].endswith("Z")
    assert body["notFound"] == ["no-such-thing"]
    entries = {entry["productId"]: entry for entry in body["stockStatus"]}
    railcam = entries["railcam"]
    assert (railcam["totalStock"], railcam["reservedStock"], railcam["availableStock"]) == (5, 0, 5)
    assert railcam["inStock"] is True and railcam["title"] == "Railcam"
    assert "variants" not in railcam
    tee = entries["halloween-tee"]
    assert {v["size"]: v["availableStock"] for v in tee["variants"]} == {"s": 3, "m": 2}
    assert all(v["inStock"] for v in tee["variants"])
    sold_out = entries["railways-and-sleepers"]
    assert sold_out["availableStock"] == 0
    assert sold_out["inStock"] is False and sold_out["state"] == "out_of_stock"


async def test_stock_status_states_follow_the_low_stock_threshold(client: httpx.AsyncClient):
    entries = await status(client, "timetable-zine", "station-hoodie")
    assert entries["timetable-zine"]["state"] == "in_stock"
    hoodie = {v["size"]: v["state"] for v in entries["station-hoodie"]["variants"]}
    assert hoodie == {"s": "in_stock", "m": "out_of_stock", "l": "low_stock"}


async def test_stock_status_needs_product_ids(client: httpx.AsyncClient):
    for query in ("", "?productIds=", "?productIds=,,"):
        body = assert_error_shape(
            await client.get(f"/api/stock-status{query}"), 400, "invalid_request"
        )
        assert "productIds" in body["message"]


async def test_stock_status_refuses_more_than_100_products(client: httpx.AsyncClient):
    names = ",".join(f"p{i}" for i in range(101))
    body = assert_error_shape(
        await client.get("/api/stock-status", params={"productIds": names}), 400
    )
    assert body["errors"][0]["field"] == "productIds"


async def test_reserve_holds_stock_and_answers_the_contract_shape(client: httpx.AsyncClient):
    response = await reserve(
        client,
        "cs_test_1",
        {"productId": "railcam", "quantity": 2},
        {"productId": "halloween-tee", "quantity": 1, "size": "m"},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["errors"] == []
    assert body["message"] == "Stock reserved successfully"
    assert body["sessionId"] == "cs_test_1"
    assert body["expiresAt"] == "2026-11-21T12:30:00.000Z"  # default 30 minutes
    reservation = body["reservation"]
    assert reservation["status"] == "active" and reservation["replayed"] is False
    assert [
        (line["productId"], line["size"], line["quantity"]) for line in reservation["lines"]
    ] == [
        ("railcam", None, 2),
        ("halloween-tee", "m", 1),
    ]
    entries = await status(client, "railcam", "halloween-tee")
    assert entries["railcam"]["reservedStock"] == 2 and entries["railcam"]["availableStock"] == 3
    sizes = {v["size"]: v for v in entries["halloween-tee"]["variants"]}
    assert sizes["m"]["reservedStock"] == 1 and sizes["m"]["availableStock"] == 1


@pytest.mark.parametrize("size", ["M", "m", " m "])
async def test_size_is_matched_case_insensitively(client: httpx.AsyncClient, size: str):
    response = await reserve(
        client, "cs_size", {"productId": "halloween-tee", "quantity": 2, "size": size}
    )

    assert response.status_code == 200, response.text
    assert response.json()["reservation"]["lines"][0]["size"] == "m"
    sizes = {
        v["size"]: v for v in (await status(client, "halloween-tee"))["halloween-tee"]["variants"]
    }
    assert sizes["m"]["availableStock"] == 0 and sizes["s"]["availableStock"] == 3


async def test_reserve_expiration_minutes_is_bounded_by_the_maximum(client: httpx.AsyncClient):
    asked = await reserve(
        client, "cs_ttl_10", {"productId": "railcam", "quantity": 1}, expirationMinutes=10
    )
    capped = await reserve(
        client, "cs_ttl_max", {"productId": "railcam", "quantity": 1}, expirationMinutes=600
    )

    assert asked.json()["expiresAt"] == "2026-11-21T12:10:00.000Z"
    assert capped.json()["expiresAt"] == "2026-11-21T13:00:00.000Z"  # max 60 minutes


async def test_over_reserve_is_refused_with_per_line_details(client: httpx.AsyncClient):
    response = await reserve(
        client,
        "cs_short",
        {"productId": "railcam", "quantity": 6},
        {"productId": "halloween-tee", "quantity": 1, "size": "s"},
        {"productId": "railways-and-sleepers", "quantity": 1},
        {"productId": "halloween-tee", "quantity": 1, "size": "xl"},
    )

    body = assert_error_shape(response, 409, "insufficient_stock")
    assert body["error"] == "Stock reservation failed"
    assert all(isinstance(line, str) for line in body["details"]) and len(body["details"]) == 3
    errors = {(e["productId"], e["size"]): e for e in body["errors"]}
    assert set(errors) == {
        ("railcam", None),
        ("railways-and-sleepers", None),
        ("halloween-tee", "xl"),
    }
    assert (errors["railcam", None]["requested"], errors["railcam", None]["available"]) == (6, 5)
    assert errors["railcam", None]["code"] == "insufficient_stock"
    assert errors["railways-and-sleepers", None]["available"] == 0
    assert errors["halloween-tee", "xl"]["code"] == "variant_not_found"
    assert "Railcam" in errors["railcam", None]["message"]
    # All or nothing: the line that fitted was not held either.
    sizes = {
        v["size"]: v for v in (await status(client, "halloween-tee"))["halloween-tee"]["variants"]
    }
    assert sizes["s"]["reservedStock"] == 0


async def test_lines_of_one_product_are_added_up_before_checking(client: httpx.AsyncClient):
    response = await reserve(
        client,
        "cs_twice",
        {"productId": "railcam", "quantity": 3},
        {"productId": "railcam", "quantity": 3},
    )

    body = assert_error_shape(response, 409, "insufficient_stock")
    assert body["errors"][0]["requested"] == 6


async def test_unknown_product_is_a_409_line_error(client: httpx.AsyncClient):
    body = assert_error_shape(
        await reserve(client, "cs_x", {"productId": "nothing-here", "quantity": 1}), 409
    )
    assert body["errors"][0]["code"] == "product_not_found"
    assert body["details"] == [body["errors"][0]["message"]]


async def test_repeating_a_reserve_replays_it_and_other_lines_conflict(client: httpx.AsyncClient):
    line = {"productId": "railcam", "quantity": 2}
    first = await reserve(client, "cs_again", line)
    second = await reserve(client, "cs_again", line)
    other = await reserve(client, "cs_again", {"productId": "railcam", "quantity": 1})

    assert second.status_code == 200 and second.json()["reservation"]["replayed"] is True
    assert second.json()["expiresAt"] == first.json()["expiresAt"]
    assert (await status(client, "railcam"))["railcam"]["reservedStock"] == 2
    assert_error_shape(other, 409, "reservation_conflict")


async def test_two_concurrent_reserves_of_3_against_5_exactly_one_wins(client: httpx.AsyncClient):
    results = await asyncio.gather(
        *(
            reserve(client, f"cs_race_{i}", {"productId": "railcam", "quantity": 3})
            for i in range(2)
        )
    )

    assert sorted(r.status_code for r in results) == [200, 409]
    assert (await status(client, "railcam"))["railcam"]["reservedStock"] == 3


async def test_configured_line_quantity_limit_names_the_field(open_client, catalogue):
    from tests.entrypoints.http.conftest import KEYS

    async with open_client(**KEYS, STOCKSYNC_MAX_QUANTITY_PER_LINE=3) as client:
        response = await reserve(client, "cs_many", {"productId": "timetable-zine", "quantity": 4})
    body = assert_error_shape(response, 400, "invalid_request")
    assert body["errors"][0]["field"].startswith("operations")


async def test_release_gives_the_hold_back_once(client: httpx.AsyncClient):
    await reserve(client, "cs_rel", {"productId": "railcam", "quantity": 2})

    released = await client.post(
        "/api/release-stock", json={"sessionId": "cs_rel"}, headers=STOREFRONT
    )
    again = await client.post(
        "/api/release-stock", json={"sessionId": "cs_rel"}, headers=STOREFRONT
    )
    unknown = await client.post(
        "/api/release-stock", json={"sessionId": "cs_never"}, headers=STOREFRONT
    )

    assert released.status_code == 200, released.text
    body = released.json()
    assert body["success"] is True and body["message"] == "Stock released successfully"
    assert body["sessionId"] == "cs_rel" and body["status"] == "released"
    assert [(line["productId"], line["quantity"]) for line in body["released"]] == [
        ("product-railcam", 2)
    ]
    assert (await status(client, "railcam"))["railcam"]["reservedStock"] == 0
    # Sent again (its answer was lost, or a double click): the release, replayed.
    assert again.status_code == 200, again.text
    assert again.json()["replayed"] is True and again.json()["released"] == body["released"]
    assert (await status(client, "railcam"))["railcam"]["reservedStock"] == 0
    assert_error_shape(unknown, 404, "reservation_not_found")


async def test_release_of_some_lines_keeps_the_rest_held(client: httpx.AsyncClient):
    await reserve(
        client,
        "cs_part",
        {"productId": "railcam", "quantity": 2},
        {"productId": "halloween-tee", "quantity": 2, "size": "s"},
    )

    response = await client.post(
        "/api/release-stock",
        json={
            "sessionId": "cs_part",
            "operations": [{"productId": "halloween-tee", "quantity": 1, "size": "S"}],
        },
        headers=STOREFRONT,
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "active"
    entries = await status(client, "railcam", "halloween-tee")
    assert entries["railcam"]["reservedStock"] == 2
    assert {v["size"]: v["reservedStock"] for v in entries["halloween-tee"]["variants"]}["s"] == 1


async def test_release_with_an_idempotency_key_applies_once(client: httpx.AsyncClient):
    await reserve(client, "cs_key", {"productId": "timetable-zine", "quantity": 4})
    partial = {
        "sessionId": "cs_key",
        "operations": [{"productId": "timetable-zine", "quantity": 1}],
    }
    headers = {**STOREFRONT, "Idempotency-Key": "release-1"}

    first = await client.post("/api/release-stock", json=partial, headers=headers)
    second = await client.post("/api/release-stock", json=partial, headers=headers)

    assert first.status_code == second.status_code == 200
    assert second.json()["replayed"] is True
    assert (await status(client, "timetable-zine"))["timetable-zine"]["reservedStock"] == 3


async def test_an_expired_hold_stops_counting_before_any_cron(
    client: httpx.AsyncClient, clock: ManualClock
):
    await reserve(client, "cs_old", {"productId": "railcam", "quantity": 5}, expirationMinutes=10)
    clock.advance(minutes=13)  # past expiry plus the 2-minute grace

    response = await reserve(client, "cs_new", {"productId": "railcam", "quantity": 3})

    assert response.status_code == 200, response.text
    assert response.json()["reservation"]["reclaimed"] == ["cs_old"]
    late_release = await client.post(
        "/api/release-stock", json={"sessionId": "cs_old"}, headers=STOREFRONT
    )
    assert_error_shape(late_release, 409, "reservation_not_active")


async def test_cart_validation_checks_every_line(client: httpx.AsyncClient):
    await reserve(client, "cs_cart", {"productId": "halloween-tee", "quantity": 1, "size": "m"})

    response = await client.post(
        "/api/stock-status",
        json={
            "items": [
                {"productId": "railcam", "quantity": 5},
                {"productId": "halloween-tee", "quantity": 1, "size": "M"},
                {"productId": "halloween-tee", "quantity": 1, "size": "m"},
                {"productId": "railways-and-sleepers", "quantity": 1},
                {"productId": "halloween-tee", "quantity": 1},
                {"productId": "gone", "quantity": 1},
            ]
        },
        headers=STOREFRONT,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["allInStock"] is False
    checks = body["stockChecks"]
    assert [c["inStock"] for c in checks] == [True, False, False, False, False, False]
    assert [c["code"] for c in checks] == [
        "ok",
        "insufficient_stock",  # two lines of size m ask 2; 1 is left
        "insufficient_stock",
        "insufficient_stock",
        "variant_required",
        "product_not_found",
    ]
    assert checks[0]["productTitle"] == "Railcam" and checks[0]["availableStock"] == 5
    assert checks[1]["requestedQuantity"] == 1 and checks[1]["availableStock"] == 1
    assert checks[1]["size"] == "m"
    assert checks[5] == {
        "productId": "gone",
        "requestedQuantity": 1,
        "availableStock": 0,
        "inStock": False,
        "code": "product_not_found",
        "error": "Product not found",
    }


async def test_cart_validation_of_an_available_cart(client: httpx.AsyncClient):
    response = await client.post(
        "/api/stock-status",
        json={"items": [{"productId": "halloween-tee", "quantity": 3, "size": "S"}]},
        headers=STOREFRONT,
    )
    assert response.json()["allInStock"] is True


async def test_an_empty_cart_is_in_stock(client: httpx.AsyncClient):
    response = await client.post("/api/stock-status", json={"items": []}, headers=STOREFRONT)
    assert response.status_code == 200 and response.json()["allInStock"] is True


async def test_cart_check_judges_lines_as_the_reserve_that_follows(client: httpx.AsyncClient):
    # Same product named by slug and by `_id`, same size in two cases: one total, as a
    # reserve merges them; the check's words are the reserve's words.
    doc_id = (await status(client, "halloween-tee"))["halloween-tee"]["id"]
    lines = [
        {"productId": "halloween-tee", "quantity": 1, "size": "m"},
        {"productId": doc_id, "quantity": 2, "size": "M"},
    ]
    checked = await client.post("/api/stock-status", json={"items": lines}, headers=STOREFRONT)
    assert checked.status_code == 200, checked.text
    checks = checked.json()["stockChecks"]
    assert [c["code"] for c in checks] == ["insufficient_stock", "insufficient_stock"]

    refused = await reserve(client, "cs_same_words", *lines)
    (message,) = assert_error_shape(refused, 409, "insufficient_stock")["details"]
    assert [c["error"] for c in checks] == [message, message]
    assert "Halloween Tee size m: requested 3, available 2" in message
