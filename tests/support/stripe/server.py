"""`FakeStripe` served three ways, all through the same `FakeStripe.handle`:

- `serve(fake)`: a real HTTP server (uvicorn, 127.0.0.1, a thread of the test process);
  its base URL is what `STRIPE_API_BASE` points a service (or a service process) at;
- `transport(fake)`: an httpx transport for clients built in-process, no socket;
- `mount(fake, router)`: a respx route on Stripe's real host, for unit tests whose code
  builds its own httpx client (the stripe library does).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl

import httpx
import respx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.stripe.fake import FakeStripe

STRIPE_API = "https://api.stripe.com"


def _params(query: str, body: bytes) -> dict[str, str]:
    """Query string and form body together (Stripe reads both the same way)."""
    pairs = parse_qsl(query) + parse_qsl(body.decode("utf-8", errors="replace"))
    return dict(pairs)


def asgi_app(fake: FakeStripe) -> Starlette:
    async def endpoint(request: Request) -> JSONResponse:
        answer = fake.handle(
            request.method,
            request.url.path,
            _params(request.url.query, await request.body()),
            request.headers.get("authorization"),
        )
        return JSONResponse(answer.body, status_code=answer.status)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST"])])


def transport(fake: FakeStripe) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=asgi_app(fake))


def mount(fake: FakeStripe, router: respx.MockRouter, base: str = STRIPE_API) -> respx.Route:
    """Answer every request to `base` from `fake` (respx)."""

    def answer(request: httpx.Request) -> httpx.Response:
        found = fake.handle(
            request.method,
            request.url.path,
            _params(request.url.query.decode(), request.content),
            request.headers.get("authorization"),
        )
        return httpx.Response(found.status, json=found.body)

    route: respx.Route = router.route(url__startswith=base).mock(side_effect=answer)
    return route


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(fake: FakeStripe) -> Iterator[str]:
    """Serve `fake` over HTTP until the block ends; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            asgi_app(fake), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake Stripe server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
