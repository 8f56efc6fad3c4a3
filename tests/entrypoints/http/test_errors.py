"""One JSON error shape for every non-2xx answer, FastAPI's own included; no stack traces."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from cms_client.errors import QueryError, RateLimited, StoreUnavailable
from cms_client.errors import Unauthorized as StoreUnauthorized
from tests.entrypoints.http.conftest import ADMIN, KEYS, STOREFRONT, assert_error_shape
from tests.entrypoints.http.fakes import SwitchableStore


@pytest.mark.parametrize(
    "body,field",
    [
        (
            {"operations": [{"productId": "railcam", "quantity": 0}], "sessionId": "s"},
            "operations[0].quantity",
        ),
        (
            {"operations": [{"productId": "railcam", "quantity": "2x"}], "sessionId": "s"},
            "operations[0].quantity",
        ),
        ({"operations": [{"productId": "railcam", "quantity": 1}]}, "sessionId"),
        ({"operations": [], "sessionId": "s"}, "operations"),
        ({"operations": "railcam", "sessionId": "s"}, "operations"),
        (
            {"operations": [{"productId": "", "quantity": 1}], "sessionId": "s"},
            "operations[0].productId",
        ),
        (
            # Unknown fields are ignored on lines only (see test_storefront_friendly.py).
            {"operations": [{"productId": "r", "quantity": 1}], "sessionId": "s", "coupon": 9},
            "coupon",
        ),
        (
            {
                "operations": [{"productId": "r", "quantity": 1}],
                "sessionId": "s",
                "expirationMinutes": 0,
            },
            "expirationMinutes",
        ),
        ([1, 2], "body"),
    ],
)
async def test_validation_errors_name_the_field(
    client: httpx.AsyncClient, body: object, field: str
):
    response = await client.post("/api/reserve-stock", json=body, headers=STOREFRONT)

    error = assert_error_shape(response, 400, "invalid_request")
    assert error["message"].startswith(field)
    assert error["errors"][0]["field"] == field
    assert error["details"][0].startswith(f"{field}: ")


async def test_invalid_json_is_a_400(client: httpx.AsyncClient):
    response = await client.post(
        "/api/reserve-stock",
        content=b'{"sessionId": ',
        headers={**STOREFRONT, "Content-Type": "application/json"},
    )
    body = assert_error_shape(response, 400, "invalid_request")
    assert body["errors"][0]["field"] == "body"


async def test_adjust_needs_exactly_one_of_set_to_and_delta(client: httpx.AsyncClient):
    for body in (
        {"productId": "railcam", "reason": "restock"},
        {"productId": "railcam", "reason": "restock", "setTo": 1, "delta": 1},
    ):
        error = assert_error_shape(
            await client.post("/api/inventory/adjust", json=body, headers=ADMIN), 400
        )
        assert error["errors"][0]["field"] == "setTo"


async def test_query_parameter_errors_name_the_parameter(client: httpx.AsyncClient):
    response = await client.get("/api/inventory/reservations?status=lost&limit=0", headers=ADMIN)
    body = assert_error_shape(response, 400)
    assert {e["field"] for e in body["errors"]} == {"status", "limit"}


async def test_unknown_route_and_wrong_method(client: httpx.AsyncClient):
    assert_error_shape(await client.get("/api/nothing"), 404, "not_found")
    wrong = await client.put("/api/reserve-stock", json={})
    body = assert_error_shape(wrong, 405, "method_not_allowed")
    assert "POST" in body["message"] and wrong.headers["allow"] == "POST"


async def test_allow_lists_every_method_of_a_path_served_by_two_routes(client: httpx.AsyncClient):
    for path in ("/api/stock-status", "/api/inventory-health"):
        response = await client.delete(path)
        assert_error_shape(response, 405, "method_not_allowed")
        assert response.headers["allow"] == "GET, POST"


async def test_a_body_over_the_limit_is_413_before_any_route(client: httpx.AsyncClient):
    big = (
        b'{"sessionId":"s","operations":[' + b'{"productId":"railcam","quantity":1},' * 2000 + b"]}"
    )
    declared = await client.post(
        "/api/reserve-stock",
        content=big,
        headers={**STOREFRONT, "Content-Type": "application/json"},
    )

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 4096):
            yield big[start : start + 4096]

    streamed = await client.post(
        "/api/reserve-stock",
        content=chunks(),
        headers={**STOREFRONT, "Content-Type": "application/json"},
    )

    for response in (declared, streamed):
        body = assert_error_shape(response, 413, "body_too_large")
        assert body["details"] == ["limit: 65536"]


async def test_the_body_limit_is_configurable(open_client, catalogue):
    async with open_client(**KEYS, STOCKSYNC_MAX_BODY_BYTES=1024) as client:
        response = await client.post(
            "/api/stock-status",
            json={"items": [{"productId": "x" * 150, "quantity": 1}] * 8},
            headers=STOREFRONT,
        )
    assert_error_shape(response, 413)


@pytest.mark.parametrize(
    "failure,code,retry_after",
    [
        (StoreUnavailable("timeout"), "store_unavailable", "5"),
        (RateLimited("slow down", retry_after=2.5), "store_rate_limited", "3"),
        (RateLimited("slow down"), "store_rate_limited", "1"),
    ],
)
async def test_store_outage_is_503_with_retry_after(
    client: httpx.AsyncClient,
    store: SwitchableStore,
    failure: Exception,
    code: str,
    retry_after: str,
):
    store.failure = failure
    for response in (
        await client.get("/api/stock-status?productIds=railcam"),
        await client.post(
            "/api/reserve-stock",
            json={"sessionId": "s", "operations": [{"productId": "railcam", "quantity": 1}]},
            headers=STOREFRONT,
        ),
        await client.get("/api/cron/cleanup", headers={"Authorization": "Bearer cron-secret"}),
    ):
        assert_error_shape(response, 503, code)
        assert response.headers["retry-after"] == retry_after
        assert response.headers["cache-control"] == "no-store"


async def test_failed_health_check_says_unhealthy(
    client: httpx.AsyncClient, store: SwitchableStore
):
    store.failure = StoreUnavailable("down")
    body = assert_error_shape(await client.get("/api/inventory-health"), 503, "store_unavailable")
    assert body["healthy"] is False and body["timestamp"].endswith("Z")


async def test_a_refused_store_token_is_503_naming_the_variable(client, store: SwitchableStore):
    store.failure = StoreUnauthorized("bad token")
    body = assert_error_shape(
        await client.get("/api/stock-status?productIds=railcam"), 503, "store_unauthorized"
    )
    assert "SANITY_API_TOKEN" in body["message"]


async def test_an_unexpected_error_is_a_logged_500_without_a_trace(
    client: httpx.AsyncClient, store: SwitchableStore, caplog: pytest.LogCaptureFixture
):
    store.failure = QueryError("boom: internal detail", query="*[")
    with caplog.at_level(logging.ERROR, logger="stocksync.http"):
        response = await client.get("/api/stock-status?productIds=railcam")

    body = assert_error_shape(response, 500, "internal_error")
    assert "internal detail" not in response.text
    assert body["error"] == "Internal server error"
    assert any("boom: internal detail" in (r.exc_text or "") for r in caplog.records)


async def test_liveness_never_touches_the_store(client: httpx.AsyncClient, store: SwitchableStore):
    store.failure = StoreUnavailable("down")
    calls = store.calls
    response = await client.get("/api/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert store.calls == calls
