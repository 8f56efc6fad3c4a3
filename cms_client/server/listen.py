"""`GET /v…/data/listen/<dataset>?query=<GROQ filter>`: Sanity's listener, as Server-Sent Events.

The stream starts with `welcome` and then sends one `mutation` event per document a
committed transaction wrote that matches the filter before or after (`transition`: `appear`,
`update` or `disappear`). As on Sanity only the filter counts: the query is evaluated
against each document alone, so projections, ordering and joins make no difference.
Options, as the official client sends them: `includeResult` (default true here as in the
client), `includePreviousRevision`, `includeMutations` (default true), `includeAllVersions`,
`visibility` (the lake is always consistent: events say `query`), `tag`; `effectFormat`
(mendoza effects) is refused with a `channelError` rather than silently left out.

A bad filter or option answers a `channelError` event (the client raises it as an error,
and does not reconnect). The stream ends with a `reconnect` event when the lake closes,
when the listener falls too far behind, or after Sanity's 30-minute connection lifetime;
the client then reconnects. Comment lines keep idle connections open through proxies.

Changes come from the lake's change feed (`cms_client/lake/feed.py`), so writes by other
processes on the same lake file reach listeners too.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from cms_client import groq
from cms_client.error_bodies import query_error_body, status_body
from cms_client.errors import QueryError, StoreUnavailable
from cms_client.ids import is_published, is_version
from cms_client.lake.feed import Change, FeedClosed, Subscription
from cms_client.server.errors import Refusal
from cms_client.server.inputs import Gate, query_string_params
from cms_client.store import Document, DocumentStore

#: Sanity closes a listener after 30 minutes; clients reconnect.
MAX_CONNECTION_S = 30 * 60
#: An SSE comment this often keeps an idle connection from being cut by proxies.
KEEPALIVE_S = 15.0


@runtime_checkable
class Listenable(Protocol):
    async def subscribe(self) -> Subscription: ...


class _Listener:
    """One listen request's filter and options."""

    def __init__(self, request: Request, anonymous: bool) -> None:
        query = request.query_params.get("query")
        self.problem: dict[str, Any] | None = None
        self.query = query or ""
        self.params = query_string_params(request)
        self.include_result = _option(request, "includeResult", True)
        self.include_previous = _option(request, "includePreviousRevision", False)
        self.include_mutations = _option(request, "includeMutations", True)
        self.include_versions = _option(request, "includeAllVersions", False)
        self.anonymous = anonymous
        self.parsed: groq.GroqQuery | None = None
        if not query or not query.strip():
            self.problem = {"error": {"type": "httpBadRequest", "description": "Missing query"}}
        elif request.query_params.get("effectFormat"):
            self.problem = {
                "error": {
                    "type": "httpBadRequest",
                    "description": "effectFormat is not supported by the lake",
                }
            }
        else:
            try:
                self.parsed = groq.parse(query)
            except QueryError as exc:
                self.problem = query_error_body(exc, query)

    def visible(self, document_id: str) -> bool:
        if self.anonymous:
            return is_published(document_id)
        return self.include_versions or not is_version(document_id)

    def matches(self, document: Document | None) -> bool:
        if document is None or self.parsed is None:
            return False
        try:
            result = groq.evaluate(
                self.parsed, groq.ListSource([document]), self.params, now=datetime.now(UTC)
            )
        except QueryError:
            return False
        return bool(result) if isinstance(result, list) else result is not None

    def events(self, change: Change) -> list[tuple[str, dict[str, Any]]]:
        """`(event id, data)` of the mutation events `change` makes for this listener."""
        picked: list[tuple[str, dict[str, Any]]] = []
        for doc in change.documents:
            if not self.visible(doc.document_id):
                continue
            before, after = self.matches(doc.previous), self.matches(doc.result)
            if not before and not after:
                continue
            transition = "update" if before and after else "appear" if after else "disappear"
            event_id = f"{change.transaction_id}#{doc.document_id}"
            data: dict[str, Any] = {
                "documentId": doc.document_id,
                "eventId": event_id,
                "identity": change.identity,
                "transactionId": change.transaction_id,
                "transition": transition,
                "timestamp": change.timestamp,
                "visibility": "query",
            }
            if self.include_mutations:
                data["mutations"] = doc.mutations
            if doc.previous is not None:
                data["previousRev"] = doc.previous.get("_rev")
            if doc.result is not None:
                data["resultRev"] = doc.result.get("_rev")
            if self.include_result and doc.result is not None:
                data["result"] = doc.result
            if self.include_previous:
                data["previous"] = doc.previous
            picked.append((event_id, data))
        for number, (_event_id, data) in enumerate(picked):
            data["transactionTotalEvents"] = len(picked)
            data["transactionCurrentEvent"] = number + 1
        return picked


def _option(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    return raw.lower() in ("true", "1")


def _event(name: str, data: Mapping[str, Any], event_id: str | None = None) -> bytes:
    lines = [f"event: {name}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return ("\n".join(lines) + "\n\n").encode()


class Listen:
    def __init__(self, store: DocumentStore, gate: Gate) -> None:
        self.store = store
        self.gate = gate

    async def listen(self, request: Request) -> Response:
        admission = self.gate.admit(request, anonymous_ok=True)
        if not isinstance(self.store, Listenable):
            raise Refusal(404, status_body(404, "This store does not support listening"))
        listener = _Listener(request, admission.anonymous)
        subscription: Subscription | None = None
        if listener.problem is None:
            try:
                subscription = await self.store.subscribe()
            except (FeedClosed, StoreUnavailable):
                # Stopping: tell the client to come back (to the next server).
                return StreamingResponse(
                    iter([_event("reconnect", {})]), media_type="text/event-stream"
                )
        return StreamingResponse(
            _stream(listener, subscription),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )


async def _stream(listener: _Listener, subscription: Subscription | None) -> AsyncIterator[bytes]:
    if subscription is None:
        assert listener.problem is not None
        yield _event("channelError", listener.problem)
        return
    try:
        yield _event("welcome", {"listenerName": f"lake-{secrets.token_hex(8)}"})
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + MAX_CONNECTION_S
        while True:
            wait = min(KEEPALIVE_S, ends_at - loop.time())
            if wait <= 0:
                break
            try:
                async with asyncio.timeout(wait):
                    change = await subscription.next()
            except TimeoutError:
                yield b": keepalive\n\n"
                continue
            except FeedClosed:
                break
            for event_id, data in listener.events(change):
                yield _event("mutation", data, event_id)
        yield _event("reconnect", {})
    finally:
        subscription.close()
