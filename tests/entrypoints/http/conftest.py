"""The API over an in-memory lake with a manual clock, and the keys every test uses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from cms_client.lake import Lake
from service.config import ServiceSettings, env_variables
from service.engine.inventory import Inventory
from service.entrypoints.cli.demo import seed_catalogue
from service.entrypoints.http.app import create_app
from tests.entrypoints.http.fakes import SwitchableStore
from tests.support.clock import ManualClock

STOREFRONT_KEY = "sf-key-1"
OLD_STOREFRONT_KEY = "sf-key-0"
CRON_SECRET = "cron-secret"
ADMIN_KEY = "admin-key"
MANAGER_KEY = "manager-key"
SUPPORT_KEY = "support-key"
ADMIN_API_KEYS = (
    f"alice:admin:{ADMIN_KEY},mona:inventory_manager:{MANAGER_KEY},"
    f"sam:customer_service:{SUPPORT_KEY}"
)

STOREFRONT = {"Authorization": f"Bearer {STOREFRONT_KEY}"}
CRON = {"Authorization": f"Bearer {CRON_SECRET}"}
ADMIN = {"X-API-Key": ADMIN_KEY}
MANAGER = {"Authorization": f"Bearer {MANAGER_KEY}"}
SUPPORT = {"X-API-Key": SUPPORT_KEY}

KEYS: dict[str, Any] = {
    "storefront_api_key": f"{OLD_STOREFRONT_KEY},{STOREFRONT_KEY}",
    "cron_secret": CRON_SECRET,
    "admin_api_keys": ADMIN_API_KEYS,
}


def make_settings(**values: Any) -> ServiceSettings:
    """Settings from `values` only: no `.env` file (and the environment is cleared below)."""
    return ServiceSettings(_env_file=None, **values)


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """`app` started (its lifespan runs) and a client over it; an exception in the app comes
    back as the 500 a server would send."""
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app, raise_app_exceptions=False),
            base_url="http://stocksync.test",
        ) as client,
    ):
        yield client


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own STOREFRONT_API_KEY or SANITY_PROJECT_ID must not leak in."""
    for name in [*env_variables(), "VERCEL_ENV", "VERCEL"]:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def store(clock: ManualClock) -> AsyncIterator[SwitchableStore]:
    lake = Lake(None, clock=clock)
    switchable = SwitchableStore(lake)
    yield switchable
    await lake.aclose()


@pytest.fixture
async def catalogue(store: SwitchableStore, clock: ManualClock) -> None:
    """The demo catalogue: railcam 5, halloween-tee s 3 / m 2, railways-and-sleepers 0,
    station-hoodie s 8 / m 0 / l 4, timetable-zine 40 (threshold 10)."""
    assert await seed_catalogue(store, Inventory(store, clock=clock))


@pytest.fixture
async def open_client(
    store: SwitchableStore, clock: ManualClock
) -> AsyncIterator[Callable[..., Any]]:
    """`async with open_client(**settings) as client:` the app with those settings."""

    @asynccontextmanager
    async def opened(**values: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(make_settings(**values), store=store, clock=clock)
        async with app_client(app) as client:
            yield client

    yield opened


@pytest.fixture
async def client(
    open_client: Callable[..., Any], catalogue: None
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with every secret configured, over the demo catalogue."""
    async with open_client(**KEYS) as opened:
        yield opened


def assert_error_shape(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    """The one error shape: success false, stable code, title, message, details."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["success"] is False
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    assert "details" in body
    assert "Traceback" not in response.text
    if code is not None:
        assert body["code"] == code, body
    return body
