"""Running the app: a bound socket, uvicorn, and the blocking `stocksync lake serve` entry."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import uvicorn

from cms_client.faults import FaultPlan
from cms_client.server.routing import create_lake_app


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one (read it from `getsockname()`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


async def serve_lake(
    data_path: str | Path | None,
    *,
    host: str = "127.0.0.1",
    port: int = 7070,
    dataset: str = "production",
    token: str | None = None,
    latency_ms: float = 0,
    faults: FaultPlan | None = None,
    mutate_rate_limit: float | None = None,
    log_level: str = "info",
    sock: socket.socket | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Open the lake at `data_path` (None: in memory) and serve it until stopped.

    `sock` serves on an already bound socket instead of `host`/`port`; setting `stop` shuts
    the server down gracefully. The lake is closed on the way out.
    """
    from cms_client.lake import Lake  # the lake pulls in SQLite; only the server command needs it

    lake = Lake(data_path, dataset=dataset)
    try:
        app = create_lake_app(
            lake,
            dataset=dataset,
            token=token,
            latency_ms=latency_ms,
            faults=faults,
            mutate_rate_limit=mutate_rate_limit,
        )
        server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="off")
        )
        watcher: asyncio.Task[None] | None = None
        if stop is not None:
            watcher = asyncio.create_task(_stop_when_set(stop, server))
        try:
            await server.serve(sockets=[sock] if sock is not None else None)
        finally:
            if watcher is not None:
                watcher.cancel()
    finally:
        await lake.aclose()


async def _stop_when_set(stop: asyncio.Event, server: uvicorn.Server) -> None:
    await stop.wait()
    server.should_exit = True


def run_lake_server(
    data_path: str | Path | None,
    host: str = "127.0.0.1",
    port: int = 7070,
    dataset: str = "production",
    token: str | None = None,
    latency_ms: float = 0,
    *,
    faults: FaultPlan | None = None,
    mutate_rate_limit: float | None = None,
    log_level: str = "info",
) -> None:
    """Blocking entry point for `stocksync lake serve`."""
    asyncio.run(
        serve_lake(
            data_path,
            host=host,
            port=port,
            dataset=dataset,
            token=token,
            latency_ms=latency_ms,
            faults=faults,
            mutate_rate_limit=mutate_rate_limit,
            log_level=log_level,
        )
    )
