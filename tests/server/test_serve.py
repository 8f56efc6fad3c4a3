"""The server as `stocksync lake serve` runs it: uvicorn on 127.0.0.1, a lake file on disk."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from cms_client.faults import Fault, FaultPlan
from cms_client.lake import Lake
from cms_client.server import bind_socket, serve_lake
from tests.server.conftest import API, AUTH, TOKEN, mutate


@asynccontextmanager
async def running(data: Path, **options: object) -> AsyncIterator[Callable[[], httpx.AsyncClient]]:
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    stop = asyncio.Event()
    server = asyncio.create_task(
        serve_lake(data, sock=sock, stop=stop, log_level="critical", **options)  # type: ignore[arg-type]
    )
    clients: list[httpx.AsyncClient] = []

    def client() -> httpx.AsyncClient:
        made = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10)
        clients.append(made)
        return made

    try:
        yield client
    finally:
        for made in clients:
            await made.aclose()
        stop.set()
        await asyncio.wait_for(server, timeout=10)
        sock.close()


async def test_a_served_lake_file_is_shared_and_persists(tmp_path: Path) -> None:
    data = tmp_path / "lake.sqlite3"

    async with running(data, token=TOKEN) as client:
        first, second = client(), client()
        created = await mutate(
            first, [{"create": {"_id": "p1", "_type": "product", "n": 1}}], headers=AUTH
        )
        seen = await second.get(f"{API}/doc/production/p1", headers=AUTH)
        refused = await second.get(f"{API}/doc/production/p1")

    assert created.status_code == 200
    assert seen.json()["documents"][0]["n"] == 1
    assert refused.status_code == 401
    async with Lake(data) as lake:
        [stored] = await lake.get_documents(["p1"])
    assert stored is not None and stored["n"] == 1


async def test_a_dropped_answer_over_tcp_is_a_transport_error_after_the_commit(
    tmp_path: Path,
) -> None:
    data = tmp_path / "lake.sqlite3"
    plan = FaultPlan.scripted(("mutate", 1, Fault.COMMIT_THEN_DROP))

    async with running(data, faults=plan) as client:
        http = client()
        with pytest.raises(httpx.TransportError):
            await mutate(http, [{"create": {"_id": "p1", "_type": "product"}}])
        after = await client().get(f"{API}/doc/production/p1")

    assert after.json()["documents"][0]["_id"] == "p1"
