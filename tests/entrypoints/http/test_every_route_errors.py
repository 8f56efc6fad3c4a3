"""Every route's error cases, walked from the app's own OpenAPI document: each answer has
the one error shape (`success: false`, a stable `code`, `error`, a `message` naming the
field, header, method or product, `details` a list of strings, `errors` a list), and the
status is one the route documents."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.entrypoints.http.conftest import (
    ADMIN,
    CRON,
    KEYS,
    STOREFRONT,
    SUPPORT,
    assert_error_shape,
)

pytestmark = pytest.mark.usefixtures("catalogue")

#: Credentials that pass each security scheme (webhook signatures are checked over the
#: raw body by the handlers themselves, so they get none).
PASSES: dict[str, dict[str, str]] = {
    "storefrontBearer": STOREFRONT,
    "staffBearer": ADMIN,
    "cronBearer": CRON,
}
#: A value for each path parameter.
PATH_VALUES = {"product_id": "railcam", "session_id": "cs_none", "error_id": "inventory.error.x"}


def one_shape(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    body = assert_error_shape(response, status, code)
    assert isinstance(body["details"], list) and all(isinstance(d, str) for d in body["details"])
    assert isinstance(body["errors"], list)
    return body


async def operations(client: httpx.AsyncClient) -> list[tuple[str, str, dict[str, Any]]]:
    spec = (await client.get("/openapi.json")).json()
    found = []
    for path, item in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        url = path.format(**PATH_VALUES)
        for method, op in item.items():
            found.append((method.upper(), url, op))
    assert len(found) >= 20
    return found


def schemes(op: dict[str, Any]) -> set[str]:
    return {name for requirement in op.get("security", []) for name in requirement}


def passing(op: dict[str, Any]) -> dict[str, str]:
    for scheme in sorted(schemes(op)):
        if scheme in PASSES:
            return PASSES[scheme]
    return {}


def documented(op: dict[str, Any]) -> set[int]:
    return {int(status) for status in op.get("responses", {})}


async def test_a_method_a_path_does_not_serve_is_405_naming_the_methods_it_does(
    client: httpx.AsyncClient,
) -> None:
    served: dict[str, set[str]] = {}
    for method, url, _ in await operations(client):
        served.setdefault(url, set()).add(method)
    for url, methods in served.items():
        wrong = next(m for m in ("PUT", "PATCH", "DELETE") if m not in methods)
        body = one_shape(await client.request(wrong, url), 405, "method_not_allowed")
        assert wrong in body["message"]
        assert all(m in body["message"] for m in methods if m != "HEAD"), body["message"]


async def test_no_credentials_is_401_on_every_protected_route(client: httpx.AsyncClient) -> None:
    checked = 0
    for method, url, op in await operations(client):
        if not schemes(op) & set(PASSES) and "staffApiKey" not in schemes(op):
            continue
        response = await client.request(method, url, json={})
        body = one_shape(response, 401)
        assert 401 in documented(op), (method, url)
        assert body["message"], (method, url)
        checked += 1
    assert checked >= 15


async def test_a_staff_role_that_may_not_is_403_naming_the_role(
    client: httpx.AsyncClient,
) -> None:
    refused = 0
    for method, url, op in await operations(client):
        if 403 not in documented(op):
            continue
        response = await client.request(method, url, json={}, headers=SUPPORT)
        assert response.status_code in documented(op) | {200}, (method, url, response.text)
        if response.status_code == 403:
            body = one_shape(response, 403, "forbidden")
            assert "customer_service" in body["message"]
            refused += 1
    assert refused >= 4


async def test_a_body_over_the_limit_is_413_before_any_route_reads_it(
    open_client: Any,
) -> None:
    # Stripe events keep a 1 MiB floor (a 413 would make Stripe retry for days): send more.
    too_big = b"[" + b"1," * 600_000 + b"1]"
    async with open_client(**KEYS, import_max_bytes=2048) as client:
        answered = [
            (
                method,
                url,
                op,
                await client.request(
                    method,
                    url,
                    content=too_big,
                    headers={**passing(op), "content-type": "application/json"},
                ),
            )
            for method, url, op in await operations(client)
            if "requestBody" in op
        ]
    assert len(answered) >= 6
    for method, url, op, response in answered:
        body = one_shape(response, 413, "body_too_large")
        assert 413 in documented(op), (method, url)
        assert "bytes" in body["message"]


async def test_a_body_that_is_not_json_is_415_naming_the_media_type(
    client: httpx.AsyncClient,
) -> None:
    checked = 0
    for method, url, op in await operations(client):
        content = op.get("requestBody", {}).get("content", {})
        # Webhooks verify a signature over the raw bytes; the import takes CSV too.
        if "application/json" not in content or not passing(op) or "text/csv" in content:
            continue
        response = await client.request(
            method, url, content=b"{}", headers={**passing(op), "content-type": "text/plain"}
        )
        body = one_shape(response, 415, "unsupported_media_type")
        assert 415 in documented(op), (method, url)
        assert "text/plain" in body["message"] and "application/json" in body["message"]
        checked += 1
    assert checked >= 4


async def test_a_body_of_the_wrong_shape_is_400_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    checked = 0
    for method, url, op in await operations(client):
        content = op.get("requestBody", {}).get("content", {})
        if "application/json" not in content or not passing(op):
            continue
        response = await client.request(method, url, json={"x": 1}, headers=passing(op))
        body = one_shape(response, 400, "invalid_request")
        fields = [error["field"] for error in body["errors"]]
        assert fields and all(fields), (method, url, body)
        assert fields[0] in body["message"], (method, url, body)
        not_json = await client.request(
            method, url, content=b"{", headers={**passing(op), "content-type": "application/json"}
        )
        assert one_shape(not_json, 400, "invalid_request")["errors"][0]["field"] == "body"
        checked += 1
    assert checked >= 4


@pytest.mark.parametrize(
    ("method", "url", "headers", "code", "named"),
    [
        ("GET", "/api/nowhere", {}, "not_found", "/api/nowhere"),
        (
            "GET",
            "/api/inventory/history/no-such-thing",
            ADMIN,
            "product_not_found",
            "no-such-thing",
        ),
        (
            "POST",
            "/api/inventory/errors/inventory.error.none/resolve",
            ADMIN,
            "error_log_not_found",
            "inventory.error.none",
        ),
        ("GET", "/api/inventory/history/no-such-thing", SUPPORT, "product_not_found", "no-such"),
    ],
)
async def test_what_does_not_exist_is_404_naming_it(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    headers: dict[str, str],
    code: str | None,
    named: str,
) -> None:
    body = one_shape(await client.request(method, url, headers=headers), 404, code)
    assert named in body["message"]


async def test_releasing_a_session_that_holds_nothing_is_404_naming_it(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/release-stock", json={"sessionId": "cs_never_seen"}, headers=STOREFRONT
    )
    body = one_shape(response, 404, "reservation_not_found")
    assert "cs_never_seen" in body["message"]


async def test_an_adjust_of_an_unknown_product_is_404_naming_the_product(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/inventory/adjust",
        json={"productId": "ghost-product", "delta": 1, "reason": "restock"},
        headers=ADMIN,
    )
    body = one_shape(response, 404, "product_not_found")
    assert "ghost-product" in body["message"]
