"""Two pure ASGI guards around the app: a bounded request body (size, and for JSON depth,
number length, lone surrogates, UTF-8) and a last-resort 500.

Both answer with the one error shape. They are plain ASGI (no `BaseHTTPMiddleware`) so they
add no task group and no copy of the response.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.entrypoints.errors import ApiError, error_body
from service.entrypoints.http.json_limits import json_problem

logger = logging.getLogger("stocksync.http")


async def send_error(send: Send, error: ApiError) -> None:
    body = json.dumps(error_body(error)).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *((k.lower().encode(), v.encode()) for k, v in error.headers.items()),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "body_too_large",
        f"The request body is larger than {limit} bytes.",
        details={"limit": limit},
    )


def _unreadable(problem: str) -> ApiError:
    """The validation error shape (`invalid_request`, one `errors` entry for `body`)."""
    return ApiError(
        400,
        "invalid_request",
        f"body: {problem}",
        details=[f"body: {problem}"],
        title="Invalid request",
        extra={"errors": [{"field": "body", "message": problem, "type": "json_invalid"}]},
    )


#: Bodies that are not JSON: forms are parsed by their own (bounded) parser.
_NOT_JSON = (b"application/x-www-form-urlencoded", b"multipart/form-data")


class BodyLimitMiddleware:
    """Refuse bodies over `max_bytes` with 413, and JSON bodies the parser would choke on
    (`json_limits`) with 400, before any route sees them.

    A declared `Content-Length` over the limit is refused without reading. Otherwise the
    body (small by definition) is read up to the limit and replayed to the app, so a
    chunked upload cannot slip past the limit either.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, path_limits: dict[str, int] | None = None
    ) -> None:
        """`path_limits`: other limits for exact paths (file uploads)."""
        self.app = app
        self.default_max_bytes = max_bytes
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope.get("path", ""), self.default_max_bytes)
        await self._limited(scope, receive, send, limit)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await send_error(send, _too_large(limit))
                    return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client left before sending the body; let the app see that.
                replay: list[Message] = [message]
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await send_error(send, _too_large(limit))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                body = b"".join(chunks)
                problem = json_problem(body) if body and _may_be_json(scope) else None
                if problem is not None:
                    await send_error(send, _unreadable(problem))
                    return
                replay = [{"type": "http.request", "body": body, "more_body": False}]
                break

        async def replaying_receive() -> Message:
            if replay:
                return replay.pop(0)
            return await receive()

        await self.app(scope, replaying_receive, send)


def _may_be_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return not value.lower().startswith(_NOT_JSON)
    return True


class CatchAllMiddleware:
    """Log an unexpected exception and answer 500 with the error shape, never a trace."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            logger.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await send_error(
                    send,
                    ApiError(
                        500,
                        "internal_error",
                        "The service failed unexpectedly; the error was logged.",
                    ),
                )
