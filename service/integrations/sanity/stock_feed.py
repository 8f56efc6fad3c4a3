"""`StockFeed`: one upstream listener on the store per process, fanned out to every
live stock stream of that process.

The upstream is the store's own change feed, so it sees every change whichever process or
tool made it: on Sanity the listen API (`/data/listen`, which also carries edits published
in Studio), on the embedded lake its change feed (`Lake.subscribe`, which also reads the
commits of other processes on the same file). In-process events would miss both. Only
published `product` documents matter: each change is handed, as the document after the
change, to the subscribers that follow that product. The upstream is opened with the first
subscriber and closed with the last, so a process nobody streams from holds no connection.

When the upstream drops (a Sanity `reconnect`, a network error, a lake listener that fell
behind), changes may have been missed: the feed reconnects with backoff and sends every
subscriber a `RESYNC` marker, on which a stream reads its products again and sends what
changed. Nothing is guessed from a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final

from cms_client.ids import is_published
from cms_client.store import Document

logger = logging.getLogger("stocksync.stream")

#: Put in a subscriber's queue after an upstream gap: read everything again.
RESYNC: Final = "resync"
#: Changes a subscriber may have waiting; a slower one is resynchronised instead.
BACKLOG: Final = 1000
PRODUCT_FILTER: Final = '*[_type == "product"]'
FIRST_RETRY_S: Final = 0.5
MAX_RETRY_S: Final = 15.0

Item = Document | str
#: One upstream connection: None once connected (and after each reconnect), then documents.
Upstream = Callable[[], AsyncIterator[Document | None]]
Sleep = Callable[[float], Awaitable[object]]


class Subscriber:
    """One stream's queue of product changes (documents) and `RESYNC` markers."""

    def __init__(self, feed: StockFeed) -> None:
        self._feed = feed
        self.queue: asyncio.Queue[Item] = asyncio.Queue()
        #: Product `_id`s this stream follows; None until known (then every change counts).
        self.products: set[str] | None = None

    def offer(self, item: Item) -> None:
        if self.queue.qsize() >= BACKLOG:
            # Too slow to keep up: drop the backlog and read fresh instead.
            while not self.queue.empty():
                self.queue.get_nowait()
            item = RESYNC
        self.queue.put_nowait(item)

    async def next(self) -> Item:
        return await self.queue.get()

    def close(self) -> None:
        self._feed.unsubscribe(self)


class StockFeed:
    def __init__(self, upstream: Upstream, *, sleep: Sleep = asyncio.sleep) -> None:
        self._upstream = upstream
        self._sleep = sleep
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        #: Upstream connections opened so far (one while nothing went wrong).
        self.connections = 0

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber(self)
        self._subscribers.add(subscriber)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        if not self._subscribers and self._task is not None:
            self._task.cancel()
            self._task = None

    async def ready(self) -> None:
        """Wait until the upstream is connected, so changes from now on are seen (returns
        early if the upstream task ends first; the stream then resynchronises)."""
        task = self._task
        if task is None or self._connected.is_set():
            return
        waiter = asyncio.ensure_future(self._connected.wait())
        try:
            await asyncio.wait({waiter, task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()

    def _dispatch(self, doc: Document) -> None:
        product_id = doc.get("_id")
        for subscriber in list(self._subscribers):
            if subscriber.products is None or product_id in subscriber.products:
                subscriber.offer(doc)

    def _resync(self) -> None:
        for subscriber in list(self._subscribers):
            subscriber.offer(RESYNC)

    async def _run(self) -> None:
        self._connected.clear()
        delay = FIRST_RETRY_S
        first = True
        while self._subscribers:
            try:
                self.connections += 1
                async for doc in self._upstream():
                    if doc is None:  # connected (or connected again)
                        self._connected.set()
                        if not first:
                            self._resync()
                        first = False
                        delay = FIRST_RETRY_S
                        continue
                    self._dispatch(doc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("stock stream upstream failed (%s); connecting again", exc)
            first = False
            self._connected.clear()
            await self._sleep(delay)
            delay = min(delay * 2, MAX_RETRY_S)

    async def aclose(self) -> None:
        task, self._task = self._task, None
        self._subscribers.clear()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def upstream_for(store: Any) -> Upstream | None:
    """The change source of `store` (a SanityClient or a Lake), or None when it has none."""
    if callable(getattr(store, "listen", None)):
        return lambda: _sanity_products(store)
    if callable(getattr(store, "subscribe", None)):
        return lambda: _lake_products(store)
    return None


async def _lake_products(lake: Any) -> AsyncIterator[Document | None]:
    subscription = await lake.subscribe()
    try:
        yield None
        while True:
            change = await subscription.next()  # FeedClosed ends this connection: resync
            for doc in change.documents:
                result = doc.result
                if (
                    result is not None
                    and result.get("_type") == "product"
                    and is_published(doc.document_id)
                ):
                    yield result
    finally:
        subscription.close()


async def _sanity_products(client: Any) -> AsyncIterator[Document | None]:
    events = client.listen(PRODUCT_FILTER)
    try:
        async for event in events:
            if event.name == "welcome":
                yield None
            elif event.name == "mutation":
                result = event.data.get("result")
                document_id = event.data.get("documentId")
                if (
                    isinstance(result, dict)
                    and isinstance(document_id, str)
                    and is_published(document_id)
                    and result.get("_type") == "product"
                ):
                    yield result
    finally:
        await events.aclose()
