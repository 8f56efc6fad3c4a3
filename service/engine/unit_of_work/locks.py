"""In-process locks per document, so one instance's writers of a hot product queue up
instead of failing each other's revision guards (every lost guard costs a read and a
write against Sanity's ~25 mutations/s).

Correctness never depends on these locks (other instances share no memory; the guards do
that work); they only save round trips. Keys are taken in sorted order, so two operations
locking overlapping sets can never wait on each other in a cycle.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, keys: Iterable[str]) -> AsyncIterator[None]:
        ordered = sorted(set(keys))
        for key in ordered:
            self._users[key] = self._users.get(key, 0) + 1
            self._locks.setdefault(key, asyncio.Lock())
        taken: list[asyncio.Lock] = []
        try:
            for key in ordered:
                lock = self._locks[key]
                await lock.acquire()
                taken.append(lock)
            yield
        finally:
            for lock in reversed(taken):
                lock.release()
            for key in ordered:
                self._users[key] -= 1
                if self._users[key] == 0:
                    # Nobody holds or waits for it: forget it, so the table stays small.
                    del self._users[key]
                    del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)
