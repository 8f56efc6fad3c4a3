"""Issue 12 item 4: quantities are read strictly; an integral 2.0 may be 2."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.entrypoints.http.conftest import MANAGER, STOREFRONT, assert_error_shape


@pytest.mark.parametrize("quantity", [True, "2", "2.0", " 2", 2.5, None, [2], {"n": 2}])
async def test_a_quantity_that_is_not_a_whole_number_is_refused(
    client: httpx.AsyncClient, quantity: Any
) -> None:
    response = await client.post(
        "/api/reserve-stock",
        json={"sessionId": "cs_q", "operations": [{"productId": "railcam", "quantity": quantity}]},
        headers=STOREFRONT,
    )
    body = assert_error_shape(response, 400, "invalid_request")
    assert body["errors"][0]["field"] == "operations[0].quantity"
    assert "whole number" in body["message"] or quantity is None


async def test_an_integral_float_quantity_reads_as_that_integer(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/reserve-stock",
        json={"sessionId": "cs_q", "operations": [{"productId": "railcam", "quantity": 2.0}]},
        headers=STOREFRONT,
    )
    assert response.status_code == 200, response.text
    assert response.json()["reservation"]["lines"][0]["quantity"] == 2


@pytest.mark.parametrize("field", ["delta", "setTo"])
@pytest.mark.parametrize("value", [True, "3", 1.5])
async def test_adjust_figures_are_strict_too(
    client: httpx.AsyncClient, field: str, value: Any
) -> None:
    response = await client.post(
        "/api/inventory/adjust",
        json={"productId": "railcam", field: value, "reason": "restock"},
        headers=MANAGER,
    )
    body = assert_error_shape(response, 400, "invalid_request")
    assert body["errors"][0]["field"] == field


async def test_cart_check_quantities_are_strict(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/stock-status",
        json={"items": [{"productId": "railcam", "quantity": "1"}]},
        headers=STOREFRONT,
    )
    assert_error_shape(response, 400, "invalid_request")
