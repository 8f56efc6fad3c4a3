"""One log line per request, with a request id that is also answered as `X-Request-Id`.

A caller's (or a proxy's) `X-Request-Id` is kept when it is a sane token, so one id follows
a request across services; otherwise a new one is made. The id is set for every log line
written while the request is served (service.entrypoints.logs), so an error logged deep in the
engine can be matched to the request and to what the caller saw.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.entrypoints.logs import request_id_var

logger = logging.getLogger("stocksync.request")

HEADER = b"x-request-id"
#: What an incoming id may look like: short, printable, no spaces or quotes (it is echoed
#: back in a header and written to logs).
_SANE = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == HEADER:
            text = bytes(value).decode("latin-1")
            if _SANE.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """Outermost: sees every answer, the error answers of the other guards included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500  # what the client sees if nothing else answers (the server's default)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logger.info(
                "%s %s %s",
                scope.get("method"),
                scope.get("path"),
                status,
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "client": (scope.get("client") or ("", 0))[0] or None,
                },
            )
            request_id_var.reset(token)
