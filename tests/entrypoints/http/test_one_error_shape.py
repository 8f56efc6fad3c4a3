"""Every non-2xx answer: `details` a list of strings, `errors` a list, and a reserve's
top-level code agrees with its lines' codes."""

from __future__ import annotations

import httpx
import pytest

from tests.entrypoints.http.conftest import STOREFRONT


def assert_one_shape(body: dict[str, object]) -> None:
    assert body["success"] is False
    assert isinstance(body["code"], str) and isinstance(body["message"], str)
    assert isinstance(body["details"], list) and all(isinstance(d, str) for d in body["details"])
    assert isinstance(body["errors"], list)


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/api/nowhere", {}, 404),
        ("DELETE", "/api/reserve-stock", {}, 405),
        ("POST", "/api/reserve-stock", {}, 401),
        ("POST", "/api/release-stock", STOREFRONT, 400),
    ],
)
async def test_framework_and_auth_errors_have_the_one_shape(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    answer = await client.request(method, path, headers=headers, json={})
    assert answer.status_code == status
    assert_one_shape(answer.json())


async def test_an_unknown_product_is_product_not_found_at_the_top_as_on_its_line(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post(
        "/api/reserve-stock",
        json={"sessionId": "cs_x", "operations": [{"productId": "no-such", "quantity": 1}]},
        headers=STOREFRONT,
    )
    body = answer.json()
    assert_one_shape(body)
    assert body["code"] == "product_not_found"
    assert [line["code"] for line in body["errors"]] == ["product_not_found"]
