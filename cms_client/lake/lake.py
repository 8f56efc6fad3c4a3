"""`Lake`: the embedded, Sanity-compatible document store over one SQLite file.

Mutations and document reads run on one writer thread that owns the lake's main connection,
so coroutines never wait on disk or on another process's write lock inside the event loop,
and writes of one `Lake` apply one at a time in call order. Synchronous code (a script, a
CLI command, a worker thread) calls `get_documents_sync` / `mutate_sync` instead: they take
the same connection's lock on the calling thread, between the writer thread's jobs, and
skip the two thread switches an awaited call costs; they refuse to run on an event loop's
thread, whose other coroutines an fsync would stall. Queries run apart, each on its
own thread and read connection under a deadline (`query_threads.py`), so a slow query never
holds up a write or a read by id. Several processes (or several `Lake`s) on one file are
kept apart by SQLite's locks (see `storage.py`). The lake is always consistent: a query sees
every committed transaction, so `visibility` changes nothing here.

`Lake(None)` is a private scratch lake: a temporary file (no fsyncs) deleted on close, so
its queries can run beside its writes like a real file's.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from cms_client import groq
from cms_client.clock import Clock, utc_now
from cms_client.errors import BadRequest, StoreUnavailable
from cms_client.ids import id_problem, is_published, published_id
from cms_client.lake.feed import ChangeFeed, Subscription
from cms_client.lake.query_threads import (
    DEFAULT_QUERY_DEADLINE_S,
    DEFAULT_QUERY_THREADS,
    Budget,
    QueryThreads,
)
from cms_client.lake.sources import DocumentCache, StoredDocuments, check_perspective
from cms_client.lake.storage import READ_BATCH, LakeDatabase, dumps
from cms_client.lake.transactions import (
    TransactionRequest,
    run_transaction,
    run_transactions,
)
from cms_client.lake.writer import WriterThread
from cms_client.store import Document, Mutation, MutationResult, Perspective, Visibility

T = TypeVar("T")


class Lake:
    """A Content Lake dataset in a SQLite file (`path=None`: private, in memory)."""

    kind = "lake"

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        clock: Clock = utc_now,
        dataset: str = "production",
        query_deadline_s: float = DEFAULT_QUERY_DEADLINE_S,
        query_threads: int = DEFAULT_QUERY_THREADS,
    ) -> None:
        self.path = path
        self.dataset = dataset
        self._clock = clock
        self._cache = DocumentCache()
        self._db: LakeDatabase | None = None
        self._closed = False
        # Held by whoever uses the main connection: the writer thread, job by job, or a
        # synchronous caller on its own thread.
        self._write_lock = threading.Lock()
        self._writer: WriterThread[MutationResult] = WriterThread(
            self._commit, work_lock=self._write_lock
        )
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        if path is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="lake-")
            self._file: str | os.PathLike[str] = Path(self._scratch.name) / "lake.sqlite3"
        else:
            self._file = path
        self._durable = path is not None
        self._queries = QueryThreads(
            self._file,
            dataset,
            deadline_s=query_deadline_s,
            threads=query_threads,
            durable=self._durable,
        )
        self._schema_ready = False
        # The calling thread's read connection for reads by id (`_read_inline`).
        self._inline: LakeDatabase | None = None
        self._inline_lock = threading.Lock()
        self._feed = ChangeFeed(self._file, dataset, durable=self._durable)

    # Plumbing ---------------------------------------------------------------------------

    def _database(self) -> LakeDatabase:
        """The main connection, opened on first use; only used holding `_write_lock`."""
        if self._db is None:
            self._db = LakeDatabase(self._file, self.dataset, durable=self._durable, shared=True)
            self._schema_ready = True  # the other connections may open now
        return self._db

    async def _run(self, work: Callable[[LakeDatabase], T]) -> T:
        if self._closed:
            raise StoreUnavailable("the lake is closed")
        try:
            return await self._writer.run(lambda: work(self._database()))
        except sqlite3.Error as exc:
            # A lock held past the busy timeout, a full disk, a damaged file: the store is
            # unavailable, as a 5xx from Sanity would say.
            raise StoreUnavailable(f"lake database error: {exc}") from exc

    async def aclose(self) -> None:
        """Close the lake; running queries are cut (they answer `QueryTimeout`) at once."""
        if self._closed:
            return
        self._closed = True
        self._feed.close()
        self._queries.close()
        await self._writer.run(self._close_database)
        self._writer.stop()
        if self._scratch is not None:
            self._scratch.cleanup()

    def close(self) -> None:
        """`aclose` for synchronous code: runs the writes already queued, then closes."""
        _refuse_on_event_loop("close")
        if self._closed:
            return
        self._closed = True
        self._feed.close()
        self._queries.close()
        self._writer.stop()
        self._writer.join()
        with self._write_lock:
            self._close_database()
        if self._scratch is not None:
            self._scratch.cleanup()

    def _close_database(self) -> None:
        with self._inline_lock:
            if self._inline is not None:
                self._inline.close()
                self._inline = None
        if self._db is not None:
            self._db.close()
            self._db = None

    async def __aenter__(self) -> Lake:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # DocumentStore ----------------------------------------------------------------------

    async def get_documents(
        self, ids: Sequence[str], *, include_all_versions: bool = False
    ) -> list[Document | None]:
        wanted = _checked_ids(ids)
        if not include_all_versions and len(wanted) <= READ_BATCH and self._schema_ready:
            found = self._read_inline(wanted)
            if found is not None:
                return found
        return await self._run(
            functools.partial(_read_documents, ids=wanted, all_versions=include_all_versions)
        )

    def _read_inline(self, ids: list[str]) -> list[Document | None] | None:
        """A read by id on the calling thread, or None to take the writer thread instead.

        In WAL a single SELECT reads the last committed state without waiting for the
        writer, so the common read (a few ids, the guarded patch's first half) skips two
        thread switches. It never waits: the connection's busy timeout is zero, and a busy
        file, a second thread using the lake at the same moment, or a closed lake all fall
        back to the writer thread, where waiting is harmless.
        """
        if self._closed or not self._inline_lock.acquire(blocking=False):
            return None
        try:
            if self._inline is None:
                self._inline = LakeDatabase(
                    self._file,
                    self.dataset,
                    durable=self._durable,
                    shared=True,
                    create_schema=False,
                    busy_timeout_s=0,
                )
            return _read_documents(self._inline, ids=ids, all_versions=False)
        except sqlite3.OperationalError:
            return None
        finally:
            self._inline_lock.release()

    async def query(
        self,
        groq: str,
        params: Mapping[str, Any] | None = None,
        *,
        perspective: Perspective = "published",
    ) -> Any:
        check_perspective(perspective)
        if not self._schema_ready:
            # Query connections trust the schema; the writer's connection creates it.
            await self._run(lambda db: None)
            self._schema_ready = True
        if self._closed:
            raise StoreUnavailable("the lake is closed")
        try:
            return await self._queries.run(
                functools.partial(
                    self._query, text=groq, params=dict(params or {}), perspective=perspective
                ),
                what=groq[:200],
            )
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"lake database error: {exc}") from exc

    def _query(
        self,
        db: LakeDatabase,
        budget: Budget,
        *,
        text: str,
        params: dict[str, Any],
        perspective: str,
    ) -> Any:
        parsed = groq.parse(text)
        with db.snapshot():
            source = StoredDocuments(db, self._cache, perspective, budget)
            result = groq.evaluate(parsed, source, params, now=self._clock())
        # The result may hold cached documents; the caller gets its own copy.
        return json.loads(dumps(result))

    async def mutate(
        self,
        mutations: Sequence[Mutation],
        *,
        transaction_id: str | None = None,
        return_documents: bool = True,
        visibility: Visibility = "sync",
        dry_run: bool = False,
        idempotent: bool = False,
    ) -> MutationResult:
        batch = list(mutations)
        if dry_run:
            return await self._run(self._dry_run(batch, transaction_id, return_documents))
        if self._closed:
            raise StoreUnavailable("the lake is closed")
        request = TransactionRequest(batch, self._clock(), transaction_id, return_documents)
        try:
            result = await self._writer.run_batched(request)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"lake database error: {exc}") from exc
        self._feed.wake()
        return result

    # Synchronous callers ------------------------------------------------------------------

    def get_documents_sync(
        self, ids: Sequence[str], *, include_all_versions: bool = False
    ) -> list[Document | None]:
        """`get_documents` for synchronous code, on the calling thread (see the module)."""
        _refuse_on_event_loop("get_documents_sync")
        wanted = _checked_ids(ids)
        if not include_all_versions and len(wanted) <= READ_BATCH and self._schema_ready:
            found = self._read_inline(wanted)
            if found is not None:
                return found
        return self._run_here(
            functools.partial(_read_documents, ids=wanted, all_versions=include_all_versions)
        )

    def mutate_sync(
        self,
        mutations: Sequence[Mutation],
        *,
        transaction_id: str | None = None,
        return_documents: bool = True,
        dry_run: bool = False,
    ) -> MutationResult:
        """`mutate` for synchronous code: the transaction runs and commits (fsync included)
        on the calling thread, holding the main connection's lock; it waits for a batch the
        writer thread is committing, and goes before writes still queued for it."""
        _refuse_on_event_loop("mutate_sync")
        batch = list(mutations)
        if dry_run:
            return self._run_here(self._dry_run(batch, transaction_id, return_documents))
        request = TransactionRequest(batch, self._clock(), transaction_id, return_documents)
        (outcome,) = self._run_here(lambda db: self._commit([request]))
        self._feed.wake()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def _dry_run(
        self, batch: list[Mutation], transaction_id: str | None, return_documents: bool
    ) -> Callable[[LakeDatabase], MutationResult]:
        """A transaction to run and roll back (`dryRun`), on whichever thread runs it."""
        return lambda db: run_transaction(
            db,
            self._cache,
            batch,
            now=self._clock(),
            transaction_id=transaction_id,
            return_documents=return_documents,
            dry_run=True,
        )

    def _run_here(self, work: Callable[[LakeDatabase], T]) -> T:
        """`work` on the calling thread with the main connection."""
        try:
            with self._write_lock:
                if self._closed:
                    raise StoreUnavailable("the lake is closed")
                return work(self._database())
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"lake database error: {exc}") from exc

    def _commit(self, requests: Sequence[TransactionRequest]) -> list[MutationResult | Exception]:
        """On the writer thread: the mutate calls queued together, in one commit."""
        return run_transactions(self._database(), self._cache, requests)

    async def export_pages(self, page_size: int = 1000) -> AsyncIterator[list[str]]:
        """Every document of the dataset (drafts and versions too) as its JSON text, by id,
        a page at a time; each page is read on a query thread, so a long export never holds
        up writes. Pages follow ids, so a document written mid-export appears once, as of
        when its page was read."""
        if not self._schema_ready:
            await self._run(lambda db: None)
            self._schema_ready = True
        after = ""
        while True:
            page = await self._queries.run(
                functools.partial(_export_page, after=after, size=page_size), what="export"
            )
            if not page:
                return
            yield [body for _id, body in page]
            after = page[-1][0]

    # Changes ----------------------------------------------------------------------------

    def end_subscriptions(self) -> None:
        """End every subscription (a server stopping); new ones are refused from now on."""
        self._feed.close()

    async def subscribe(self) -> Subscription:
        """Every transaction committed to this dataset from now on, by this process or any
        other on the same file, in commit order (`feed.py`). One reader serves all
        subscriptions of a `Lake`; close the subscription when done."""
        if self._closed:
            raise StoreUnavailable("the lake is closed")
        if not self._schema_ready:
            await self._run(lambda db: None)
            self._schema_ready = True
        subscription = self._feed.subscribe()
        await self._feed.ready()
        return subscription


def _checked_ids(ids: Sequence[str]) -> list[str]:
    # Refused up front, as the HTTP client must (ids are URL path segments), so both
    # stores answer a malformed id the same way.
    for doc_id in ids:
        problem = id_problem(doc_id)
        if problem is not None:
            raise BadRequest(f"{doc_id!r}: {problem}")
    return list(ids)


def _refuse_on_event_loop(name: str) -> None:
    if asyncio._get_running_loop() is not None:
        raise RuntimeError(
            f"Lake.{name} blocks on disk; on an event loop's thread await the async method"
        )


def _read_documents(
    db: LakeDatabase, *, ids: list[str], all_versions: bool
) -> list[Document | None]:
    wanted = [doc_id for doc_id in ids if isinstance(doc_id, str)]
    if not all_versions and len(wanted) <= READ_BATCH:
        # One statement reads one committed state already; no transaction to open and end.
        found = db.bodies(wanted)
        return [json.loads(found[i][1]) if i in found else None for i in ids]
    with db.snapshot():
        found = db.bodies(wanted)
        extra: list[str] = []
        if all_versions:
            requested = set(ids)
            families = {published_id(doc_id) for doc_id in ids if id_problem(doc_id) is None}
            extra = [
                doc_id
                for doc_id in db.variant_ids(families)
                if doc_id not in requested and not is_published(doc_id)
            ]
            found.update(db.bodies(extra))
    documents: list[Document | None] = []
    for doc_id in [*ids, *extra]:
        row = found.get(doc_id)
        documents.append(json.loads(row[1]) if row else None)
    return documents


def _export_page(
    db: LakeDatabase, budget: Budget, *, after: str, size: int
) -> list[tuple[str, str]]:
    return db.page_after(after, size)
