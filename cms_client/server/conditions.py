"""Production trouble on purpose: injected latency, the mutate rate limit, planned faults."""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Mapping

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms_client.error_bodies import status_body
from cms_client.faults import Fault, FaultPlan, RequestRateLimit
from cms_client.server.errors import json_response

Sleep = Callable[[float], Awaitable[None]]

_ENDPOINT_PATH = re.compile(r"^/v[^/]+/data/(doc|query|mutate)/")


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised by the app to cut the connection after the response has started.

    Under uvicorn this closes the socket mid-response, so a client sees a protocol error.
    Under `httpx.ASGITransport` the exception itself reaches the client, and being an httpx
    transport error it looks exactly like the dropped connection it stands for.
    """


class ProductionConditions:
    """ASGI middleware: injected latency, the mutate rate limit and planned faults."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        latency_s: float,
        sleep: Sleep,
        faults: FaultPlan | None,
        rate_limit: RequestRateLimit | None,
    ) -> None:
        self.app = app
        self.latency_s = latency_s
        self.sleep = sleep
        self.faults = faults
        self.rate_limit = rate_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.latency_s > 0:
            await self.sleep(self.latency_s)
        match = _ENDPOINT_PATH.match(scope["path"])
        endpoint = match[1] if match else None
        headers: dict[str, str] = {}
        if endpoint == "mutate" and self.rate_limit is not None:
            client = scope.get("client")
            host = client[0] if client else "unknown"
            wait = self.rate_limit.admit(host)
            limit = str(math.floor(self.rate_limit.capacity))
            if wait is not None:
                retry = str(max(1, math.ceil(wait)))
                body = status_body(429, "Mutation rate limit exceeded")
                limited = {"Retry-After": retry, "ratelimit-limit": limit, "ratelimit-reset": retry}
                await json_response(429, body, limited)(scope, receive, send)
                return
            headers = {
                "ratelimit-limit": limit,
                "ratelimit-remaining": str(self.rate_limit.remaining(host)),
            }
        fault = self.faults.decide(endpoint) if self.faults is not None and endpoint else None
        if fault is Fault.SERVER_ERROR:
            await json_response(500, status_body(500, "Injected server error"))(
                scope, receive, send
            )
        elif fault is Fault.RATE_LIMITED:
            assert self.faults is not None
            retry = str(self.faults.retry_after_seconds)
            body = status_body(429, "Injected rate limit")
            await json_response(429, body, {"Retry-After": retry})(scope, receive, send)
        elif fault in (Fault.COMMIT_THEN_ERROR, Fault.COMMIT_THEN_DROP):
            await self.app(scope, receive, _discard)
            if fault is Fault.COMMIT_THEN_ERROR:
                body = status_body(500, "Injected server error after commit")
                await json_response(500, body)(scope, receive, send)
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            raise ConnectionDropped("the lake server dropped the connection after committing")
        elif headers:
            await self.app(scope, receive, _with_headers(send, headers))
        else:
            await self.app(scope, receive, send)


async def _discard(message: Message) -> None:
    return None


def _with_headers(send: Send, headers: Mapping[str, str]) -> Send:
    extra = [(name.encode(), value.encode()) for name, value in headers.items()]

    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sender
