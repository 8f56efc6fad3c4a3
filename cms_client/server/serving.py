"""Running the app: a bound socket, uvicorn, and the blocking `stocksync lake serve` entry."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import uvicorn

from cms_client.faults import FaultPlan
from cms_client.lake.query_threads import DEFAULT_QUERY_DEADLINE_S
from cms_client.server.routing import create_lake_app

if TYPE_CHECKING:
    from cms_client.lake import Lake

#: How long a stopping server lets running requests finish before cancelling them.
SHUTDOWN_GRACE_S = 2


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
    query_deadline_s: float = DEFAULT_QUERY_DEADLINE_S,
    public: bool = False,
) -> None:
    """Open the lake at `data_path` (None: in memory) and serve it until stopped.

    `sock` serves on an already bound socket instead of `host`/`port`; setting `stop` shuts
    the server down gracefully. The lake is closed on the way out.
    """
    from cms_client.lake import Lake  # the lake pulls in SQLite; only the server command needs it

    lake = Lake(data_path, dataset=dataset, query_deadline_s=query_deadline_s)
    try:
        app = create_lake_app(
            lake,
            dataset=dataset,
            token=token,
            latency_ms=latency_ms,
            faults=faults,
            mutate_rate_limit=mutate_rate_limit,
            public=public,
        )
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            lifespan="off",
            # SIGTERM stops the server within seconds in any state: requests still running
            # after this are cancelled (a cancelled query is cut), then the lake closes.
            timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
        )
        server = _LakeServer(config, lake)
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


class _LakeServer(uvicorn.Server):
    """uvicorn's server, ending the lake's listen streams as soon as it is told to stop
    (SIGTERM, Ctrl-C, `stop`): each gets a `reconnect` event and its connection closes now
    instead of at the grace timeout."""

    def __init__(self, config: uvicorn.Config, lake: Lake) -> None:
        super().__init__(config)
        self._lake = lake
        self._loop = asyncio.get_running_loop()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # From a signal handler: only hand the work to the event loop.
        self._loop.call_soon_threadsafe(self._lake.end_subscriptions)

    def stop(self) -> None:
        self.should_exit = True
        self._lake.end_subscriptions()


async def _stop_when_set(stop: asyncio.Event, server: _LakeServer) -> None:
    await stop.wait()
    server.stop()


def run_lake_server(data_path: str | Path | None, **options: Any) -> None:
    """Blocking entry point for `stocksync lake serve` (options as for `serve_lake`)."""
    asyncio.run(serve_lake(data_path, **options))
