"""Sanity's listener (`GET /data/listen/<dataset>?query=<filter>`) as an async iterator.

The endpoint answers Server-Sent Events: `welcome` once connected, one `mutation` per
changed document that matches the filter (with `result`, the document after the change,
when `includeResult` is true), `reconnect` when the server asks the client to connect again,
`channelError` for a bad request, `disconnect` when it will not serve this listener again,
and `:` comment lines to keep the connection open. This module parses the stream the way
an EventSource does (an event ends at a blank line; `data:` lines join with newlines) and
yields `ListenEvent`s; reconnecting is the caller's decision (`StockHub` does, with backoff,
and treats every reconnect as a gap to resynchronise over).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from cms_client.errors import BadRequest, StoreUnavailable


@dataclass(frozen=True)
class ListenEvent:
    name: str
    data: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None


class ListenerRefused(BadRequest):
    """`channelError` or `disconnect`: connecting again with the same request will not help."""


def _decode(raw: str) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {"raw": raw}
    return value if isinstance(value, dict) else {"value": value}


async def parse_events(lines: AsyncIterator[str]) -> AsyncIterator[ListenEvent]:
    """Server-Sent Events from text lines (comments dropped, `message` as default name)."""
    name, event_id = "message", None
    data: list[str] = []
    async for line in lines:
        if line == "":
            if data:
                yield ListenEvent(name, _decode("\n".join(data)), event_id)
            elif name != "message":
                yield ListenEvent(name, {}, event_id)
            name, data, event_id = "message", [], None
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key == "event":
            name = value
        elif key == "data":
            data.append(value)
        elif key == "id":
            event_id = value


async def listen_events(
    http: httpx.AsyncClient,
    url: str,
    *,
    query: str,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    tag: str | None = None,
    idle_timeout: float = 60.0,
) -> AsyncIterator[ListenEvent]:
    """One connection's events, until the server ends the stream. Raises
    `ListenerRefused` for `channelError`/`disconnect` and `StoreUnavailable` when the
    connection cannot be made or goes silent for `idle_timeout` (Sanity sends a comment at
    least every few seconds, so silence means a dead connection)."""
    query_params: list[tuple[str, str | int | float | bool | None]] = [
        ("query", query),
        ("includeResult", "true"),
        ("includeMutations", "false"),
        ("visibility", "query"),
    ]
    if tag:
        query_params.append(("tag", tag))
    for key, value in (params or {}).items():
        query_params.append((f"${key}", json.dumps(value)))
    request_headers = {**(headers or {}), "Accept": "text/event-stream"}
    timeout = httpx.Timeout(10.0, read=idle_timeout)
    try:
        async with http.stream(
            "GET", url, params=query_params, headers=request_headers, timeout=timeout
        ) as response:
            if response.status_code >= 400:
                body = (await response.aread()).decode("utf-8", "replace")[:300]
                if response.status_code in (400, 401, 403, 404):
                    raise ListenerRefused(f"listen answered {response.status_code}: {body}")
                raise StoreUnavailable(f"listen answered {response.status_code}")
            async for event in parse_events(response.aiter_lines()):
                if event.name in ("channelError", "disconnect"):
                    raise ListenerRefused(f"listen {event.name}: {event.data}")
                yield event
                if event.name == "reconnect":
                    return
    except httpx.HTTPError as exc:
        raise StoreUnavailable(f"listen connection failed: {type(exc).__name__}") from exc
