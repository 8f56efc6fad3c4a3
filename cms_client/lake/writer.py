"""The lake's writer thread: one thread, one connection, jobs in call order, group commit.

A hand-rolled hop instead of `run_in_executor` on a `ThreadPoolExecutor`: a guarded patch
crosses threads twice (read, then write), and the executor's futures, locks and chained
callbacks cost a measurable part of a write that SQLite finishes in a fraction of a
millisecond (`bench.lake_throughput`). Here a job is a queue put one way and one
`call_soon_threadsafe` back.

Mutations queued behind one another are handed to the batch handler together (up to
`MAX_BATCH`), which commits them with one SQLite commit: one fsync for all, each answered
only after it. Order is kept: a batch only ever takes jobs in the order they were queued.

Every job runs holding `work_lock`, the lock on the connection it works on, so synchronous
callers (`Lake.mutate_sync`) can take that connection on their own thread between jobs
instead of paying for two thread switches.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: The most transactions one commit carries.
MAX_BATCH = 64

_STOP = object()


class _Job:
    __slots__ = ("batched", "future", "loop", "payload")

    def __init__(
        self,
        payload: Any,
        loop: asyncio.AbstractEventLoop,
        future: asyncio.Future[Any],
        *,
        batched: bool,
    ) -> None:
        self.payload = payload
        self.loop = loop
        self.future = future
        self.batched = batched


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return  # its caller was cancelled; the work itself still ran
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _settle_all(answers: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, error in answers:
        _settle(future, result, error)


def _deliver(job: _Job, result: Any, error: BaseException | None) -> None:
    # RuntimeError: the caller's event loop has closed; nobody waits any more.
    with contextlib.suppress(RuntimeError):
        job.loop.call_soon_threadsafe(_settle, job.future, result, error)


def _deliver_batch(jobs: Sequence[_Job], outcomes: Sequence[Any]) -> None:
    """One wake-up per event loop for a whole batch: each `call_soon_threadsafe` writes to
    the loop's self-pipe and costs the loop a turn, which 16 writers would pay 16 times."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
    for job, outcome in zip(jobs, outcomes, strict=True):
        failed = isinstance(outcome, BaseException)
        answer = (job.future, None if failed else outcome, outcome if failed else None)
        by_loop.setdefault(job.loop, []).append(answer)
    for loop, answers in by_loop.items():
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle_all, answers)


class WriterThread(Generic[R]):
    """`run(work)` runs `work()` on the thread; `run_batched(item)` hands `item` to
    `batch(items) -> outcomes` together with the items queued right behind it (an outcome
    that is an exception is raised to that item's caller)."""

    def __init__(
        self,
        batch: Callable[[Sequence[Any]], Sequence[R | Exception]],
        name: str = "lake",
        *,
        work_lock: threading.Lock | None = None,
    ) -> None:
        self._batch = batch
        self._work_lock = work_lock if work_lock is not None else threading.Lock()
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._name = name
        self._lock = threading.Lock()

    def _serve(self) -> None:
        held: Any = None
        while True:
            job = held if held is not None else self._jobs.get()
            held = None
            if job is _STOP:
                return
            assert isinstance(job, _Job)
            if not job.batched:
                try:
                    with self._work_lock:
                        result = job.payload()
                except BaseException as exc:  # handed to the awaiting coroutine
                    _deliver(job, None, exc)
                else:
                    _deliver(job, result, None)
                continue
            batch = [job]
            while len(batch) < MAX_BATCH:
                try:
                    following = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if isinstance(following, _Job) and following.batched:
                    batch.append(following)
                else:
                    held = following  # runs next, after this batch: order is kept
                    break
            try:
                with self._work_lock:
                    outcomes: list[Any] = list(self._batch([item.payload for item in batch]))
            except BaseException as exc:
                outcomes = [exc] * len(batch)
            _deliver_batch(batch, outcomes)

    def _submit(self, job_payload: Any, *, batched: bool) -> asyncio.Future[Any]:
        with self._lock:
            if self._thread is None:
                # A daemon: a process that exits without closing its lake is not held up;
                # SQLite rolls back a transaction cut short, so nothing half-written stays.
                self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
                self._thread.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._jobs.put(_Job(job_payload, loop, future, batched=batched))
        return future

    async def run(self, work: Callable[[], T]) -> T:
        """Run `work` on the writer thread, after every job submitted before it."""
        result: T = await self._submit(work, batched=False)
        return result

    async def run_batched(self, item: Any) -> R:
        result: R = await self._submit(item, batched=True)
        return result

    def stop(self) -> None:
        """End the thread after the jobs already submitted."""
        self._jobs.put(_STOP)

    def join(self) -> None:
        """Wait for the thread to end (after `stop`)."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join()
