"""One contract, two stores: every test here runs against `Lake` and against `SanityClient`
talking HTTP to `create_lake_app(Lake)`; code above `cms_client` must not tell them apart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from cms_client.lake import Lake
from cms_client.sanity_client import SanityClient
from cms_client.sanity_settings import SanitySettings
from cms_client.server import create_lake_app
from cms_client.store import DocumentStore
from tests.server.fakes import ManualMonotonic, RecordingSleep
from tests.support.clock import ManualClock

TOKEN = "contract-token"
BASE_URL = "http://lake.test"
API = "/v2025-02-19/data"


@dataclass
class Harness:
    kind: str
    store: DocumentStore
    #: The lake behind the store (the store itself for "lake").
    lake: Lake
    clock: ManualClock
    #: A raw HTTP client on the server app (None for "lake"): to check bodies and statuses.
    raw: httpx.AsyncClient | None


@pytest.fixture(params=["lake", "http"])
async def harness(
    request: pytest.FixtureRequest, lake: Lake, clock: ManualClock
) -> AsyncIterator[Harness]:
    if request.param == "lake":
        yield Harness("lake", lake, lake, clock, None)
        return
    app = create_lake_app(lake, token=TOKEN)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
    raw = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    settings = SanitySettings(
        project_id="contract",
        dataset="production",
        api_token=TOKEN,
        api_host=BASE_URL,
        mutations_per_second=1_000_000,
        retry_attempts=1,
    )
    client = SanityClient(settings, http=http, sleep=RecordingSleep(), monotonic=ManualMonotonic())
    yield Harness("http", client, lake, clock, raw)
    await client.aclose()
    await raw.aclose()
    await http.aclose()


@pytest.fixture
def store(harness: Harness) -> DocumentStore:
    return harness.store
