"""Fairness between instances racing for one product (service/engine/unit_of_work/contention.py):
a loser's retry plans on the read sent alongside its refused write, a winner leaves the others
one write round trip, and a batch that lost a race answers the reserves queued behind it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any

import pytest

from cms_client import mutations as m
from cms_client.errors import RevisionConflict, StoreUnavailable
from cms_client.store import Document, Mutation, MutationResult
from schemas.operations import ReserveResult
from service.engine import EngineSettings, InsufficientStock, Inventory, InventoryError
from service.engine.unit_of_work.contention import MAX_GAP, Contention
from tests.engine.support import CountingStore, doc, ledger, line, seed
from tests.support.clock import ManualClock

HOT = {"_id": "hot", "_type": "product", "title": "Hot", "slug": {"current": "hot"}}


def refused() -> RevisionConflict:
    """What Sanity answers a transaction whose guard found another revision."""
    return RevisionConflict(
        "conflict", index=0, document_id="hot", current_revision="b", expected_revision="a"
    )


class RacingStore(CountingStore):
    """Another instance wins the next `losses` races: an editor's save commits on the product
    just before each of those transactions lands, and the guard refuses it (or, with
    `lose_answer_after_loss`, the next one commits and is answered with a conflict). A read sent
    alongside a write reaches the store after the write has been decided, unless
    `reads_land_first`. Every read and write is logged in the order it was sent;
    `failing_reads` (positions in the log) fail with a 503."""

    def __init__(self, inner: Any, losses: int = 0) -> None:
        super().__init__(inner)
        self.losses = losses
        self.reads_land_first = False
        self.failing_reads: set[int] = set()
        self.log: list[str] = []
        self.before_write: Any = None
        self.answer_delay = timedelta(0)
        self.clock: ManualClock | None = None
        self._deciding: asyncio.Event | None = None
        #: After the losses, the next transaction commits and its answer is lost: the
        #: client's retry of it meets the revision it wrote itself (a conflict).
        self.lose_answer_after_loss = False

    async def get_documents(
        self, ids: Sequence[str], *, include_all_versions: bool = False
    ) -> list[Document | None]:
        self.log.append("read")
        position = len(self.log) - 1
        if self._deciding is not None and not self.reads_land_first:
            await self._deciding.wait()
        if position in self.failing_reads:
            raise StoreUnavailable("503 on a read")
        return await super().get_documents(ids, include_all_versions=include_all_versions)

    async def mutate(self, mutations: Sequence[Mutation], **kwargs: Any) -> MutationResult:
        self.log.append("write")
        deciding = self._deciding = asyncio.Event()
        try:
            hook, self.before_write = self.before_write, None
            await asyncio.sleep(0)  # on the wire: a read sent alongside is on its way too
            if hook is not None:
                await hook()
            if self.losses > 0:
                self.losses -= 1
                await self.inner.mutate([m.patch("hot", set={"title": f"Hot {self.losses}"})])
                raise refused()
            result = await self.inner.mutate(mutations, **kwargs)
            if self.lose_answer_after_loss:
                self.lose_answer_after_loss = False
                raise refused()
            if self.clock is not None:
                self.clock.advance(self.answer_delay.total_seconds())
            return result
        finally:
            deciding.set()
            self._deciding = None


def engine(
    store: Any, clock: ManualClock, waits: list[float] | None = None, **kw: Any
) -> Inventory:
    async def sleep(seconds: float) -> None:
        if waits is not None:
            waits.append(seconds)
        await asyncio.sleep(0)

    settings = EngineSettings(max_attempts=12, backoff_base=0.1, backoff_max=0.3, **kw)
    return Inventory(store, clock=clock, settings=settings, sleep=sleep, rng=Random(5))


async def reserve(inventory: Inventory, session: str, units: int = 1) -> Any:
    try:
        return await inventory.reserve(session, [line("hot", units)])
    except InventoryError as exc:
        return exc


async def test_a_loser_retries_on_the_read_sent_alongside_its_refused_write(
    lake: Any, clock: ManualClock
) -> None:
    await seed(lake, {**HOT, "stockQuantity": 5})
    store = RacingStore(lake, losses=3)
    waits: list[float] = []
    shop = engine(store, clock, waits)

    result = await shop.reserve("cs_1", [line("hot", 2)])

    assert isinstance(result, ReserveResult) and result.lines[0].available == 5
    # The first refusal makes the product contended; from then on every write carries the
    # read its retry needs, and no retry reads (or waits) between a refusal and its write.
    assert store.log == ["read", "write", "read", "write", "read", "write", "read", "write", "read"]
    assert len(waits) == 1, "only the first refusal waited before reading again"
    assert shop.executor.prefetched_retries == 2
    hot = await doc(lake, "hot")
    assert (hot["stockQuantity"], hot["reservedQuantity"]) == (5, 2)
    assert len(await ledger(lake, productId="hot")) == 1


@pytest.mark.parametrize("read", ["failed", "landed before the rival's commit"])
async def test_a_read_alongside_that_cannot_serve_is_not_planned_on(
    lake: Any, clock: ManualClock, read: str
) -> None:
    await seed(lake, {**HOT, "stockQuantity": 5})
    store = RacingStore(lake, losses=2)
    if read == "failed":
        store.failing_reads = {4}  # the read sent alongside the second write
    else:
        store.reads_land_first = True  # it sees the product as the refused write did
    waits: list[float] = []
    shop = engine(store, clock, waits)

    result = await shop.reserve("cs_1", [line("hot", 2)])

    # A retry on it would fail or be refused again: the retry reads afresh at once (the
    # read alongside has spaced it already), as it would have after a wait.
    assert isinstance(result, ReserveResult)
    assert store.log == ["read", "write", "read", "write", "read", "read", "write", "read"]
    assert len(waits) == 1 and shop.executor.prefetched_retries == 0
    assert (await doc(lake, "hot"))["reservedQuantity"] == 2


async def test_a_lost_answer_on_a_contended_product_is_still_applied_once(
    lake: Any, clock: ManualClock
) -> None:
    await seed(lake, {**HOT, "stockQuantity": 5})
    store = RacingStore(lake, losses=1)  # makes the product contended first
    store.lose_answer_after_loss = True
    shop = engine(store, clock)

    result = await shop.reserve("cs_1", [line("hot", 2)])

    # The read sent alongside the write whose answer was lost shows its ledger entry: that
    # try's outcome is the answer, and nothing is reserved twice.
    assert isinstance(result, ReserveResult) and not result.replayed
    assert shop.executor.prefetched_retries == 1
    assert store.log == ["read", "write", "read", "write", "read"], "no third write"
    assert (await doc(lake, "hot"))["reservedQuantity"] == 2
    assert len(await ledger(lake, productId="hot")) == 1


async def test_only_group_commit_batches_send_reads_alongside(
    lake: Any, clock: ManualClock
) -> None:
    await seed(lake, {**HOT, "stockQuantity": 5})
    store = RacingStore(lake, losses=2)
    shop = engine(store, clock, coalesce=False)

    await shop.reserve("cs_1", [line("hot", 2)])

    # Without group commit every retry reads afresh after its jittered wait, as before.
    assert store.log == ["read", "write", "read", "write", "read", "write"]
    assert shop.executor.prefetched_retries == 0


async def test_an_uncontended_write_sends_no_extra_read(lake: Any, clock: ManualClock) -> None:
    await seed(lake, {**HOT, "stockQuantity": 5})
    store = RacingStore(lake)
    shop = engine(store, clock)
    await shop.reserve("cs_1", [line("hot")])
    await shop.reserve("cs_2", [line("hot")])
    assert store.log == ["read", "write", "write"], "cold, then warm: no read alongside"


async def lose_a_race_while_buyers_queue(
    lake: Any, clock: ManualClock, *, stock: int, rival_takes: int, latecomers: int
) -> tuple[Any, list[Any], RacingStore, Inventory]:
    """A batch of one reserve (2 units) whose write a rival instance beats by `rival_takes`
    units, while `latecomers` more reserves (1 unit each) queue behind it."""
    await seed(lake, {**HOT, "stockQuantity": stock})
    store = RacingStore(lake)
    shop = engine(store, clock)
    rival = engine(lake, clock)
    queued: list[asyncio.Task[Any]] = []

    async def rival_wins_while_more_buyers_queue() -> None:
        await rival.reserve("cs_rival", [line("hot", rival_takes)])
        queued.extend(
            asyncio.ensure_future(reserve(shop, f"cs_late_{n}")) for n in range(latecomers)
        )
        for _ in range(5):
            await asyncio.sleep(0)  # the latecomers queue behind the batch in flight

    store.before_write = rival_wins_while_more_buyers_queue
    first = await reserve(shop, "cs_first", 2)
    return first, list(await asyncio.gather(*queued)), store, shop


async def test_a_batch_that_lost_a_race_answers_the_reserves_queued_behind_it(
    lake: Any, clock: ManualClock
) -> None:
    first, late, store, shop = await lose_a_race_while_buyers_queue(
        lake, clock, stock=10, rival_takes=3, latecomers=4
    )

    assert isinstance(first, ReserveResult)
    assert all(isinstance(result, ReserveResult) for result in late)
    # The refused batch planned again with the four that queued meanwhile: one more write
    # answered all five, instead of a second race for the latecomers.
    assert store.log.count("write") == 2
    assert shop.reserve_groups.batches == 1 and shop.reserve_groups.members == 5
    hot = await doc(lake, "hot")
    assert hot["reservedQuantity"] == 3 + 2 + 4
    assert len(await ledger(lake, productId="hot")) == 6


async def test_latecomers_that_do_not_fit_are_refused_alone(lake: Any, clock: ManualClock) -> None:
    first, late, _, _ = await lose_a_race_while_buyers_queue(
        lake, clock, stock=4, rival_takes=1, latecomers=3
    )

    assert isinstance(first, ReserveResult)
    assert [type(result) for result in late] == [
        ReserveResult,
        InsufficientStock,
        InsufficientStock,
    ]
    assert (await doc(lake, "hot"))["reservedQuantity"] == 4


async def test_a_winner_leaves_rivals_one_write_round_trip(lake: Any, clock: ManualClock) -> None:
    await seed(lake, {**HOT, "stockQuantity": 10})
    store = RacingStore(lake)
    store.clock, store.answer_delay = clock, timedelta(milliseconds=40)
    waits: list[float] = []
    shop = engine(store, clock, waits, warm_cache=False)

    await shop.reserve("cs_1", [line("hot")])  # committed; its answer took 40 ms
    clock.advance(0.010)
    await shop.reserve("cs_2", [line("hot")])
    assert waits == [0.030], "the next batch waits out the rest of one round trip"
    clock.advance(0.100)
    await shop.reserve("cs_3", [line("hot")])
    assert waits == [0.030], "a round trip later there is nothing to wait for"


def test_the_gap_follows_the_measured_round_trip_and_is_bounded() -> None:
    t0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    ms = timedelta(milliseconds=1)
    contention = Contention(window=timedelta(seconds=2))
    assert contention.gap(["hot"], t0) == 0, "nothing committed yet"
    contention.committed(["hot"], t0, t0 + 20 * ms)
    assert contention.gap(["hot"], t0 + 25 * ms) == 0.015
    assert contention.gap(["cold"], t0 + 25 * ms) == 0, "only the documents committed"
    contention.committed(["hot"], t0 + 100 * ms, t0 + 160 * ms)  # estimate 20 -> 30 ms
    assert abs(contention.gap(["hot"], t0 + 160 * ms) - 0.030) < 1e-9
    contention.committed(["hot"], t0, t0 + timedelta(seconds=30))  # a stalled answer
    assert contention.gap(["hot"], t0 + timedelta(seconds=30)) == MAX_GAP.total_seconds()


def test_a_document_stays_contended_for_the_window_only() -> None:
    t0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    contention = Contention(window=timedelta(seconds=2))
    contention.conflicted(["hot"], t0)
    assert contention.contended(["hot", "other"], t0 + timedelta(seconds=1))
    assert not contention.contended(["other"], t0)
    assert not contention.contended(["hot"], t0 + timedelta(seconds=2))
    off = Contention(window=timedelta(0))
    off.conflicted(["hot"], t0)
    assert not off.contended(["hot"], t0)


def test_a_write_that_waited_for_a_paced_slot_does_not_set_the_round_trip() -> None:
    t0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    ms = timedelta(milliseconds=1)
    contention = Contention(window=timedelta(seconds=2))
    contention.committed(["hot"], t0, t0 + 20 * ms)
    contention.committed(["hot"], t0 + 100 * ms, t0 + 260 * ms, timed=False)  # 140 ms in line
    assert contention.write_rtt == 20 * ms
    assert contention.gap(["hot"], t0 + 270 * ms) == 0.01, "counted from the latest commit"
