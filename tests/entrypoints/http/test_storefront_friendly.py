"""What a storefront (and its staff) notice: cart lines posted as they are, what is left
after a hold, and stock that cannot silently drop under open checkouts."""

from __future__ import annotations

from typing import Any

import httpx

from tests.entrypoints.http.conftest import ADMIN, STOREFRONT, assert_error_shape


async def reserve(
    client: httpx.AsyncClient, session: str, *lines: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        "/api/reserve-stock",
        json={"sessionId": session, "operations": list(lines)},
        headers=STOREFRONT,
    )


async def stock(client: httpx.AsyncClient, product: str) -> dict[str, Any]:
    answer = await client.get("/api/stock-status", params={"productIds": product})
    row: dict[str, Any] = answer.json()["stockStatus"][0]
    return row


async def test_cart_lines_with_their_own_fields_are_held(client: httpx.AsyncClient) -> None:
    line = {
        "productId": "halloween-tee",
        "quantity": 1,
        "size": "M",
        "name": "Halloween Tee",
        "price": 2500,
        "image": {"url": "https://cdn.example/tee.png"},
    }
    held = await reserve(client, "cs_cart", line)
    assert held.status_code == 200, held.text
    (answer,) = held.json()["reservation"]["lines"]
    assert "price" not in answer and "name" not in answer
    checked = await client.post(
        "/api/stock-status",
        json={"items": [{"productId": "railcam", "quantity": 1, "price": 100, "name": "Cam"}]},
        headers=STOREFRONT,
    )
    assert checked.status_code == 200 and checked.json()["allInStock"] is True


async def test_required_line_fields_stay_required(client: httpx.AsyncClient) -> None:
    answer = await reserve(client, "cs_missing", {"productId": "railcam", "name": "Railcam"})
    error = assert_error_shape(answer, 400, "invalid_request")
    assert error["errors"][0]["field"] == "operations[0].quantity"


async def test_the_reserve_answer_shows_what_is_left_after_the_hold(
    client: httpx.AsyncClient,
) -> None:
    first = await reserve(client, "cs_a", {"productId": "railcam", "quantity": 2})
    assert first.json()["reservation"]["lines"][0]["available"] == 3
    second = await reserve(client, "cs_b", {"productId": "railcam", "quantity": 1})
    assert second.json()["reservation"]["lines"][0]["available"] == 2
    assert (await stock(client, "railcam"))["availableStock"] == 2
    replay = await reserve(client, "cs_a", {"productId": "railcam", "quantity": 2})
    assert replay.json()["reservation"]["replayed"] is True
    assert replay.json()["reservation"]["lines"][0]["available"] == 3, "as first answered"


async def adjust(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post(
        "/api/inventory/adjust", json={"reason": "damage", **body}, headers=ADMIN
    )


async def test_stock_below_the_reserved_units_is_refused_naming_them(
    client: httpx.AsyncClient,
) -> None:
    assert (
        await reserve(client, "cs_hold", {"productId": "railcam", "quantity": 2})
    ).status_code == 200
    refused = await adjust(client, productId="railcam", setTo=1)
    error = assert_error_shape(refused, 409, "below_reserved")
    assert "Railcam" in error["message"] and "2 units reserved" in error["message"]
    assert "allowBelowReserved" in error["message"]
    assert "product-railcam" not in error["message"]
    assert (await stock(client, "railcam"))["totalStock"] == 5, "nothing changed"

    # Down to exactly what is held is fine; below it only with the override.
    assert (await adjust(client, productId="railcam", delta=-3)).status_code == 200
    forced = await adjust(client, productId="railcam", setTo=0, allowBelowReserved=True)
    assert forced.status_code == 200, forced.text
    assert (await stock(client, "railcam"))["totalStock"] == 0
    # A restock that still leaves it under the holds is an improvement: allowed.
    restock = await adjust(client, productId="railcam", delta=1, reason="restock")
    assert restock.status_code == 200, restock.text
    assert (await stock(client, "railcam"))["totalStock"] == 1


async def test_sizes_are_checked_by_their_own_holds_and_messages_use_titles(
    client: httpx.AsyncClient,
) -> None:
    held = await reserve(
        client, "cs_tee", {"productId": "halloween-tee", "size": "m", "quantity": 2}
    )
    assert held.status_code == 200
    refused = await adjust(client, productId="halloween-tee", size="m", delta=-1)
    error = assert_error_shape(refused, 409, "below_reserved")
    assert "Halloween Tee size m" in error["message"]
    # The other size holds nothing.
    assert (await adjust(client, productId="halloween-tee", size="s", setTo=0)).status_code == 200
    below_zero = await adjust(client, productId="timetable-zine", delta=-41)
    error = assert_error_shape(below_zero, 409, "invalid_adjustment")
    assert "Timetable Zine" in error["message"] and "product-timetable-zine" not in error["message"]
