"""A clock the test moves by hand, so no test ever waits for real time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta


class ManualClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0, **kwargs: float) -> datetime:
        self.now += timedelta(seconds=seconds, **kwargs)
        return self.now


class ManualSleep:
    """An injected `sleep` that returns only when the test says so (`wake`), so a timer of
    15 s is tested without waiting 15 s. `asked` records every duration requested."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self._waiters: list[tuple[float, asyncio.Future[None]]] = []
        self._asked = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (seconds, waiter)
        self._waiters.append(entry)
        self._asked.set()
        try:
            await waiter
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    @property
    def pending(self) -> list[float]:
        return [seconds for seconds, waiter in self._waiters if not waiter.done()]

    async def until_pending(self) -> list[float]:
        """Wait until some sleep is pending (the code under test is waiting on a timer)."""
        while not self.pending:
            self._asked.clear()
            await self._asked.wait()
        return self.pending

    def wake(self, up_to: float) -> int:
        """End every pending sleep of at most `up_to` seconds; how many ended."""
        woken = 0
        for seconds, waiter in list(self._waiters):
            if seconds <= up_to and not waiter.done():
                waiter.set_result(None)
                woken += 1
        return woken
