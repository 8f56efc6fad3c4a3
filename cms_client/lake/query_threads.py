"""Queries on their own threads, under a deadline, apart from the lake's writer.

A query can be arbitrarily slow (GROQ has nested subqueries), so it never runs on the
writer thread: each query gets a fresh daemon thread and a pooled read connection of its
own (WAL lets it read beside the writer), and a bounded number run at once. Mutations and
document reads keep their thread, so a slow query never holds them up.

At the deadline the awaiting coroutine answers `QueryTimeout` at once and cuts the query:
- `cut` is set, which the document source checks as it yields documents (the common case:
  a query is slow because it reads many documents, or reads them many times);
- the connection is interrupted (`sqlite3.Connection.interrupt`, made for this), which
  stops a long SQL statement;
- a `QueryCut` exception is raised asynchronously in the query's thread
  (`PyThreadState_SetAsyncExc`), which stops pure evaluation loops that touch no document,
  at the next bytecode; code in C (one big sort) finishes its call first.
A cut query's connection is never reused (it may be mid-statement); the thread closes it.

Why threads and not processes: results and the document cache stay in process, and a cut
thread ends within one C call. The async exception is why nothing on the query path may
hold a `threading.Lock` across Python code: `DocumentCache` is lock-free for that reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from cms_client.errors import QueryTimeout
from cms_client.lake.storage import LakeDatabase

T = TypeVar("T")

#: The default query deadline. Sanity's own limit is one minute; the lake cuts earlier, so a
#: runaway query cannot hold a thread for long.
DEFAULT_QUERY_DEADLINE_S = 30.0
#: Queries running at once; more wait their turn (their wait counts against the deadline).
DEFAULT_QUERY_THREADS = 4


class QueryCut(BaseException):
    """Raised inside a query's thread when its deadline passed. A `BaseException`, so the
    engine's own `except Exception` handlers never swallow it."""


class Budget:
    """What a running query checks: set once its deadline has passed or the lake closes."""

    __slots__ = ("cut",)

    def __init__(self) -> None:
        self.cut = False

    def check(self) -> None:
        if self.cut:
            raise QueryCut()


class _Job(Generic[T]):
    def __init__(
        self,
        work: Callable[[LakeDatabase, Budget], T],
        db: LakeDatabase,
        outcome: asyncio.Future[T],
    ) -> None:
        self.work = work
        self.db = db
        self.outcome = outcome
        self.budget = Budget()
        self.thread: threading.Thread | None = None
        self.finished = False


def _raise_in_thread(thread_id: int) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(QueryCut)
    )


class QueryThreads:
    """Runs read work (`work(db, budget)`) on per-query threads with pooled connections."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        dataset: str,
        *,
        deadline_s: float = DEFAULT_QUERY_DEADLINE_S,
        threads: int = DEFAULT_QUERY_THREADS,
        durable: bool = True,
    ) -> None:
        if deadline_s <= 0:
            raise ValueError("the query deadline must be positive")
        self.path = path
        self.dataset = dataset
        self.deadline_s = deadline_s
        self.durable = durable
        self._slots = threads
        self._slot_free: asyncio.Condition | None = None
        # Touched only from event-loop threads, never from a query thread (see module doc).
        self._pool: list[LakeDatabase] = []
        self._pool_lock = threading.Lock()
        self._running: set[_Job[object]] = set()
        self._closed = False

    def _connection(self) -> LakeDatabase:
        with self._pool_lock:
            if self._pool:
                return self._pool.pop()
        return LakeDatabase(
            self.path, self.dataset, durable=self.durable, shared=True, create_schema=False
        )

    def _give_back(self, db: LakeDatabase) -> None:
        with self._pool_lock:
            if not self._closed:
                self._pool.append(db)
                return
        db.close()

    async def run(self, work: Callable[[LakeDatabase, Budget], T], *, what: str) -> T:
        """Run `work` on a query thread; `QueryTimeout` naming `what` past the deadline."""
        if self._closed:
            raise QueryTimeout("the lake is closed")
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.deadline_s):
                await self._take_slot()
        except TimeoutError:
            raise self._timeout(what) from None
        try:
            remaining = self.deadline_s - (time.monotonic() - started)
            return await self._run_on_thread(work, what=what, remaining=remaining)
        finally:
            await self._free_slot()

    async def _take_slot(self) -> None:
        if self._slot_free is None:
            self._slot_free = asyncio.Condition()
        async with self._slot_free:
            await self._slot_free.wait_for(lambda: self._slots > 0)
            self._slots -= 1

    async def _free_slot(self) -> None:
        assert self._slot_free is not None
        async with self._slot_free:
            self._slots += 1
            self._slot_free.notify()

    async def _run_on_thread(
        self, work: Callable[[LakeDatabase, Budget], T], *, what: str, remaining: float
    ) -> T:
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[T] = loop.create_future()
        job = _Job(work, self._connection(), outcome)

        def deliver(result: T | None, error: BaseException | None) -> None:
            if outcome.done():
                return
            if error is not None:
                outcome.set_exception(error)
            else:
                outcome.set_result(result)  # type: ignore[arg-type]

        def body() -> None:
            try:
                if job.budget.cut:
                    return
                try:
                    result = job.work(job.db, job.budget)
                except QueryCut:
                    return
                except BaseException as exc:  # handed to the awaiting coroutine
                    job.finished = True
                    loop.call_soon_threadsafe(deliver, None, exc)
                    return
                job.finished = True
                loop.call_soon_threadsafe(deliver, result, None)
            except QueryCut:
                pass  # a cut that landed after the work ended: the awaiter has gone
            except RuntimeError:
                pass  # the event loop closed while the query ran
            finally:
                if job.budget.cut:
                    _close_quietly(job.db)

        self._running.add(job)  # type: ignore[arg-type]
        job.thread = threading.Thread(target=body, name="lake-query", daemon=True)
        job.thread.start()
        try:
            async with asyncio.timeout(max(remaining, 0.0)):
                result = await asyncio.shield(outcome)
        except TimeoutError:
            error = self._timeout(what)
            self._cut(job, error)  # type: ignore[arg-type]
            raise error from None
        except asyncio.CancelledError:
            self._cut(job, QueryTimeout("the query's caller went away"))  # type: ignore[arg-type]
            raise
        except BaseException:
            self._settle(job)  # type: ignore[arg-type]
            raise
        self._settle(job)  # type: ignore[arg-type]
        return result

    def _settle(self, job: _Job[object]) -> None:
        """The job ended by itself: its connection goes back (unless it was cut meanwhile)."""
        if job in self._running:
            self._running.discard(job)
            self._give_back(job.db)

    def _cut(self, job: _Job[object], error: QueryTimeout) -> None:
        if job not in self._running:
            return
        self._running.discard(job)
        if not job.outcome.done():
            job.outcome.set_exception(error)
        job.outcome.exception()  # retrieved: nobody else awaits it now
        if job.finished:
            # It ended as the deadline passed; its connection is idle and clean.
            self._give_back(job.db)
            return
        job.budget.cut = True
        job.db.connection.interrupt()
        thread = job.thread
        if thread is not None and thread.ident is not None and thread.is_alive():
            _raise_in_thread(thread.ident)

    def _timeout(self, what: str) -> QueryTimeout:
        description = (
            f"Query exceeded the lake's deadline of {self.deadline_s:g} s and was cut: {what}"
        )
        return QueryTimeout(
            description,
            body={"error": {"type": "queryTimeoutError", "description": description}},
        )

    def close(self) -> None:
        """Cut every running query and close the idle connections (no waiting)."""
        with self._pool_lock:
            self._closed = True
            idle, self._pool = self._pool, []
        for job in list(self._running):
            self._cut(job, QueryTimeout("the lake closed while the query ran"))
        for db in idle:
            db.close()


def _close_quietly(db: LakeDatabase) -> None:
    with contextlib.suppress(sqlite3.Error):
        db.close()
