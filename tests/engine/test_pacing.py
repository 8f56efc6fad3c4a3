"""A paced store (Sanity's mutate limit): writes wait for their slot before their read, the
losers of a race spread their retries out, and buyers arriving during the wait ride along."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from random import Random
from typing import Any

from cms_client.errors import MutationError
from cms_client.lake import Lake
from cms_client.rate_limit import MutationRateLimiter
from cms_client.store import Document, Mutation, MutationResult
from schemas.operations import ReserveResult
from service.engine import EngineSettings, InsufficientStock, Inventory, InventoryError
from service.engine.unit_of_work.pacing import pacing_of
from tests.engine.support import CountingStore, doc, line, seed
from tests.support.clock import ManualClock

RATE = 5.0
HOT = {"_id": "hot", "_type": "product", "title": "Hot", "slug": {"current": "hot"}}


class Timeline:
    """Monotonic time that moves only when someone sleeps, and a log of what happened."""

    def __init__(self) -> None:
        self.now = 100.0
        self.events: list[str] = []
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.events.append("sleep")
        self.now += seconds
        await asyncio.sleep(0)


class PacedStore(CountingStore):
    """A store that paces its mutates like `SanityClient` (the slot is booked on send)."""

    def __init__(self, inner: Any, timeline: Timeline) -> None:
        super().__init__(inner)
        self.timeline = timeline
        self.limiter = MutationRateLimiter(RATE, clock=timeline.monotonic, sleep=timeline.sleep)
        #: Seconds each write waited in the limiter, after its plan was made.
        self.held_back: list[float] = []
        self.refuse_next = 0

    async def get_documents(
        self, ids: Sequence[str], *, include_all_versions: bool = False
    ) -> list[Document | None]:
        self.timeline.events.append("read")
        return await super().get_documents(ids, include_all_versions=include_all_versions)

    async def mutate(self, mutations: Sequence[Mutation], **kwargs: Any) -> MutationResult:
        wait = self.limiter.reserve()
        self.held_back.append(wait)
        self.timeline.now += wait
        self.timeline.events.append("write")
        if self.refuse_next:
            self.refuse_next -= 1
            raise MutationError("revision mismatch", index=0, document_id="hot")
        return await super().mutate(mutations, **kwargs)


async def paced(clock: ManualClock, units: int) -> tuple[Lake, PacedStore, Timeline]:
    lake = Lake(None, clock=clock)
    await seed(lake, {**HOT, "stockQuantity": units})
    timeline = Timeline()
    return lake, PacedStore(lake, timeline), timeline


def engine(store: PacedStore, clock: ManualClock, **settings: Any) -> Inventory:
    return Inventory(
        store,
        clock=clock,
        settings=EngineSettings(max_attempts=20, **settings),
        sleep=store.timeline.sleep,
        rng=Random(5),
    )


async def attempt(inventory: Inventory, session: str) -> ReserveResult | InventoryError:
    try:
        return await inventory.reserve(session, [line("hot")])
    except InventoryError as exc:
        return exc


def use_up_the_window(store: PacedStore) -> None:
    for _ in range(int(RATE)):
        store.limiter.reserve()


def test_only_a_store_with_a_mutate_limiter_is_paced(clock: ManualClock) -> None:
    timeline = Timeline()
    lake = Lake(None, clock=clock)
    assert pacing_of(lake) is None
    assert pacing_of(PacedStore(lake, timeline)) is not None


async def test_a_write_waits_for_its_slot_before_its_read_not_between(
    clock: ManualClock,
) -> None:
    lake, store, timeline = await paced(clock, 5)
    inventory = engine(store, clock)
    use_up_the_window(store)

    result = await inventory.reserve("cs_1", [line("hot")])

    assert result.session_id == "cs_1"
    # The slot was slept out first; the write followed its read without waiting.
    assert timeline.events.index("sleep") < timeline.events.index("read")
    assert timeline.events[-2:] == ["read", "write"]
    assert store.held_back == [0.0]
    assert timeline.sleeps[0] >= 1.0
    await lake.aclose()


async def test_buyers_arriving_during_the_wait_ride_in_the_same_transaction(
    clock: ManualClock,
) -> None:
    lake, store, timeline = await paced(clock, 10)
    inventory = engine(store, clock)
    use_up_the_window(store)
    sleeping, wake = asyncio.Event(), asyncio.Event()

    async def slow_sleep(seconds: float) -> None:
        sleeping.set()
        await wake.wait()
        await timeline.sleep(seconds)

    inventory.executor.sleep = slow_sleep
    first = asyncio.ensure_future(attempt(inventory, "cs_0"))
    await sleeping.wait()
    others = [asyncio.ensure_future(attempt(inventory, f"cs_{n}")) for n in range(1, 6)]
    for _ in range(5):
        await asyncio.sleep(0)
    wake.set()
    outcomes = await asyncio.gather(first, *others)

    assert all(isinstance(o, ReserveResult) for o in outcomes)
    assert store.calls["write"] == 1
    assert inventory.reserve_groups.batches == 1
    hot = await doc(store, "hot")
    assert hot["reservedQuantity"] == 6
    await lake.aclose()


async def test_the_losers_of_a_race_spread_their_retries_over_a_slot_or_more(
    clock: ManualClock,
) -> None:
    lake, store, _timeline = await paced(clock, 5)
    inventory = engine(store, clock, warm_cache=False)
    store.refuse_next = 1
    draws = [inventory.executor._delay(1) for _ in range(200)]

    result = await inventory.reserve("cs_1", [line("hot")])

    assert result.session_id == "cs_1"
    assert inventory.executor.conflicts == 1
    # Without pacing the first retry waits at most backoff_base (10 ms); paced, the
    # retries spread over 1.5 slots of this process's rate.
    assert max(draws) <= 1.5 / RATE
    assert max(draws) > 0.5 / RATE
    assert sum(d > 0.1 for d in draws) > 50
    await lake.aclose()


async def test_a_group_found_sold_out_answers_refusals_without_waiting_for_a_slot(
    clock: ManualClock,
) -> None:
    lake, store, timeline = await paced(clock, 1)
    inventory = engine(store, clock)
    assert isinstance(await attempt(inventory, "cs_won"), ReserveResult)
    assert isinstance(await attempt(inventory, "cs_first_refusal"), InsufficientStock)
    use_up_the_window(store)
    timeline.sleeps.clear()
    reads = store.calls["read"]

    refused = await attempt(inventory, "cs_later")

    assert isinstance(refused, InsufficientStock)
    assert timeline.sleeps == []
    # Still refused on a read made after it arrived.
    assert store.calls["read"] == reads + 1

    # Stock comes back: the hint never costs a sale, the write just waits in the store.
    await inventory.adjust("hot", delta=1, reason="restock", actor="staff")
    assert isinstance(await attempt(inventory, "cs_after_restock"), ReserveResult)
    await lake.aclose()


async def test_a_slug_batch_and_an_id_batch_of_one_product_take_turns(
    clock: ManualClock,
) -> None:
    lake = Lake(None, clock=clock)
    await seed(lake, {**HOT, "_id": "prod-hot", "slug": {"current": "hot"}, "stockQuantity": 3})
    store = PacedStore(lake, Timeline())
    inventory = engine(store, clock, warm_cache=False)
    in_flight = 0
    overlapped = False
    writing = asyncio.Event()
    original = store.mutate

    async def watched(mutations: Sequence[Mutation], **kwargs: Any) -> MutationResult:
        nonlocal in_flight, overlapped
        in_flight += 1
        overlapped = overlapped or in_flight > 1
        writing.set()
        try:
            for _ in range(10):
                await asyncio.sleep(0)
            return await original(mutations, **kwargs)
        finally:
            in_flight -= 1

    store.mutate = watched  # type: ignore[method-assign]
    # The first buyer's batch is keyed (and locked) by the slug, not resolved yet.
    by_slug = asyncio.ensure_future(inventory.reserve("cs_slug", [line("hot")]))
    await writing.wait()
    # Its read resolved the name: the next buyer's group is keyed by `_id`.
    assert inventory.resolver.cached("hot") == "prod-hot"
    by_id = asyncio.ensure_future(inventory.reserve("cs_id", [line("hot")]))
    results = await asyncio.gather(by_slug, by_id)

    assert {r.session_id for r in results} == {"cs_slug", "cs_id"}
    assert not overlapped
    assert inventory.executor.conflicts == 0
    await lake.aclose()
