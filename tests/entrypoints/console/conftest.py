"""The console over an in-memory lake with a manual clock, signed in through its own forms."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from cms_client.lake import Lake
from cms_client.store import Perspective
from service.config import ServiceSettings, env_variables
from service.engine.inventory import Inventory
from service.entrypoints.cli.demo import seed_catalogue
from service.entrypoints.http.app import create_app
from tests.entrypoints.http.fakes import SwitchableStore
from tests.support.clock import ManualClock

SECRET = "console-test-secret-0123456789"
ADMIN_KEY = "admin-key"
MANAGER_KEY = "manager-key"
SUPPORT_KEY = "support-key"
STAFF = (
    f"alice:admin:{ADMIN_KEY},mona:inventory_manager:{MANAGER_KEY},"
    f"sam:customer_service:{SUPPORT_KEY}"
)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class RecordingStore(SwitchableStore):
    """Also remembers how many rows each query handed back."""

    def __init__(self, lake: Lake) -> None:
        super().__init__(lake)
        self.row_counts: list[int] = []

    async def query(
        self,
        groq: str,
        params: Mapping[str, Any] | None = None,
        *,
        perspective: Perspective = "published",
    ) -> Any:
        result = await super().query(groq, params, perspective=perspective)
        self.row_counts.append(_rows(result))
        return result


def _rows(value: Any) -> int:
    if isinstance(value, list):
        return len(value)
    if isinstance(value, dict):
        return max([_rows(v) for v in value.values()] or [0])
    return 0


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*env_variables(), "VERCEL_ENV", "VERCEL"]:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def store(clock: ManualClock) -> AsyncIterator[RecordingStore]:
    lake = Lake(None, clock=clock)
    recording = RecordingStore(lake)
    assert await seed_catalogue(recording, Inventory(recording, clock=clock))
    yield recording
    await lake.aclose()


@dataclass
class Console:
    client: httpx.AsyncClient
    store: RecordingStore
    inventory: Inventory

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def csrf(self, path: str = "/console") -> str:
        page = await self.client.get(path)
        assert page.status_code == 200, page.text
        found = CSRF.search(page.text)
        assert found, "no form on " + path
        return found.group(1)

    async def sign_in(self, key: str, *, next_path: str = "/console") -> httpx.Response:
        token = await self.csrf("/console/sign-in")
        return await self.client.post(
            "/console/sign-in", data={"csrf": token, "key": key, "next": next_path}
        )

    async def post(
        self, path: str, data: dict[str, str], *, csrf_from: str = "/console"
    ) -> httpx.Response:
        """A form post carrying the CSRF token of the signed-in session."""
        return await self.client.post(path, data={"csrf": await self.csrf(csrf_from), **data})


@pytest.fixture
def open_console(store: RecordingStore, clock: ManualClock) -> Callable[..., Any]:
    """`async with open_console(**settings) as console:` (staff keys and secret preset)."""

    @asynccontextmanager
    async def opened(
        base_url: str = "http://stocksync.test", **values: Any
    ) -> AsyncIterator[Console]:
        settings: dict[str, Any] = {"admin_api_keys": STAFF, "console_session_secret": SECRET}
        settings.update(values)
        app = create_app(ServiceSettings(_env_file=None, **settings), store=store, clock=clock)
        async with (
            LifespanManager(app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app, raise_app_exceptions=False),
                base_url=base_url,
            ) as client,
        ):
            yield Console(client, store, app.state.services.inventory)

    return opened


@pytest.fixture
async def console(open_console: Callable[..., Any]) -> AsyncIterator[Console]:
    async with open_console() as opened:
        yield opened


@pytest.fixture
async def manager(console: Console) -> Console:
    assert (await console.sign_in(MANAGER_KEY)).status_code == 303
    return console


def cells(html: str) -> list[list[str]]:
    """Text of each table row's cells (tags stripped), for asserting on tables."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)
    out = []
    for row in rows:
        texts = [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        out.append(texts)
    return out


def flash(html: str) -> str | None:
    found = re.search(r'role="status">([^<]*)<', html)
    return found.group(1) if found else None


def alert(html: str) -> str | None:
    found = re.search(r'role="alert">([^<]*)<', html)
    return found.group(1) if found else None
