"""The one executor: read fresh -> plan -> one guarded transaction -> retry on conflict.

Every stock change of every path (API, webhooks, cron, CLI) runs through `Executor.run`.
An operation supplies a `step`: it reads what it needs through an `Attempt` (doc endpoint,
all versions, every document remembered for the guards) and returns the pure planner's
`Plan`. The executor sends the plan's mutations as one transaction. When the store refuses
the transaction (a revision moved, a fixed id now exists, a draft vanished), nothing was
written: the executor waits a jittered, growing delay and runs the step again on a fresh
read, a bounded number of times.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from random import Random
from typing import TypeVar

from cms_client.clock import Clock
from cms_client.errors import MutationError
from cms_client.store import DocumentStore, MutationResult
from service.engine.errors import ConflictRetriesExhausted
from service.engine.locks import KeyedLocks
from service.engine.plan import Plan
from service.engine.resolver import ProductResolver, names_product
from service.engine.settings import EngineSettings
from service.engine.snapshot import Snapshot

R = TypeVar("R")

Sleep = Callable[[float], Awaitable[object]]

#: Prefix of the store transaction ids (and so of `_rev`s) the engine writes.
SERVICE_TRANSACTION_PREFIX = "stocksync-"


def new_token() -> str:
    return SERVICE_TRANSACTION_PREFIX + uuid.uuid4().hex


class Attempt:
    """One pass of an operation: its time, its transaction token, and what it read."""

    def __init__(
        self,
        store: DocumentStore,
        resolver: ProductResolver,
        *,
        now: datetime,
        token: str,
        preload: Sequence[str] = (),
    ) -> None:
        self.store = store
        self.resolver = resolver
        self.now = now
        self.token = token
        self.snapshot = Snapshot()
        self._preload = list(preload)

    async def read(self, ids: Iterable[str]) -> None:
        """Read documents (and their drafts and versions) fresh; each id at most once."""
        wanted = [
            doc_id
            for doc_id in dict.fromkeys([*self._preload, *ids])
            if not self.snapshot.has_read(doc_id)
        ]
        self._preload = []
        if not wanted:
            return
        docs = await self.store.get_documents(wanted, include_all_versions=True)
        self.snapshot.absorb(wanted, docs)

    async def read_products(
        self, refs: Iterable[str], *, also: Iterable[str] = ()
    ) -> dict[str, str | None]:
        """Read the products `refs` name, with `also`, in one request when names are cached.

        Returns name -> product `_id` (None: no such product). A cached name whose document
        no longer carries it is resolved again (one query) and read again.
        """
        names = list(dict.fromkeys(refs))
        resolved: dict[str, str | None] = {ref: self.resolver.cached(ref) for ref in names}
        cold = [ref for ref in names if resolved[ref] is None]
        if cold:
            resolved.update(await self.resolver.lookup(cold))
        await self.read([*also, *(pid for pid in resolved.values() if pid)])
        stale = [
            ref
            for ref in names
            if resolved[ref] is not None
            and not names_product(ref, self.snapshot.get(resolved[ref] or ""))
        ]
        if stale:
            self.resolver.forget(stale)
            fresh = await self.resolver.lookup(stale)
            await self.read(fresh.values())
            for ref in stale:
                product_id = fresh.get(ref)
                ok = product_id is not None and names_product(ref, self.snapshot.get(product_id))
                resolved[ref] = product_id if ok else None
                if not ok:
                    self.resolver.forget([ref])
        return resolved


Step = Callable[[Attempt], Awaitable[Plan[R]]]


class Executor:
    def __init__(
        self,
        store: DocumentStore,
        *,
        clock: Clock,
        settings: EngineSettings,
        sleep: Sleep,
        rng: Random,
        resolver: ProductResolver,
        token_factory: Callable[[], str] = new_token,
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.sleep = sleep
        self.rng = rng
        self.resolver = resolver
        self.token_factory = token_factory
        self.locks = KeyedLocks()
        #: Conflicts met, for figures and tests.
        self.conflicts = 0

    async def run(
        self,
        operation: str,
        step: Step[R],
        *,
        after_write: Callable[[Plan[R], MutationResult], None] | None = None,
        lock: Iterable[str] = (),
    ) -> R:
        """Run `step` until its plan commits or needs no write; raise its domain error.

        `lock` names the documents the operation will most likely write (product ids or
        names, the reservation id): this instance's other operations on them wait their
        turn (`settings.serialize_writers`). A refused transaction whose plan had a marker
        (a ledger entry only that attempt creates) is checked on the next read: with a
        store that retried a lost response, the first try may have committed after all,
        and its outcome is then the answer.
        """
        async with self.locks.hold(lock if self.settings.serialize_writers else ()):
            return await self._run(operation, step, after_write)

    async def _run(
        self,
        operation: str,
        step: Step[R],
        after_write: Callable[[Plan[R], MutationResult], None] | None,
    ) -> R:
        unconfirmed: dict[str, Plan[R]] = {}
        for attempt_no in range(1, self.settings.max_attempts + 1):
            attempt = Attempt(
                self.store,
                self.resolver,
                now=self.clock(),
                token=self.token_factory(),
                preload=list(unconfirmed),
            )
            plan = await step(attempt)
            for marker, earlier in unconfirmed.items():
                if attempt.snapshot.get(marker) is not None:
                    return earlier.outcome()
            if plan.writes:
                try:
                    result = await self.store.mutate(
                        plan.mutations(),
                        transaction_id=plan.token,
                        idempotent=plan.idempotent,
                    )
                except MutationError:
                    self.conflicts += 1
                    if plan.marker_id is not None:
                        unconfirmed[plan.marker_id] = plan
                    if attempt_no < self.settings.max_attempts:
                        await self.sleep(self._delay(attempt_no))
                    continue
                if after_write is not None:
                    after_write(plan, result)
            return plan.outcome()
        raise ConflictRetriesExhausted(operation, self.settings.max_attempts)

    def _delay(self, attempt_no: int) -> float:
        """Full jitter: uniform in [0, base * 2^(n-1)], capped."""
        ceiling = min(self.settings.backoff_max, self.settings.backoff_base * 2 ** (attempt_no - 1))
        return self.rng.uniform(0, ceiling)
