"""Guarded single-document patches per second, the way stocksync writes stock.

Each operation is one strongly consistent read and one `ifRevisionID` patch of that
document, retried on a revision conflict. Figures:

- `sequential`: one coroutine, one document, `n` operations back to back;
- `concurrent_distinct`: `concurrency` coroutines, each on its own document, `n` in total;
- `concurrent_hot`: the same coroutines all on one document (conflicts and retries).

Run `uv run stocksync bench lake-throughput [--n 2000] [--concurrency 16] [--data FILE]`
(or `python -m bench.lake_throughput`);
it prints one JSON object with the figures taken in one run: `raw_sqlite` (the floor: a
guarded read-modify-write in plain Python SQLite at the lake's durability, `raw_sqlite.py`,
and the same with `synchronous=NORMAL` for scale), `inprocess` (the `Lake` called directly)
and `http` (a `SanityClient` talking to `stocksync lake serve`, started as a separate process
on 127.0.0.1), plus the ratios: `inprocess_to_raw` (sequential lake / raw at equal
durability, awaited and through the synchronous API) and `inprocess_to_http`. `--profile`
adds the top of a cProfile of the in-process sequential run, to show where the time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cms_client import mutations as m
from cms_client.errors import RevisionConflict
from cms_client.store import DocumentStore


async def _guarded_patch(store: DocumentStore, doc_id: str) -> int:
    """One read + guarded write; returns the attempts it took."""
    attempts = 0
    while True:
        attempts += 1
        (document,) = await store.get_documents([doc_id])
        if document is None:
            raise LookupError(f"benchmark document {doc_id} disappeared")
        try:
            await store.mutate(
                [m.patch(doc_id, if_revision_id=document["_rev"], inc={"stock.onHand": 1})],
                return_documents=False,
                idempotent=True,
            )
        except RevisionConflict:
            continue
        return attempts


async def _workers(store: DocumentStore, doc_ids: list[str], n: int) -> tuple[float, int]:
    """Run `n` operations spread over one coroutine per entry of `doc_ids`."""
    shares = [n // len(doc_ids) + (1 if i < n % len(doc_ids) else 0) for i in range(len(doc_ids))]

    async def worker(doc_id: str, count: int) -> int:
        return sum([await _guarded_patch(store, doc_id) for _ in range(count)])

    started = time.perf_counter()
    attempts = await asyncio.gather(*(worker(d, c) for d, c in zip(doc_ids, shares, strict=True)))
    return time.perf_counter() - started, sum(attempts)


def _figures(n: int, seconds: float, attempts: int) -> dict[str, Any]:
    return {
        "operations": n,
        "seconds": round(seconds, 4),
        "ops_per_second": round(n / seconds, 1) if seconds else None,
        "mean_ms": round(1000 * seconds / n, 3) if n else None,
        "attempts": attempts,
    }


async def run_inprocess(store: DocumentStore, n: int, *, concurrency: int = 16) -> dict[str, Any]:
    """Measure guarded patches per second on `store`; creates and then deletes its documents."""
    prefix = f"bench.{secrets.token_hex(4)}."
    doc_ids = [f"{prefix}{i}" for i in range(concurrency)]
    await store.mutate(
        [
            m.create({"_id": doc_id, "_type": "benchProduct", "stock": {"onHand": 0}})
            for doc_id in doc_ids
        ],
        return_documents=False,
    )
    try:
        sequential = _figures(n, *await _workers(store, doc_ids[:1], n))
        distinct = _figures(n, *await _workers(store, doc_ids, n))
        hot = _figures(n, *await _workers(store, [doc_ids[0]] * concurrency, n))
        counted = await store.get_documents(doc_ids)
        total = sum(d["stock"]["onHand"] for d in counted if d is not None)
        if total != 3 * n:
            raise AssertionError(f"lost updates: counted {total}, expected {3 * n}")
    finally:
        await store.mutate([m.delete(doc_id) for doc_id in doc_ids], return_documents=False)
    return {
        "store": store.kind,
        "concurrency": concurrency,
        "sequential": sequential,
        "concurrent_distinct": distinct,
        "concurrent_hot": hot,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _wait_until_serving(base_url: str, server: asyncio.subprocess.Process) -> None:
    import httpx

    async with httpx.AsyncClient() as http:
        for _ in range(200):
            if server.returncode is not None:
                raise RuntimeError("stocksync lake serve exited before serving")
            try:
                await http.get(f"{base_url}/v2025-02-19/data/doc/production/probe")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError("stocksync lake serve did not start within 10 s")


async def run_http(data: Path, n: int, *, concurrency: int) -> dict[str, Any]:
    """The same figures through `SanityClient` and `stocksync lake serve` over loopback."""
    from cms_client.sanity_client import SanityClient
    from cms_client.sanity_settings import SanitySettings

    port = _free_port()
    token = secrets.token_hex(8)
    base_url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "service.entrypoints.cli.main",
        "lake",
        "serve",
        "--port",
        str(port),
    ]
    command += ["--data", str(data), "--token", token]
    server = await asyncio.create_subprocess_exec(
        *command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ)
    )
    try:
        await _wait_until_serving(base_url, server)
        settings = SanitySettings(
            project_id="bench",
            api_host=base_url,
            api_token=token,
            mutations_per_second=1_000_000,
        )
        client = SanityClient(settings)
        try:
            return await run_inprocess(client, n, concurrency=concurrency)
        finally:
            await client.aclose()
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), timeout=10)


def _ratio(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    if not a.get("ops_per_second") or not b.get("ops_per_second"):
        return None
    return round(float(a["ops_per_second"]) / float(b["ops_per_second"]), 2)


async def _main(
    n: int, concurrency: int, data: str | None, http: bool, profile: bool = False
) -> dict[str, Any]:
    from bench.raw_sqlite import run_raw
    from cms_client.lake import Lake

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(data) if data else Path(scratch) / "bench.sqlite3"
        raw_normal = run_raw(Path(scratch) / "raw-normal.sqlite3", n, synchronous="NORMAL")
        async with Lake(path) as lake:
            raw, lake_sequential, lake_sync = await _interleaved(
                lake, Path(scratch) / "raw.sqlite3", n
            )
            figures = await run_inprocess(lake, n, concurrency=concurrency)
            profiled = await _profile(lake, n) if profile else None
        result: dict[str, Any] = {
            "raw_sqlite": {"full": raw, "normal": raw_normal},
            "inprocess": {"data": str(path) if data else "temporary file", **figures},
            "inprocess_to_raw": {
                "sequential": _ratio(lake_sequential, raw),
                "sequential_sync": _ratio(lake_sync or {}, raw),
                "concurrent_distinct": _ratio(figures["concurrent_distinct"], raw),
                "lake_sequential": lake_sequential,
                "lake_sequential_sync": lake_sync,
                "note": "lake guarded patch (read + ifRevisionID patch) / raw guarded RMW, "
                "both WAL + synchronous=FULL. sequential: one awaited operation at a time "
                "(the writer thread commits it; the event loop never waits on disk); "
                "sequential_sync: the same through Lake.get_documents_sync/mutate_sync, "
                "which commit on the calling thread (code without an event loop); both "
                "measured in alternating rounds with raw so all see the same disk; "
                "concurrent_distinct: `concurrency` writers on their own documents (the "
                "lake commits queued writes together, each durable before it is answered) "
                "against the same raw figure",
            },
        }
        if profiled is not None:
            result["profile_top"] = profiled
        if http:
            over_http = await run_http(Path(scratch) / "http.sqlite3", n, concurrency=concurrency)
            result["http"] = over_http
            result["inprocess_to_http"] = {
                key: _ratio(figures[key], over_http[key])
                for key in ("sequential", "concurrent_distinct", "concurrent_hot")
            }
        return result


def _guarded_patch_sync(lake: Any, doc_id: str) -> int:
    """`_guarded_patch` through the lake's synchronous API, on the calling thread."""
    attempts = 0
    while True:
        attempts += 1
        (document,) = lake.get_documents_sync([doc_id])
        if document is None:
            raise LookupError(f"benchmark document {doc_id} disappeared")
        try:
            lake.mutate_sync(
                [m.patch(doc_id, if_revision_id=document["_rev"], inc={"stock.onHand": 1})],
                return_documents=False,
            )
        except RevisionConflict:
            continue
        return attempts


async def _interleaved(
    store: DocumentStore, raw_path: Path, n: int, rounds: int = 50
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """Raw, lake (awaited) and lake (synchronous API, when the store has one) sequential
    figures from alternating rounds of `n / rounds` operations: an fsync's cost drifts
    with what else the disk does, and all sides share the drift."""
    from bench.raw_sqlite import RawCounter

    doc_id = f"bench.{secrets.token_hex(4)}.interleaved"
    await store.mutate([m.create({"_id": doc_id, "_type": "benchProduct", "stock": {"onHand": 0}})])
    raw = RawCounter(raw_path)
    has_sync = hasattr(store, "mutate_sync")
    lake_seconds = sync_seconds = 0.0
    per_round = max(1, n // rounds)

    def sync_round() -> float:
        # On a worker thread: the synchronous API refuses the event loop's thread.
        started = time.perf_counter()
        for _ in range(per_round):
            _guarded_patch_sync(store, doc_id)
        return time.perf_counter() - started

    try:
        for _ in range(rounds):
            raw.run(per_round)
            started = time.perf_counter()
            for _ in range(per_round):
                await _guarded_patch(store, doc_id)
            lake_seconds += time.perf_counter() - started
            if has_sync:
                sync_seconds += await asyncio.to_thread(sync_round)
        raw_figures = raw.figures()
    finally:
        raw.close()
        await store.mutate([m.delete(doc_id)])
    done = per_round * rounds
    sync = _figures(done, sync_seconds, done) if has_sync else None
    return raw_figures, _figures(done, lake_seconds, done), sync


async def _profile(store: DocumentStore, n: int) -> dict[str, list[str]]:
    """Where a sequential guarded patch spends its time: a cProfile of the event loop's
    thread and one of the lake's writer thread (where SQLite and JSON run), by own time."""
    import cProfile
    import io
    import pstats

    from cms_client.lake import Lake

    doc_id = f"bench.{secrets.token_hex(4)}.profiled"
    await store.mutate([m.create({"_id": doc_id, "_type": "benchProduct", "stock": {"onHand": 0}})])
    loop_profile, writer_profile = cProfile.Profile(), cProfile.Profile()
    lake = store if isinstance(store, Lake) else None
    if lake is not None:
        await lake._run(lambda db: writer_profile.enable())
    loop_profile.enable()
    for _ in range(n):
        await _guarded_patch(store, doc_id)
    loop_profile.disable()
    if lake is not None:
        await lake._run(lambda db: writer_profile.disable())
    await store.mutate([m.delete(doc_id)])

    def top(profile: cProfile.Profile) -> list[str]:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(15)
        lines = [line.rstrip() for line in out.getvalue().splitlines() if line.strip()]
        return [line.replace(str(Path.cwd()) + "/", "") for line in lines]

    return {"event_loop_thread": top(loop_profile), "writer_thread": top(writer_profile)}


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> None:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="operations per scenario")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--data", default=None, help="lake file (default: a temporary one)")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP figures")
    parser.add_argument(
        "--profile", action="store_true", help="add a cProfile of the in-process run"
    )
    args = parser.parse_args(argv)
    figures = asyncio.run(
        _main(args.n, args.concurrency, args.data, not args.no_http, args.profile)
    )
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
