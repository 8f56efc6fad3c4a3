"""Deferred jobs run once the response has been sent, and never break the request."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.types import Receive, Scope, Send

from service.integrations.alerts.after_response import AfterResponseMiddleware, defer


async def test_jobs_run_after_the_whole_response_was_sent() -> None:
    events: list[str] = []

    async def job() -> None:
        events.append("job")

    async def failing_job() -> None:
        raise RuntimeError("receiver exploded")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert defer(failing_job) and defer(job)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    async def send(message: MutableMapping[str, Any]) -> None:
        events.append(message["type"])

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": b""}

    await AfterResponseMiddleware(app)({"type": "http"}, receive, send)
    assert events == ["http.response.start", "http.response.body", "job"]


def test_outside_a_request_nothing_is_deferred() -> None:
    async def job() -> None:
        return None

    assert defer(job) is False
