"""`/data/listen`: Sanity's Server-Sent Events over a served lake file, from any writer."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from cms_client.lake import Lake
from cms_client.server import bind_socket, serve_lake
from tests.server.conftest import API, AUTH, TOKEN, mutate
from tests.server.test_serve import running

PRODUCTS = '*[_type == "product"]'


class Events:
    """The events of one listen stream, parsed as an EventSource would."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()

    async def next(self, within: float = 10.0) -> tuple[str, dict[str, Any]]:
        """The next event (comments skipped); a generous bound, not a timing check."""
        async with asyncio.timeout(within):
            name, data = "message", ""
            async for line in self._lines:
                if line.startswith(":"):
                    continue
                if line == "":
                    if data:
                        return name, json.loads(data)
                    continue
                field, _, value = line.partition(": ")
                if field == "event":
                    name = value
                elif field == "data":
                    data += value
        raise AssertionError("the stream ended")


@asynccontextmanager
async def listening(
    http: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None, **options: str
) -> AsyncIterator[Events]:
    params = {"query": query, **options}
    async with http.stream(
        "GET", f"{API}/listen/production", params=params, headers=headers
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Events(response)


async def test_mutation_events_follow_the_filter_with_sanitys_fields(tmp_path: Path) -> None:
    async with running(tmp_path / "lake.sqlite3", token=TOKEN) as client:
        http = client()
        async with listening(http, PRODUCTS, AUTH, includePreviousRevision="true") as events:
            name, welcome = await events.next()
            assert name == "welcome" and welcome["listenerName"]

            created = await mutate(
                http, [{"create": {"_id": "p1", "_type": "product", "n": 1}}], headers=AUTH
            )
            await mutate(http, [{"create": {"_id": "x1", "_type": "other"}}], headers=AUTH)
            patch = {"patch": {"id": "p1", "inc": {"n": 1}}}
            patched = await mutate(http, [patch], headers=AUTH)
            await mutate(http, [{"delete": {"id": "p1"}}], headers=AUTH)

            appear = await events.next()
            update = await events.next()
            disappear = await events.next()

    assert [appear[0], update[0], disappear[0]] == ["mutation"] * 3
    first, second, third = appear[1], update[1], disappear[1]
    assert first["transition"] == "appear"
    assert first["documentId"] == "p1"
    assert first["transactionId"] == created.json()["transactionId"]
    assert first["eventId"] == f"{first['transactionId']}#p1"
    assert first["resultRev"] == first["result"]["_rev"] == first["transactionId"]
    assert first["result"]["n"] == 1
    assert first["previous"] is None and "previousRev" not in first
    assert first["mutations"] == [{"create": {"_id": "p1", "_type": "product", "n": 1}}]
    assert first["visibility"] == "query" and first["identity"]
    assert first["timestamp"].endswith("Z")
    assert first["transactionTotalEvents"] == 1 and first["transactionCurrentEvent"] == 1

    assert second["transition"] == "update"
    assert second["transactionId"] == patched.json()["transactionId"]
    assert second["previousRev"] == first["resultRev"]
    assert second["previous"]["n"] == 1 and second["result"]["n"] == 2
    assert second["mutations"] == [patch]

    assert third["transition"] == "disappear"
    assert "result" not in third and "resultRev" not in third
    assert third["previousRev"] == second["resultRev"]


async def test_a_change_leaving_the_filter_disappears_and_options_trim_the_event(
    tmp_path: Path,
) -> None:
    async with running(tmp_path / "lake.sqlite3") as client:
        http = client()
        await mutate(http, [{"create": {"_id": "p1", "_type": "product", "live": True}}])
        async with listening(
            http, '*[_type == "product" && live]', includeResult="false", includeMutations="false"
        ) as events:
            await events.next()
            await mutate(http, [{"patch": {"id": "p1", "set": {"live": False}}}])
            _name, gone = await events.next()
    assert gone["transition"] == "disappear"
    assert "result" not in gone and "mutations" not in gone and "previous" not in gone
    assert gone["resultRev"] != gone["previousRev"]


async def test_changes_from_another_lake_on_the_same_file_reach_the_listener(
    tmp_path: Path,
) -> None:
    data = tmp_path / "lake.sqlite3"
    async with running(data) as client, listening(client(), PRODUCTS) as events:
        await events.next()
        # Another connection with its own change feed: the server's feed learns of the
        # commit from the file alone, as it would from another process.
        async with Lake(data) as other:
            await other.mutate([{"create": {"_id": "p2", "_type": "product"}}])
        _name, seen = await events.next()
        # And a real other process.
        script = (
            "import asyncio, sys\n"
            "from cms_client.lake import Lake\n"
            "async def main():\n"
            "    async with Lake(sys.argv[1]) as lake:\n"
            "        await lake.mutate([{'patch': {'id': 'p2', 'set': {'by': 'process'}}}])\n"
            "asyncio.run(main())\n"
        )
        await asyncio.to_thread(
            subprocess.run, [sys.executable, "-c", script, str(data)], check=True, timeout=60
        )
        _name, patched = await events.next()
    assert seen["documentId"] == "p2" and seen["transition"] == "appear"
    assert patched["transition"] == "update" and patched["result"]["by"] == "process"


async def test_a_bad_filter_is_a_channel_error(tmp_path: Path) -> None:
    async with (
        running(tmp_path / "lake.sqlite3") as client,
        listening(client(), "*[_type == ") as events,
    ):
        name, data = await events.next()
    assert name == "channelError"
    assert data["error"]["type"] == "queryParseError"


async def test_anonymous_listeners_of_a_public_dataset_never_see_drafts(tmp_path: Path) -> None:
    async with running(tmp_path / "lake.sqlite3", token=TOKEN, public=True) as client:
        http = client()
        private = await http.get(
            f"{API}/listen/production", params={"query": PRODUCTS}, headers={"Authorization": "x"}
        )
        assert private.status_code == 401
        async with listening(http, PRODUCTS) as events:
            await events.next()
            await mutate(
                http,
                [
                    {"create": {"_id": "drafts.p1", "_type": "product"}},
                    {"create": {"_id": "p1", "_type": "product"}},
                ],
                headers=AUTH,
            )
            _name, only = await events.next()
    assert only["documentId"] == "p1"
    assert only["transactionTotalEvents"] == 1


async def test_a_stopping_server_ends_listen_streams_with_reconnect(tmp_path: Path) -> None:
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    stop = asyncio.Event()
    server = asyncio.create_task(
        serve_lake(tmp_path / "lake.sqlite3", sock=sock, stop=stop, log_level="critical")
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for _ in range(200):
                try:
                    await http.get(f"{API}/doc/production/probe")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.02)
            async with listening(http, PRODUCTS) as events:
                assert (await events.next())[0] == "welcome"
                stop.set()
                name, _data = await events.next()
        assert name == "reconnect"
        await asyncio.wait_for(server, timeout=10)
    finally:
        stop.set()
        sock.close()
