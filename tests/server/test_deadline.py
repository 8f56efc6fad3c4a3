"""A slow query never stops the lake answering, is cut at its deadline, and never delays SIGTERM.

The slow queries are slow for real (nested subqueries, or a quadratic filter over a large
parameter), so they run far past any deadline here; the tests assert the order of answers
(the write is answered while the slow query still runs) and use only generous bounds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from cms_client.errors import QueryTimeout
from cms_client.lake import Lake
from cms_client.server import create_lake_app
from tests.server.conftest import API, AUTH, TOKEN, http_client, mutate
from tests.server.test_listen import listening

#: Four levels of subqueries over 150 documents: 3.4 M subqueries, minutes of work for any
#: engine that evaluates it (three levels over 300 already take seconds). Each subquery reads
#: its parent (`^.i`), so none is the same for every element (the engine computes those once).
SLOW_QUERY = (
    'count(*[_type == "a"]{"n": count(*[_type == "a" && i != ^.i]{"m": count(*[_type == "a"'
    ' && i != ^.i]{"k": count(*[_type == "a" && i != ^.i])})})})'
)
SEED = [{"create": {"_id": f"a{i}", "_type": "a", "i": i}} for i in range(150)]


def _query_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "lake-query" and t.is_alive()]


async def _until(condition: object, *, within: float = 20.0) -> None:
    """Wait (polling) until `condition()` holds; a generous bound, not a timing assertion."""
    give_up = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        if time.monotonic() > give_up:
            raise AssertionError("condition not reached within the generous bound")
        await asyncio.sleep(0.02)


async def test_a_slow_query_is_cut_at_its_deadline_while_writes_and_reads_are_answered(
    tmp_path: Path,
) -> None:
    lake = Lake(tmp_path / "lake.sqlite3", query_deadline_s=4)
    client = http_client(create_lake_app(lake, token=TOKEN))
    try:
        assert (await mutate(client, SEED, headers=AUTH)).status_code == 200
        slow = asyncio.create_task(
            client.get(f"{API}/query/production", params={"query": SLOW_QUERY}, headers=AUTH)
        )
        await _until(lambda: bool(_query_threads()))

        written = await mutate(
            client, [{"create": {"_id": "p1", "_type": "product", "n": 1}}], headers=AUTH
        )
        read = await client.get(f"{API}/doc/production/p1", headers=AUTH)
        quick = await client.get(
            f"{API}/query/production", params={"query": "count(*)"}, headers=AUTH
        )
        assert not slow.done(), "the slow query ended before the others were answered"

        answer = await slow
    finally:
        await client.aclose()
        await lake.aclose()

    assert written.status_code == 200
    assert read.json()["documents"][0]["n"] == 1
    assert quick.json()["result"] == 151
    assert answer.status_code == 408, answer.text[:300]
    error = answer.json()["error"]
    assert error["type"] == "queryTimeoutError"
    assert "deadline of 4 s" in error["description"]
    # The cut query's thread stops too (it does not run on in the background).
    await _until(lambda: not _query_threads())


async def test_a_query_busy_without_reading_documents_is_cut_too(tmp_path: Path) -> None:
    numbers = list(range(20_000))  # 400 M comparisons in a pure evaluation loop
    async with Lake(tmp_path / "lake.sqlite3", query_deadline_s=0.5) as lake:
        with pytest.raises(QueryTimeout) as raised:
            await lake.query("count($a[count($a[@ > ^]) > 0])", {"a": numbers})
        await _until(lambda: not _query_threads())
        # The lake is fine afterwards.
        assert await lake.query("count($a)", {"a": [1, 2]}) == 2
    assert raised.value.body is not None
    assert raised.value.body["error"]["type"] == "queryTimeoutError"


def _thread_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
async def test_sigterm_stops_a_real_lake_server_within_seconds_during_a_slow_query(
    tmp_path: Path,
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "service.entrypoints.cli.main",
        "lake",
        "serve",
        "--port",
        str(port),
    ]
    command += ["--data", str(tmp_path / "lake.sqlite3"), "--token", TOKEN]
    command += ["--query-deadline", "600"]  # only SIGTERM can end the slow query here
    server = await asyncio.create_subprocess_exec(
        *command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ)
    )
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            for _ in range(300):
                try:
                    await http.get(f"{API}/doc/production/probe", headers=AUTH)
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            assert (await mutate(http, SEED, headers=AUTH)).status_code == 200
            threads_before = _thread_count(server.pid)
            slow = asyncio.create_task(
                http.get(f"{API}/query/production", params={"query": SLOW_QUERY}, headers=AUTH)
            )
            # The slow query is running once the server has started its thread.
            await _until(lambda: _thread_count(server.pid) > threads_before)
            written = await mutate(
                http, [{"create": {"_id": "p1", "_type": "product"}}], headers=AUTH
            )
            assert written.status_code == 200
            assert not slow.done()

            async with listening(http, "*", AUTH) as events:
                assert (await events.next())[0] == "welcome"
                server.send_signal(signal.SIGTERM)
                stopped_at = time.monotonic()
                last_event, _data = await events.next(within=20)
            exit_code = await asyncio.wait_for(server.wait(), 20)
            took = time.monotonic() - stopped_at
            slow.cancel()
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
    assert took < 15, f"SIGTERM took {took:.1f} s"
    assert last_event == "reconnect", "open listeners are told to reconnect"
    assert exit_code in (0, -signal.SIGTERM)
