"""The lake's change feed: committed transactions, from this process and from any other.

Every transaction writes its change log entry in the same SQLite transaction as its
documents (`transactions.changes`: the mutations, and each written document before and
after), so the log is exactly what was committed, in commit order (`seq`).

One `ChangeFeed` per `Lake` (normally one per process) runs one thread that reads the log:
it sleeps until this process commits (`wake`) or a short poll interval passes (another
process's commit: `PRAGMA data_version` tells, for the price of one statement), then hands
each new transaction to every subscriber. Subscribers are queues on event loops; the listen
endpoint and, later, the live stock stream each hold one and share the single reader.

A subscriber that falls too far behind is dropped (its queue says so) rather than letting
memory grow; the listen endpoint answers that with a `reconnect` event.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from cms_client.lake.storage import LakeDatabase
from cms_client.store import Document, Mutation

#: How often the feed looks for commits made by other processes (seconds).
DEFAULT_POLL_S = 0.1
#: Transactions a subscriber may have waiting before it is dropped.
SUBSCRIBER_BACKLOG = 10_000
#: Who the lake says made a change (it has one token, so one identity).
LAKE_IDENTITY = "lake"


@dataclass(frozen=True)
class DocumentChange:
    document_id: str
    #: The document before the transaction (None: it did not exist) and after (None: deleted).
    previous: Document | None
    result: Document | None
    #: The transaction's mutations that wrote this document, in order.
    mutations: list[Mutation]


@dataclass(frozen=True)
class Change:
    """One committed transaction."""

    seq: int
    transaction_id: str
    timestamp: str
    identity: str
    documents: list[DocumentChange]


class FeedClosed(Exception):
    """The subscription ended: the lake closed, or the subscriber fell too far behind."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _parse(seq: int, transaction_id: str, committed_at: str, raw: str) -> Change:
    log: dict[str, Any] = json.loads(raw)
    mutations: list[Mutation] = log["mutations"]
    documents = [
        DocumentChange(
            document_id=entry["id"],
            previous=entry["previous"],
            result=entry["result"],
            mutations=[mutations[i] for i in entry["mutations"] if 0 <= i < len(mutations)],
        )
        for entry in log["documents"]
    ]
    return Change(seq, transaction_id, committed_at, LAKE_IDENTITY, documents)


class Subscription:
    """Committed transactions after the moment of subscribing, in commit order."""

    def __init__(self, feed: ChangeFeed, loop: asyncio.AbstractEventLoop) -> None:
        self._feed = feed
        self._loop = loop
        self._queue: asyncio.Queue[Change | FeedClosed] = asyncio.Queue()
        self._closed = False

    def _offer(self, item: Change | FeedClosed) -> None:
        """Called on the subscriber's loop."""
        if self._closed:
            return
        if isinstance(item, Change) and self._queue.qsize() >= SUBSCRIBER_BACKLOG:
            item = FeedClosed("the listener fell too far behind")
        if isinstance(item, FeedClosed):
            self._feed.unsubscribe(self)
        self._queue.put_nowait(item)

    async def next(self) -> Change:
        """The next transaction; `FeedClosed` when the subscription ended."""
        item = await self._queue.get()
        if isinstance(item, FeedClosed):
            self._closed = True
            raise item
        return item

    def __aiter__(self) -> AsyncIterator[Change]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Change]:
        while True:
            try:
                yield await self.next()
            except FeedClosed:
                return

    def close(self) -> None:
        self._closed = True
        self._feed.unsubscribe(self)


class ChangeFeed:
    """One reader thread per lake handing committed transactions to subscribers."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        dataset: str,
        *,
        poll_s: float = DEFAULT_POLL_S,
        durable: bool = True,
    ) -> None:
        self.path = path
        self.dataset = dataset
        self.poll_s = poll_s
        self.durable = durable
        self._subscribers: set[Subscription] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._started = threading.Event()
        self._position = 0

    def subscribe(self) -> Subscription:
        """A subscription on the running loop to every transaction committed from now on."""
        subscription = Subscription(self, asyncio.get_running_loop())
        with self._lock:
            if self._closed:
                raise FeedClosed("the lake is closed")
            self._subscribers.add(subscription)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lake-feed", daemon=True)
                self._thread.start()
        return subscription

    async def ready(self) -> None:
        """Wait until the reader has its starting position (a subscriber sees every change
        committed after this returns)."""
        await asyncio.to_thread(self._started.wait, 10)

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)

    def wake(self) -> None:
        """This process committed: look now instead of at the next poll."""
        if self._thread is not None:
            self._wake.set()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            subscribers = list(self._subscribers)
            self._subscribers.clear()
        self._wake.set()
        for subscription in subscribers:
            _deliver(subscription, FeedClosed("the lake is closing"))

    def _run(self) -> None:
        db = LakeDatabase(self.path, self.dataset, durable=self.durable, create_schema=False)
        try:
            self._position = db.last_seq()
            self._started.set()
            version = _data_version(db)
            while not self._closed:
                woken = self._wake.wait(self.poll_s)
                self._wake.clear()
                if self._closed:
                    return
                current = _data_version(db)
                if not woken and current == version:
                    continue
                version = current
                self._read_new(db)
        except sqlite3.Error:
            # The file went away or broke: subscribers learn it and may reconnect.
            self.close()
        finally:
            self._started.set()
            db.close()

    def _read_new(self, db: LakeDatabase) -> None:
        while True:
            rows = db.changes_since(self._position)
            if not rows:
                return
            changes = [_parse(*row) for row in rows]
            self._position = rows[-1][0]
            with self._lock:
                subscribers = list(self._subscribers)
            for subscription in subscribers:
                for change in changes:
                    _deliver(subscription, change)


def _deliver(subscription: Subscription, item: Change | FeedClosed) -> None:
    try:
        subscription._loop.call_soon_threadsafe(subscription._offer, item)
    except RuntimeError:
        # Its event loop has closed: nobody will read it.
        subscription._closed = True


def _data_version(db: LakeDatabase) -> int:
    """Changes whenever another connection (this process's writer included) commits."""
    row = db.connection.execute("PRAGMA data_version").fetchone()
    return int(row[0])
