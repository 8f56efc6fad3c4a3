"""The one executor: read fresh -> plan -> one guarded transaction -> retry on conflict.

Every stock change of every path (API, webhooks, cron, CLI) runs through `Executor.run`.
An operation supplies a `step`: it reads what it needs through an `Attempt` (doc endpoint,
all versions, every document remembered for the guards) and returns the pure planner's
`Plan`. The executor sends the plan's mutations as one transaction. When the store refuses
the transaction (a revision moved, a fixed id now exists, a draft vanished), nothing was
written: the executor waits a jittered, growing delay and runs the step again on a fresh
read, a bounded number of times.

Between instances racing for one document, a group-commit batch's contended write sends the
read its retry would need alongside it and retries on it without a wait, and a reserve batch
waits out one write round trip after this instance's last commit of its products, so the
race stays fair (`service.engine.unit_of_work.contention`).

Warm attempts (`run(..., warm=True)` with `settings.warm_cache`): the first attempt may plan
on documents this instance's own last write returned instead of reading them (see
`service.engine.unit_of_work.warm_cache` for why that is safe and where drafts bound it). Its
decision counts only if its guarded transaction commits: a warm plan that refuses, replays, writes
nothing, leaves an id it assumed missing uncreated, or moves stock on hand is dropped unsent
and planned again on a fresh read.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from random import Random
from typing import TypeVar

from cms_client.clock import Clock
from cms_client.errors import MutationError, RateLimited, StoreError, StoreUnavailable
from cms_client.ids import is_published
from cms_client.store import Document, DocumentStore, MutationResult
from service.engine.errors import ConflictRetriesExhausted, InventoryError, OutcomeUnknown
from service.engine.model.locations import location_refs
from service.engine.model.plan import Plan
from service.engine.model.snapshot import Snapshot
from service.engine.settings import EngineSettings
from service.engine.unit_of_work.contention import Contention
from service.engine.unit_of_work.locks import KeyedLocks
from service.engine.unit_of_work.pacing import SLOTS_TO_SPREAD_RETRIES, MutationPacing
from service.engine.unit_of_work.resolver import ProductResolver, names_product
from service.engine.unit_of_work.warm_cache import WarmCache

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
        cache: WarmCache | None = None,
        warm: bool = False,
        clock: Clock | None = None,
        prefetched: Prefetched | None = None,
    ) -> None:
        """`prefetched`: documents read fresh for this attempt before it began (sent
        alongside the previous attempt's refused write); ids the plan only creates are then
        taken as missing without a read, as a warm attempt takes them."""
        self.store = store
        self.resolver = resolver
        self.now = now
        self.token = token
        self.snapshot = Snapshot()
        self._preload = list(preload)
        self._cache = cache
        self._warm = warm and cache is not None
        self._clock = clock
        #: Ids planned on from the warm cache instead of a read.
        self.warm_ids: set[str] = set()
        #: Ids taken as missing without a read (the plan must `create` them).
        self.assumed_missing: set[str] = set()
        #: When the drafts and versions of each document read were last seen.
        self.family_read_at: dict[str, datetime] = {}
        self._assume_creates = prefetched is not None
        if prefetched is not None:
            self.snapshot.absorb(prefetched.ids, prefetched.docs)
            for doc_id in prefetched.ids:
                self.family_read_at[doc_id] = prefetched.read_at

    @property
    def fresh(self) -> bool:
        """Whether every decision of this attempt rests on documents read from the store."""
        return not self.warm_ids and not self.assumed_missing

    async def read(self, ids: Iterable[str], *, creates: Iterable[str] = ()) -> None:
        """Read documents (and their drafts and versions) fresh; each id at most once.

        `creates` are ids the plan needs only to know missing because it will `create`
        them: a warm attempt may take them as missing without a read (the `create` fails if
        one exists, and the executor then plans again on a fresh read).
        """
        wanted = [
            doc_id
            for doc_id in dict.fromkeys([*self._preload, *ids])
            if not self.snapshot.has_read(doc_id)
        ]
        new_ids = [
            doc_id
            for doc_id in dict.fromkeys(creates)
            if not self.snapshot.has_read(doc_id) and doc_id not in wanted
        ]
        self._preload = []
        if self._assume_creates and not wanted:
            self.assumed_missing.update(new_ids)
            self.snapshot.read_ids.update(new_ids)
            return
        if self._warm and self._cache is not None:
            served = self._cache.serve(wanted, self.now)
            if served is not None:
                for doc_id, entry in served.items():
                    self.snapshot.absorb([doc_id], [entry.doc])
                    self.family_read_at[doc_id] = entry.family_read_at
                self.warm_ids.update(served)
                self.assumed_missing.update(new_ids)
                self.snapshot.read_ids.update(new_ids)
                await self._read_locations(entry.doc for entry in served.values())
                return
        wanted += new_ids
        if not wanted:
            return
        # The family is known as of the moment the read was sent (a copy created while it
        # was in flight may be missing from the answer).
        read_at = self._clock() if self._clock is not None else self.now
        docs = await self.store.get_documents(wanted, include_all_versions=True)
        self.snapshot.absorb(wanted, docs)
        for doc_id in wanted:
            self.family_read_at[doc_id] = read_at
        if self._cache is not None:
            self._cache.learn_read(wanted, docs, read_at)
        await self._read_locations(docs)

    async def _read_locations(self, docs: Iterable[Document | None]) -> None:
        """Products stocked by location are planned with their locations (priority,
        active) read fresh too: one more read, only for such products."""
        refs = [ref for doc in docs for ref in location_refs(doc)]
        missing = [ref for ref in dict.fromkeys(refs) if not self.snapshot.has_read(ref)]
        if missing:
            await self.read(missing)

    async def read_products(
        self, refs: Iterable[str], *, also: Iterable[str] = (), creates: Iterable[str] = ()
    ) -> dict[str, str | None]:
        """Read the products `refs` name, with `also` (and `creates`, see `read`), in one
        request when names are cached.

        Returns name -> product `_id` (None: no such product). A cached name whose document
        no longer carries it is resolved again (one query) and read again.
        """
        names = list(dict.fromkeys(refs))
        resolved: dict[str, str | None] = {ref: self.resolver.cached(ref) for ref in names}
        cold = [ref for ref in names if resolved[ref] is None]
        if cold:
            resolved.update(await self.resolver.lookup(cold))
        await self.read([*also, *(pid for pid in resolved.values() if pid)], creates=creates)
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


@dataclass(frozen=True)
class Prefetched:
    """A fresh read (all versions) of `ids`, sent at `read_at`."""

    ids: list[str]
    docs: list[Document | None]
    read_at: datetime


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
        pacing: MutationPacing | None = None,
    ) -> None:
        """`pacing`: the store's mutate limiter, if it paces (see
        `service.engine.unit_of_work.pacing`)."""
        self.store = store
        self.clock = clock
        self.settings = settings
        self.sleep = sleep
        self.rng = rng
        self.resolver = resolver
        self.token_factory = token_factory
        self.pacing = pacing
        self.locks = KeyedLocks()
        self.cache = WarmCache(max_age=settings.warm_cache_max_age)
        self.contention = Contention(window=settings.contention_window)
        #: Retries planned on a read sent alongside the refused write.
        self.prefetched_retries = 0
        #: Conflicts met, for figures and tests.
        self.conflicts = 0
        #: Transactions committed.
        self.transactions = 0
        #: Transactions committed without a read first (warm).
        self.warm_writes = 0
        #: Warm plans dropped unsent and planned again on a fresh read.
        self.warm_misses = 0
        #: Seconds slept waiting for a paced store's mutate slot before a read.
        self.paced_seconds = 0.0

    async def run(
        self,
        operation: str,
        step: Step[R],
        *,
        after_write: Callable[[Plan[R], MutationResult], None] | None = None,
        lock: Iterable[str] = (),
        warm: bool = False,
        pace_first: bool = True,
        fair: bool = False,
        burst: bool = False,
    ) -> R:
        """Run `step` until its plan commits or needs no write; raise its domain error.

        `lock` names the documents the operation will most likely write (product ids or
        names, the reservation id): this instance's other operations on them wait their
        turn (`settings.serialize_writers`). A refused transaction whose plan had a marker
        (a ledger entry only that attempt creates) is checked on the next read: with a
        store that retried a lost response, the first try may have committed after all,
        and its outcome is then the answer. `warm`: the first attempt may plan on the warm
        cache (only reserved counters may move; see the module docstring).

        With a paced store, every attempt first waits for the store's next mutate slot
        (`service.engine.unit_of_work.pacing`); `pace_first=False`: the caller has just waited for
        it (or expects no write), so the first attempt reads at once.

        `fair`: the operation is a group-commit batch, whose buyers wait on this instance's
        turn: on a contended document its writes send their retry's read alongside
        (`contention`, habit 1). `burst`: the batch carries several requests at once, so its
        documents are likely contended elsewhere too: it does so from its first write
        planned on a read.
        """
        async with self.locks.hold(lock if self.settings.serialize_writers else ()):
            return await self._run(
                operation,
                step,
                after_write,
                warm and self.settings.warm_cache,
                pace_first,
                fair,
                burst,
            )

    async def _run(
        self,
        operation: str,
        step: Step[R],
        after_write: Callable[[Plan[R], MutationResult], None] | None,
        warm: bool,
        pace_first: bool,
        fair: bool,
        burst: bool,
    ) -> R:
        unconfirmed: dict[str, Plan[R]] = {}
        attempt_no = 0
        prefetched: Prefetched | None = None
        while attempt_no < self.settings.max_attempts:
            if attempt_no > 0 or pace_first:
                await self.pace(spread=True)
            attempt = Attempt(
                self.store,
                self.resolver,
                now=self.clock(),
                token=self.token_factory(),
                preload=list(unconfirmed),
                cache=self.cache,
                warm=warm,
                clock=self.clock,
                prefetched=prefetched,
            )
            prefetched = None
            try:
                plan = await step(attempt)
            except InventoryError:
                if attempt.fresh:
                    raise
                plan = None
            if not attempt.fresh:
                warm = False
                if plan is None or not _warm_plan_sendable(plan, attempt):
                    self.warm_misses += 1
                    continue
            assert plan is not None
            attempt_no += 1
            for marker, earlier in unconfirmed.items():
                if attempt.snapshot.get(marker) is not None:
                    return earlier.outcome()
            if plan.writes:
                sent = self.clock()
                # A write that waits for a paced store's slot first is no round trip to time.
                timed = self.pacing is None or self.pacing.expected_wait() <= 0
                guarded = list(plan.snapshot.docs)
                # A warm write is the last writer's: it seldom loses, and its read is saved.
                retry_read = (
                    self._read_alongside(plan, sent, burst and not attempt.warm_ids)
                    if fair
                    else None
                )
                try:
                    result = await self.store.mutate(
                        plan.mutations(),
                        transaction_id=plan.token,
                        idempotent=plan.idempotent,
                    )
                except MutationError:
                    self.conflicts += 1
                    if not attempt.warm_ids:
                        # A race lost on a read, not a stale warm entry: contention.
                        self.contention.conflicted(guarded, self.clock())
                    self.cache.forget(plan.snapshot.docs)
                    if plan.marker_id is not None:
                        unconfirmed[plan.marker_id] = plan
                    prefetched = _newer(plan, await retry_read if retry_read else None)
                    if prefetched is not None:
                        # No jittered wait: the read took the round trip a wait would have
                        # spaced the retry by, and a loser that also waited would lose again
                        # (hot flash sale: reserve p99 0.9-1.8 s with the wait, ~0.45 s without).
                        self.prefetched_retries += 1
                        continue
                    if (
                        attempt.fresh
                        and retry_read is None
                        and attempt_no < self.settings.max_attempts
                    ):
                        # A stale warm entry is no sign of contention: re-read at once. Nor
                        # after a read alongside that came too early or failed: it has
                        # spaced the retry already.
                        await self.sleep(self._delay(attempt_no))
                    continue
                except StoreError as exc:
                    # The outcome is unknown: what the cache holds may be stale either way.
                    self.cache.forget(plan.snapshot.docs)
                    if not isinstance(exc, StoreUnavailable) or isinstance(exc, RateLimited):
                        raise  # refused before anything ran
                    applied = await self._applied(plan)
                    if applied is None:
                        raise OutcomeUnknown(operation) from exc
                    if applied:
                        # Design rule 11: the answer was lost, the work was not.
                        self.transactions += 1
                        return plan.outcome()
                    # Read back and not applied: "nothing changed" is the truth. (Its
                    # guards keep a transaction that still lands later from doubling any
                    # retry, whose fresh read then sees it.)
                    raise
                finally:
                    if retry_read is not None:
                        retry_read.cancel()  # not needed once the write was answered
                self.contention.committed(guarded, sent, self.clock(), timed=timed)
                self.transactions += 1
                if not attempt.fresh:
                    self.warm_writes += 1
                self._learn(attempt, plan, result)
                if after_write is not None:
                    after_write(plan, result)
            return plan.outcome()
        raise ConflictRetriesExhausted(operation, self.settings.max_attempts)

    def _read_alongside(
        self, plan: Plan[R], sent: datetime, burst: bool
    ) -> asyncio.Task[Prefetched | None] | None:
        """On a contended document (or in a `burst`), start the read a retry of `plan` would
        need (what it read, and its marker) so that it runs alongside the write."""
        if not burst and not self.contention.contended(plan.snapshot.docs, sent):
            return None
        ids = sorted(
            {doc_id for doc_id in plan.snapshot.read_ids if is_published(doc_id)}
            | ({plan.marker_id} if plan.marker_id is not None else set())
        )

        async def read() -> Prefetched | None:
            try:
                docs = await self.store.get_documents(ids, include_all_versions=True)
            except StoreError:
                return None  # the retry then reads as it always does
            return Prefetched(ids, docs, sent)

        return asyncio.ensure_future(read())

    async def wait_turn(self, ids: Iterable[str]) -> None:
        """Before writing `ids` again: leave a rival instance its round trip after this
        one's last commit of them (`contention`, habit 2)."""
        gap = self.contention.gap(ids, self.clock())
        if gap > 0:
            await self.sleep(gap)

    async def _applied(self, plan: Plan[R]) -> bool | None:
        """Whether a transaction whose answer was lost applied: True, False, or None when
        the read-back failed too.

        The transaction id is the plan's token, chosen here, and a store writes it as the
        `_rev` of every document the transaction touched (Sanity and the lake alike). The
        plan's marker (a ledger entry only this attempt creates) proves it for good; else
        the first document the plan patches or creates: its `_rev` is the token if it
        applied, and still the revision the guard expected if it did not.
        """
        if plan.marker_id is not None:
            probe: tuple[str, str | None] | None = (plan.marker_id, None)
        else:
            probe = _first_written(plan)
        if probe is None:
            return None
        doc_id, guarded_rev = probe
        try:
            (doc,) = await self.store.get_documents([doc_id])
        except StoreError:
            return None
        if doc is not None and doc.get("_rev") == plan.token:
            return True
        if guarded_rev is None:
            # A document only this transaction creates: there or not.
            return doc is not None
        if doc is not None and doc.get("_rev") == guarded_rev:
            return False
        # Changed by someone else since: whether this transaction was among them is unknown.
        return None

    def _learn(self, attempt: Attempt, plan: Plan[R], result: MutationResult) -> None:
        if not self.settings.warm_cache:
            return
        snapshot = plan.snapshot
        with_copies = [
            doc_id
            for doc_id in snapshot.docs
            if is_published(doc_id) and snapshot.copies_of(doc_id)
        ]
        self.cache.learn_write(
            result,
            family_read_at=attempt.family_read_at,
            with_copies=with_copies,
            now=self.clock(),
        )

    async def pace(self, *, spread: bool = False) -> None:
        """Sleep until a paced store's next mutate slot (nothing without pacing).

        `spread`: add full jitter over one slot when there is a wait, so processes whose
        slots free at the same moment do not all read and write at once.
        """
        if self.pacing is None:
            return
        wait = self.pacing.expected_wait()
        if wait <= 0:
            return
        if spread:
            wait += self.rng.uniform(0, 1 / self.pacing.rate)
        self.paced_seconds += wait
        await self.sleep(wait)

    def _delay(self, attempt_no: int) -> float:
        """Full jitter: uniform in [0, base * 2^(n-1)], capped; with a paced store, over
        at least `SLOTS_TO_SPREAD_RETRIES` slots (the loser of a race waits for a slot anyway,
        and the other losers must not wake with it)."""
        ceiling = min(self.settings.backoff_max, self.settings.backoff_base * 2 ** (attempt_no - 1))
        if self.pacing is not None:
            ceiling = max(ceiling, SLOTS_TO_SPREAD_RETRIES / self.pacing.rate)
        return self.rng.uniform(0, ceiling)


def _first_written(plan: Plan[R]) -> tuple[str, str | None] | None:
    """A document the plan changes, with the revision its guard expects (None: created).

    A patch that sets a value is preferred: a bare revision guard changes nothing, and a
    store need not give an unchanged document a new revision.
    """
    mutations = plan.mutations()
    for mutation in mutations:
        body = mutation.get("patch")
        if isinstance(body, dict) and any(op in body for op in ("set", "inc", "dec")):
            return str(body["id"]), body.get("ifRevisionID")
    for mutation in mutations:
        body = mutation.get("create")
        if isinstance(body, dict) and isinstance(body.get("_id"), str):
            return body["_id"], None
    return None


def _warm_plan_sendable(plan: Plan[R], attempt: Attempt) -> bool:
    """Whether a plan made on the warm cache may be sent as it is (module docstring)."""
    return (
        plan.error is None
        and plan.writes
        and attempt.assumed_missing <= plan.created_ids
        and not plan.moves_stock_on_hand
    )


def _newer(plan: Plan[R], read: Prefetched | None) -> Prefetched | None:
    """`read` if it saw some document of `plan` changed; None if it reached the store
    before the write that refused `plan` had landed (a retry on it would be refused too)."""
    if read is None:
        return None
    seen = {doc["_id"]: doc.get("_rev") for doc in read.docs if doc is not None}
    for doc_id in plan.snapshot.read_ids:
        if doc_id not in read.ids:
            continue
        before = plan.snapshot.get(doc_id)
        if seen.get(doc_id) != (before.get("_rev") if before is not None else None):
            return read
    return None
