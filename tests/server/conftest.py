from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from cms_client.lake import Lake
from cms_client.server import create_lake_app

API = "/v2025-02-19/data"
TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def http_client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://lake.test")


@pytest.fixture
async def serve(lake: Lake) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """`serve(**create_lake_app options)` -> a raw httpx client on that app over `lake`."""
    clients: list[httpx.AsyncClient] = []

    def make(**options: Any) -> httpx.AsyncClient:
        client = http_client(create_lake_app(lake, **options))
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def mutate(
    client: httpx.AsyncClient,
    mutations: list[dict[str, Any]],
    *,
    options: str = "returnIds=true&returnDocuments=true",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        f"{API}/mutate/production?{options}", json={"mutations": mutations}, headers=headers
    )
