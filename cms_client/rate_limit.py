"""Pacing of mutate requests: at most N per sliding window (Sanity: about 25/s per IP).

The limiter hands out send times instead of holding a lock across an `await`: reserving a
slot is a short synchronous step (under a thread lock), then the caller sleeps until its
slot. Nothing in it is bound to an event loop, so one instance can pace every `SanityClient`
of a process, whichever loop or thread each one runs on (`process_mutation_limiter`).

A caller cancelled while waiting gives its slot up to nobody; the limiter then errs on the
slow side, never the fast one.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]
Monotonic = Callable[[], float]


class MutationRateLimiter:
    """No more than `rate * window` requests start within any `window` seconds."""

    def __init__(
        self,
        rate: float,
        *,
        window: float = 1.0,
        clock: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or window <= 0:
            raise ValueError("rate and window must be positive")
        self.rate = rate
        self.window = window
        self._capacity = max(1, int(rate * window))
        self._clock = clock
        self._sleep = sleep
        #: Start times handed out for the last `capacity` requests, oldest first.
        self._slots: deque[float] = deque(maxlen=self._capacity)
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Book the next free start time; return how many seconds to wait for it."""
        with self._lock:
            now = self._clock()
            slot = now
            if len(self._slots) == self._capacity:
                slot = max(now, self._slots[0] + self.window)
            self._slots.append(slot)
            return slot - now

    def expected_wait(self) -> float:
        """Seconds the next `reserve` would wait if made now, without booking anything.

        Lets a caller sleep out the pacing before it reads, so its write follows its read
        at once instead of waiting between them on a plan that is aging.
        """
        with self._lock:
            if len(self._slots) < self._capacity:
                return 0.0
            return max(0.0, self._slots[0] + self.window - self._clock())

    async def acquire(self) -> None:
        """Wait until this request may be sent."""
        wait = self.reserve()
        if wait > 0:
            await self._sleep(wait)


_process_limiters: dict[float, MutationRateLimiter] = {}
_process_lock = threading.Lock()


def process_mutation_limiter(rate: float) -> MutationRateLimiter:
    """The limiter shared by every client of this process that paces at `rate` per second.

    Sanity counts mutate requests per IP, so one process must not multiply the budget by
    opening several clients. Clients configured with different rates get different limiters.
    """
    with _process_lock:
        limiter = _process_limiters.get(rate)
        if limiter is None:
            limiter = _process_limiters[rate] = MutationRateLimiter(rate)
        return limiter
