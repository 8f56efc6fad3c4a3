"""The benchmark's store: the lake server in a process of its own, counting its requests.

    python -m bench.flash_sale.lake_process --port 7070 --token T [--latency-ms 20]
        [--mutate-rate-limit 25]

It serves `cms_client.server.create_lake_app` over an in-memory lake, wrapped in a counter
of answers per endpoint and status, read with `GET /_bench/stats` (no latency added, not
counted, no token). The counts are what "store requests", conflicts (mutate 409s) and
rate-limited requests (429s) are computed from; `cms_client` itself stays untouched.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from collections import Counter

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms_client.lake import Lake
from cms_client.server import create_lake_app

STATS_PATH = "/_bench/stats"
_ENDPOINT = re.compile(r"^/v[^/]+/data/(doc|query|mutate)/")


class RequestCounter:
    """ASGI middleware: counts every answer by endpoint (doc, query, mutate) and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.counts: Counter[tuple[str, int]] = Counter()

    def snapshot(self) -> dict[str, dict[str, int]]:
        stats: dict[str, dict[str, int]] = {}
        for (endpoint, status), count in sorted(self.counts.items()):
            stats.setdefault(endpoint, {})[str(status)] = count
        return stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == STATS_PATH:
            await _send_json(send, {"requests": self.snapshot()})
            return
        match = _ENDPOINT.match(scope["path"])
        endpoint = match[1] if match else "other"
        status = 0  # a connection dropped before any answer

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            self.counts[(endpoint, status)] += 1


async def _send_json(send: Send, body: object) -> None:
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": raw})


async def serve(
    *, port: int, token: str, latency_ms: float, mutate_rate_limit: float | None, dataset: str
) -> None:
    lake = Lake(None, dataset=dataset)
    try:
        app = RequestCounter(
            create_lake_app(
                lake,
                dataset=dataset,
                token=token,
                latency_ms=latency_ms,
                mutate_rate_limit=mutate_rate_limit,
            )
        )
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        await uvicorn.Server(config).serve()
    finally:
        await lake.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--mutate-rate-limit", type=float, default=None)
    parser.add_argument("--dataset", default="production")
    args = parser.parse_args()
    asyncio.run(
        serve(
            port=args.port,
            token=args.token,
            latency_ms=args.latency_ms,
            mutate_rate_limit=args.mutate_rate_limit,
            dataset=args.dataset,
        )
    )


if __name__ == "__main__":
    main()
