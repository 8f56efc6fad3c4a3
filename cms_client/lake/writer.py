"""The lake's writer thread: one thread, one connection, jobs in call order.

A hand-rolled hop instead of `run_in_executor` on a `ThreadPoolExecutor`: a guarded patch
crosses threads twice (read, then write), and the executor's futures, locks and chained
callbacks cost a measurable part of a write that SQLite finishes in a fraction of a
millisecond (`bench.lake_throughput`). Here a job is a queue put one way and one
`call_soon_threadsafe` back.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_Job = tuple[Callable[[], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return  # its caller was cancelled; the work itself still ran
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class WriterThread:
    def __init__(self, name: str = "lake") -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._name = name
        self._lock = threading.Lock()

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            work, loop, future = job
            try:
                result = work()
            except BaseException as exc:  # handed to the awaiting coroutine
                outcome: tuple[Any, BaseException | None] = (None, exc)
            else:
                outcome = (result, None)
            # RuntimeError: the caller's event loop has closed; nobody waits any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, *outcome)

    async def run(self, work: Callable[[], T]) -> T:
        """Run `work` on the writer thread, after every job submitted before it."""
        with self._lock:
            if self._thread is None:
                # A daemon: a process that exits without closing its lake is not held up;
                # SQLite rolls back a transaction cut short, so nothing half-written stays.
                self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
                self._thread.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((work, loop, future))
        return await future

    def stop(self) -> None:
        """End the thread after the jobs already submitted."""
        self._jobs.put(None)
