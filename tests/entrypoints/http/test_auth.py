"""Who may call what: every protected route refuses missing, wrong and under-privileged
credentials, and stays closed (503 naming the variable) while its secret is unset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.entrypoints.http.conftest import (
    ADMIN,
    CRON,
    KEYS,
    MANAGER,
    OLD_STOREFRONT_KEY,
    STOREFRONT,
    STOREFRONT_KEY,
    SUPPORT,
    assert_error_shape,
)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    variable: str
    body: dict[str, Any] | None = None
    #: Credentials of the right kind but not allowed here (a role too low, or another kind).
    wrong_role: dict[str, str] | None = None
    wrong_role_status: int = 401

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


RESERVE = {"sessionId": "cs_auth", "operations": [{"productId": "railcam", "quantity": 1}]}
ADJUST = {"productId": "railcam", "delta": 1, "reason": "restock"}
TRANSFER = {"productId": "railcam", "from": "a", "to": "b", "quantity": 1}

PROTECTED = [
    Route("POST", "/api/reserve-stock", "STOREFRONT_API_KEY", RESERVE, ADMIN),
    Route("POST", "/api/release-stock", "STOREFRONT_API_KEY", {"sessionId": "cs_auth"}, CRON),
    Route("POST", "/api/stock-status", "STOREFRONT_API_KEY", {"items": []}, ADMIN),
    Route("GET", "/api/cron/cleanup", "CRON_SECRET", None, STOREFRONT),
    Route("GET", "/api/cron/reconcile", "CRON_SECRET", None, ADMIN),
    Route("GET", "/api/cron/reorder-digest", "CRON_SECRET", None, STOREFRONT),
    Route("POST", "/api/inventory-health", "CRON_SECRET", None, STOREFRONT),
    Route("POST", "/api/inventory/adjust", "ADMIN_API_KEYS", ADJUST, SUPPORT, 403),
    Route("GET", "/api/inventory/history/railcam", "ADMIN_API_KEYS", None, STOREFRONT),
    Route("GET", "/api/inventory/reservations", "ADMIN_API_KEYS", None, CRON),
    Route("GET", "/api/inventory/backorders", "ADMIN_API_KEYS", None, STOREFRONT),
    Route("GET", "/api/inventory/locations", "ADMIN_API_KEYS", None, CRON),
    Route("POST", "/api/inventory/transfer", "ADMIN_API_KEYS", TRANSFER, SUPPORT, 403),
    Route("GET", "/api/inventory/errors", "ADMIN_API_KEYS", None, STOREFRONT),
    Route(
        "POST",
        "/api/inventory/errors/inventory.error.x/resolve",
        "ADMIN_API_KEYS",
        None,
        MANAGER,
        403,
    ),
    Route("POST", "/api/inventory/reconcile", "ADMIN_API_KEYS", None, SUPPORT, 403),
    Route("GET", "/api/inventory/reorder", "ADMIN_API_KEYS", None, STOREFRONT),
    Route("GET", "/api/inventory/export", "ADMIN_API_KEYS", None, CRON),
    Route("POST", "/api/inventory/import", "ADMIN_API_KEYS", None, SUPPORT, 403),
    Route("GET", "/api/inventory/analytics", "ADMIN_API_KEYS", None, STOREFRONT),
]

PUBLIC = [
    ("GET", "/api/stock-status?productIds=railcam"),
    ("GET", "/api/health"),
    ("GET", "/api/inventory-health"),
    ("GET", "/docs"),
    ("GET", "/openapi.json"),
]


async def call(
    client: httpx.AsyncClient, route: Route, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.request(route.method, route.path, json=route.body, headers=headers or {})


@pytest.mark.parametrize("route", PROTECTED, ids=str)
async def test_no_credentials_is_401(client: httpx.AsyncClient, route: Route):
    body = assert_error_shape(await call(client, route), 401, "unauthorized")
    assert "Missing or invalid" in body["message"]


@pytest.mark.parametrize("route", PROTECTED, ids=str)
@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer not-a-key"},
        {"X-API-Key": "not-a-key"},
        {"Authorization": f"Basic {STOREFRONT_KEY}"},
        {"Authorization": "Bearer "},
    ],
    ids=["wrong-bearer", "wrong-x-api-key", "not-bearer", "empty-bearer"],
)
async def test_wrong_key_is_401(client: httpx.AsyncClient, route: Route, headers: dict[str, str]):
    response = await call(client, route, headers)
    assert_error_shape(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("route", PROTECTED, ids=str)
async def test_credentials_of_another_kind_or_role_are_refused(
    client: httpx.AsyncClient, route: Route
):
    assert route.wrong_role is not None
    response = await call(client, route, route.wrong_role)
    body = assert_error_shape(response, route.wrong_role_status)
    if route.wrong_role_status == 403:
        assert body["code"] == "forbidden"
        roles = {"role: customer_service", "role: inventory_manager"}
        assert roles & set(body["details"]), body["details"]


@pytest.mark.parametrize("route", PROTECTED, ids=str)
async def test_a_route_whose_secret_is_unset_stays_closed(open_client, catalogue, route: Route):
    others = {k: v for k, v in KEYS.items() if k != route.variable.lower()}
    async with open_client(**others) as client:
        for headers in ({}, STOREFRONT, CRON, ADMIN):
            body = assert_error_shape(await call(client, route, headers), 503, "not_configured")
            assert route.variable in body["message"]
            assert body["details"] == [f"variable: {route.variable}"]


@pytest.mark.parametrize("method,path", PUBLIC)
async def test_public_routes_need_no_credentials(client: httpx.AsyncClient, method: str, path: str):
    assert (await client.request(method, path)).status_code == 200


async def test_every_configured_storefront_key_works_for_rotation(client: httpx.AsyncClient):
    for headers in (
        {"Authorization": f"Bearer {OLD_STOREFRONT_KEY}"},
        {"X-API-Key": STOREFRONT_KEY},
    ):
        response = await client.post("/api/stock-status", json={"items": []}, headers=headers)
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "path,allowed",
    [
        ("/api/inventory/adjust", {"admin", "inventory_manager"}),
        ("/api/inventory/import", {"admin", "inventory_manager"}),
        ("/api/inventory/reconcile", {"admin"}),
        ("/api/inventory/errors/inventory.error.none/resolve", {"admin"}),
    ],
)
async def test_staff_roles(client: httpx.AsyncClient, path: str, allowed: set[str]):
    keys = {"admin": ADMIN, "inventory_manager": MANAGER, "customer_service": SUPPORT}
    for role, headers in keys.items():
        body = ADJUST if path.endswith("adjust") else None
        response = await client.post(path, json=body, headers=headers)
        if role in allowed:
            assert response.status_code in (200, 404, 415), (role, response.text)
        else:
            assert_error_shape(response, 403, "forbidden")


@pytest.mark.parametrize(
    "path",
    [
        "/api/inventory/reservations",
        "/api/inventory/backorders",
        "/api/inventory/errors",
        "/api/inventory/history/railcam",
    ],
)
async def test_every_staff_role_may_read(client: httpx.AsyncClient, path: str):
    for headers in (ADMIN, MANAGER, SUPPORT):
        assert (await client.get(path, headers=headers)).status_code == 200


async def test_a_malformed_admin_api_keys_closes_only_the_staff_routes(open_client, catalogue):
    settings = {**KEYS, "admin_api_keys": "alice:admin:k1,bare-secret-value"}
    async with open_client(**settings) as client:
        staff = await client.get("/api/inventory/errors", headers={"X-API-Key": "k1"})
        storefront = await client.post("/api/stock-status", json={"items": []}, headers=STOREFRONT)

    body = assert_error_shape(staff, 503, "not_configured")
    assert "ADMIN_API_KEYS" in body["message"]
    assert "bare-secret-value" not in staff.text
    assert storefront.status_code == 200


async def test_blank_secrets_count_as_unset(open_client, catalogue):
    async with open_client(storefront_api_key=" ", cron_secret="", admin_api_keys=" , ") as client:
        for route in PROTECTED:
            assert (await call(client, route, {"Authorization": "Bearer "})).status_code == 503


async def test_the_staff_key_name_is_the_ledger_actor(client: httpx.AsyncClient, clock):
    clock.advance(seconds=1)
    adjusted = await client.post("/api/inventory/adjust", json=ADJUST, headers=MANAGER)
    history = await client.get("/api/inventory/history/railcam", headers=SUPPORT)

    assert adjusted.json()["actor"] == "mona"
    assert history.json()["entries"][0]["actor"] == "mona"
