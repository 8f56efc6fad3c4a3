"""Reading a Server-Sent Events answer of an ASGI app as it is sent.

httpx's ASGI transport returns a response only once the app has finished it, and a live
stream never finishes; this driver calls the app itself and hands over each chunk as it is
sent, parsed the way an EventSource parses (events end at a blank line).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from starlette.types import ASGIApp, Message

#: A guard against a hung test, never a timing assertion.
WITHIN_S = 20.0


@dataclass(frozen=True)
class SseEvent:
    name: str
    id: str | None
    data: Any


@dataclass(frozen=True)
class SseComment:
    text: str


class SseStream:
    def __init__(
        self, app: ASGIApp, path: str, params: dict[str, str], headers: dict[str, str] | None = None
    ) -> None:
        self.app = app
        self.path = path
        self.query = urlencode(params)
        self.request_headers = headers or {}
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = b""
        self._messages: asyncio.Queue[Message] = asyncio.Queue()
        self._gone = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._buffer = ""
        self.ended = False

    async def __aenter__(self) -> SseStream:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": self.query.encode(),
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in self.request_headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("stocksync.test", 80),
        }
        asked = False

        async def receive() -> Message:
            nonlocal asked
            if not asked:
                asked = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self._gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            await self._messages.put(message)

        self._task = asyncio.create_task(self.app(scope, receive, send))
        async with asyncio.timeout(WITHIN_S):
            start = await self._messages.get()
        assert start["type"] == "http.response.start"
        self.status = start["status"]
        self.headers = {k.decode(): v.decode() for k, v in start["headers"]}
        if self.status != 200:
            while not self.ended:
                await self._read_chunk()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    async def disconnect(self) -> None:
        """The client goes away, as a closed browser tab does."""
        self._gone.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(WITHIN_S):
                    await self._task

    async def _read_chunk(self) -> None:
        async with asyncio.timeout(WITHIN_S):
            message = await self._messages.get()
        assert message["type"] == "http.response.body"
        chunk: bytes = message.get("body", b"")
        self.body += chunk
        self._buffer += chunk.decode()
        if not message.get("more_body", False):
            self.ended = True

    async def next(self) -> SseEvent | SseComment:
        """The next event or comment (`retry:` lines are skipped)."""
        while True:
            while "\n\n" not in self._buffer:
                if self.ended:
                    raise AssertionError("the stream ended")
                await self._read_chunk()
            block, self._buffer = self._buffer.split("\n\n", 1)
            lines = block.split("\n")
            if all(line.startswith(":") for line in lines):
                return SseComment(lines[0][1:].strip())
            name, event_id, data = "message", None, []
            for line in lines:
                key, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if key == "event":
                    name = value
                elif key == "id":
                    event_id = value
                elif key == "data":
                    data.append(value)
            if data:
                return SseEvent(name, event_id, json.loads("\n".join(data)))

    async def next_event(self) -> SseEvent:
        """The next event, skipping keep-alive comments."""
        while True:
            item = await self.next()
            if isinstance(item, SseEvent):
                return item

    def has_pending(self) -> bool:
        return "\n\n" in self._buffer or not self._messages.empty()
