"""`stocksync bench stock-stream`: how fast a stock change made through one service process
reaches the live stock streams of another.

Two `stocksync serve` processes share one embedded lake file (as two instances of a
self-hosted deployment would). S subscribers open `GET /api/stock-stream?productIds=railcam`
on process B; then C changes are made through process A's API (a reserve, then its release,
alternately). For each change, each subscriber's delay is the time from sending the request
to A until that subscriber has read the `stock` event; the report gives p50 / p99 / max over
all C x S deliveries, and how many were missed. Process B learns of A's commits from the
lake's change feed, which looks for other processes' commits every 0.1 s, so that interval
bounds the typical figure from below.

Figures depend on the machine; they are measured, never asserted in tests.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.flash_sale.cluster import HOST, base_environment, free_port
from bench.serving import spawn, stop, wait_answering

PRODUCT = "railcam"
#: How long one change may take to reach every subscriber before it counts as missed.
DELIVERY_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class StreamBenchOptions:
    subscribers: int = 200
    changes: int = 20

    def __post_init__(self) -> None:
        if not 1 <= self.subscribers <= 2000:
            raise ValueError("--subscribers must be between 1 and 2000")
        if not 1 <= self.changes <= 1000:
            raise ValueError("--changes must be between 1 and 1000")


def _seed(data: Path) -> None:
    from cms_client.lake import Lake
    from service.engine import Inventory
    from service.entrypoints.cli.demo import seed_catalogue

    async def seed() -> None:
        async with Lake(data) as lake:
            await seed_catalogue(lake, Inventory(lake))

    asyncio.run(seed())


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def _address(n: int) -> str:
    """A documentation address (RFC 5737 TEST-NET-2) per subscriber."""
    return f"198.51.{n // 250}.{n % 250 + 1}"


class Subscriber:
    """One stream's reader: the arrival time of every `stock` event, in order."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.ready = asyncio.Event()
        self.changed = asyncio.Event()

    async def run(self, http: httpx.AsyncClient, url: str, address: str) -> None:
        # Each subscriber stands for a shopper's browser, so it comes from its own address
        # (the public routes are rate-limited per address, README "Rate limits").
        headers = {"x-forwarded-for": address}
        async with http.stream(
            "GET", url, params={"productIds": PRODUCT}, headers=headers
        ) as response:
            response.raise_for_status()
            name = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line == "" and name:
                    if name == "snapshot":
                        self.ready.set()
                    elif name == "stock":
                        self.arrivals.append(time.perf_counter())
                        self.changed.set()
                    name = ""


async def _measure(options: StreamBenchOptions, writer: str, reader: str, key: str) -> Any:
    limits = httpx.Limits(max_connections=options.subscribers + 10)
    timeout = httpx.Timeout(30.0, read=None)
    subscribers = [Subscriber() for _ in range(options.subscribers)]
    async with (
        httpx.AsyncClient(base_url=reader, limits=limits, timeout=timeout) as streams,
        httpx.AsyncClient(base_url=writer, timeout=30.0) as api,
    ):
        tasks = [
            asyncio.create_task(sub.run(streams, "/api/stock-stream", _address(n)))
            for n, sub in enumerate(subscribers)
        ]
        try:
            async with asyncio.timeout(60):
                ready: asyncio.Future[Any] = asyncio.ensure_future(
                    asyncio.gather(*(sub.ready.wait() for sub in subscribers))
                )
                watched: list[asyncio.Future[Any]] = [ready, *tasks]
                # A stream refused at the start (say 429) ends its task: report it, not a hang.
                await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
                if not ready.done():
                    ready.cancel()
                    ended = next(task for task in tasks if task.done())
                    ended.result()
                    raise RuntimeError("a stock stream ended before its snapshot")
            delays: list[float] = []
            missed = 0
            headers = {"Authorization": f"Bearer {key}"}
            for change in range(options.changes):
                session = f"cs_bench_{change // 2}"
                for sub in subscribers:
                    sub.changed.clear()
                expected = change + 1
                sent = time.perf_counter()
                if change % 2 == 0:
                    body = {
                        "sessionId": session,
                        "operations": [{"productId": PRODUCT, "quantity": 1}],
                    }
                    answer = await api.post("/api/reserve-stock", json=body, headers=headers)
                else:
                    answer = await api.post(
                        "/api/release-stock", json={"sessionId": session}, headers=headers
                    )
                answer.raise_for_status()
                deadline = sent + DELIVERY_TIMEOUT_S
                for sub in subscribers:
                    while len(sub.arrivals) < expected and time.perf_counter() < deadline:
                        sub.changed.clear()
                        try:
                            async with asyncio.timeout(max(0.0, deadline - time.perf_counter())):
                                await sub.changed.wait()
                        except TimeoutError:
                            break
                    if len(sub.arrivals) >= expected:
                        delays.append(sub.arrivals[expected - 1] - sent)
                    else:
                        missed += 1
                        # Keep the rounds aligned: a late event must not count for the next.
                        sub.arrivals.extend([float("nan")] * (expected - len(sub.arrivals)))
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return delays, missed


def run_stock_stream(options: StreamBenchOptions) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="stock-stream-") as workdir:
        work = Path(workdir)
        data = work / "lake.sqlite3"
        _seed(data)
        key = "sf-bench-stream"
        env = {**base_environment(), "STOREFRONT_API_KEY": key}
        processes: list[subprocess.Popen[bytes]] = []
        urls: list[str] = []
        try:
            for name in ("writer", "reader"):
                port = free_port()
                url = f"http://{HOST}:{port}"
                serve = ["serve", "--host", HOST, "--port", str(port), "--data", str(data)]
                process, log = spawn(work, name, [*serve, "--log-level", "warning"], env)
                processes.append(process)
                wait_answering(process, log, url + "/api/health")
                urls.append(url)
            delays, missed = asyncio.run(_measure(options, urls[0], urls[1], key))
        finally:
            stop(processes)
    ms = [delay * 1000 for delay in delays]
    return {
        "benchmark": "stock-stream",
        "processes": 2,
        "store": "embedded lake (one SQLite file, two service processes)",
        "subscribers": options.subscribers,
        "changes": options.changes,
        "deliveries": len(ms),
        "missed": missed,
        "p50_ms": round(statistics.median(ms), 1) if ms else None,
        "p99_ms": round(_percentile(ms, 0.99), 1) if ms else None,
        "max_ms": round(max(ms), 1) if ms else None,
        "p99_within_1s": bool(ms) and missed == 0 and _percentile(ms, 0.99) <= 1000,
    }


if __name__ == "__main__":
    print(json.dumps(run_stock_stream(StreamBenchOptions()), indent=2))
