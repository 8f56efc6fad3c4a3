"""Group commit: concurrent requests of one instance for the same products share a transaction.

Sanity takes about 25 mutation requests per second per IP, and every writer of a hot product
queues behind the one before it (`serialize_writers`), so in a flash sale the store's round
trips, not the buyers, set the pace. Instead, requests with the same key queue here and the
first one in line runs them all as one batch (flat combining): while a batch's transaction is
in flight, the requests that arrive queue up and leave together in the next one. An
uncontended request runs alone at once, so nothing waits on a timer.

The batch runs in its own task: if the request that happens to carry it is cancelled (a
client hung up), the others still get their answers. How a batch is planned (every member
its own answer; one member's failure leaves the others alone) is the caller's `run`.

A batch whose write lost a race to another instance plans again on a new read anyway, so
`run` may take along the requests that queued behind it meanwhile (`absorb`): when such an
instance finally commits, it answers its whole queue instead of one batch of it, and the
requests behind it do not each have to win a race of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from service.engine.unit_of_work.locks import KeyedLocks

M = TypeVar("M")
R = TypeVar("R")

#: Takes the requests queued behind a running batch into it; returns them (in order).
Absorb = Callable[[], list[M]]
#: Runs a batch: one outcome per member, in order (a result, or the exception to raise),
#: members taken in with `absorb` included, after the ones it was given.
RunBatch = Callable[[Sequence[M], Absorb[M]], Awaitable[Sequence[R | BaseException]]]
#: Awaited by the leader before it seals its batch (the key is the group's).
BeforeSeal = Callable[[str], Awaitable[object]]


@dataclass(eq=False)
class _Waiting(Generic[M, R]):
    member: M
    answer: asyncio.Future[R] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class CommitGroups(Generic[M, R]):
    def __init__(
        self, run: RunBatch[M, R], *, max_size: int, before_seal: BeforeSeal | None = None
    ) -> None:
        """`before_seal`: a wait the leader sits out before taking the queue as its batch
        (a paced store's next write slot): whoever arrives meanwhile rides along."""
        self._run = run
        self._before_seal = before_seal
        self._max_size = max_size
        self._queues: dict[str, list[_Waiting[M, R]]] = {}
        self._turns = KeyedLocks()
        #: Batches run and members answered, for figures and tests.
        self.batches = 0
        self.members = 0

    async def submit(self, key: str, member: M) -> R:
        """Queue `member` behind `key`; return its own outcome once its batch has run."""
        waiting: _Waiting[M, R] = _Waiting(member)
        # Marks an error as seen even when its request was cancelled and never asks.
        waiting.answer.add_done_callback(_retrieve)
        self._queues.setdefault(key, []).append(waiting)
        # Turns are granted in arrival order and everyone ahead either led a batch or was
        # answered by one, so whoever gets the turn unanswered is at the head of the queue
        # (or in a batch still in flight whose carrier was cancelled).
        async with self._turns.hold([key]):
            if not waiting.answer.done():
                # Requests started in the same event-loop pass join this batch.
                await asyncio.sleep(0)
                while waiting in self._queues.get(key, ()):
                    await self._lead(key)
        return await waiting.answer

    async def _lead(self, key: str) -> None:
        if self._before_seal is not None:
            await self._before_seal(key)
        queue = self._queues[key]
        batch, rest = queue[: self._max_size], queue[self._max_size :]
        if rest:
            self._queues[key] = rest
        else:
            del self._queues[key]
        task = asyncio.ensure_future(self._answer(key, batch))
        # Shielded: cancelling the carrier must not cancel the others' transaction.
        await asyncio.shield(task)

    async def _answer(self, key: str, batch: list[_Waiting[M, R]]) -> None:
        self.batches += 1

        def absorb() -> list[M]:
            queue = self._queues.get(key, [])
            room = max(0, self._max_size - len(batch))
            taken = queue[:room]
            if len(queue) > room:
                self._queues[key] = queue[room:]
            else:
                self._queues.pop(key, None)
            batch.extend(taken)
            return [waiting.member for waiting in taken]

        try:
            outcomes = await self._run([waiting.member for waiting in batch], absorb)
        except BaseException as exc:  # the whole batch failed: every member gets the error
            for waiting in batch:
                if not waiting.answer.done():
                    waiting.answer.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            self.members += len(batch)
        for waiting, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                waiting.answer.set_exception(outcome)
            else:
                waiting.answer.set_result(outcome)


def _retrieve(answer: asyncio.Future[Any]) -> None:
    if not answer.cancelled():
        answer.exception()
