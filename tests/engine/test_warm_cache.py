"""Warm revision cache: an instance that wrote a product last writes its next reserve
without reading first; anything it cannot vouch for is read fresh."""

from __future__ import annotations

from random import Random
from typing import Any

import pytest

from service.engine import EngineSettings, InsufficientStock, Inventory
from tests.engine import studio
from tests.engine.conftest import no_wait
from tests.engine.support import CountingStore, doc, ledger, line
from tests.support.clock import ManualClock


def engine(store: CountingStore, clock: ManualClock, **settings: Any) -> Inventory:
    return Inventory(
        store,
        clock=clock,
        settings=EngineSettings(reconcile_settle=0, **settings),
        sleep=no_wait,
        rng=Random(5),
    )


@pytest.fixture
def shop(store: CountingStore, clock: ManualClock) -> Inventory:
    return engine(store, clock)


@pytest.fixture
def other(store: CountingStore, clock: ManualClock) -> Inventory:
    """Another instance on the same store (nothing it caches helps or hurts `shop`)."""
    return engine(store, clock)


async def test_an_uncontended_warm_reserve_is_one_store_request(
    shop: Inventory, store: CountingStore
) -> None:
    await shop.reserve("cs_1", [line("prod-railcam")])  # cold: read, write
    store.reset()

    result = await shop.reserve("cs_2", [line("prod-railcam", 2)])

    assert store.calls == {"write": 1}
    assert result.lines[0].available == 4 and not result.replayed
    railcam = await doc(store, "prod-railcam")
    assert railcam["reservedQuantity"] == 3
    assert shop.executor.warm_writes == 1


async def test_a_cold_instance_resolves_the_name_reads_then_writes(
    shop: Inventory, store: CountingStore
) -> None:
    store.reset()
    await shop.reserve("cs_1", [line("prod-railcam")])
    assert store.calls == {"query": 1, "read": 1, "write": 1}


async def test_warm_reserves_of_a_variant_product_chain_on_their_own_revisions(
    shop: Inventory, store: CountingStore
) -> None:
    await shop.reserve("cs_0", [line("prod-tee", 1, "s")])
    store.reset()
    for n in range(1, 3):
        await shop.reserve(f"cs_{n}", [line("prod-tee", 1, "s")])
    assert store.calls == {"write": 2}
    with pytest.raises(InsufficientStock):
        await shop.reserve("cs_3", [line("prod-tee", 1, "s")])
    tee = await doc(store, "prod-tee")
    assert tee["variants"][0]["reservedQuantity"] == 3


async def test_a_write_by_another_instance_makes_the_warm_write_fall_back(
    shop: Inventory, other: Inventory, store: CountingStore
) -> None:
    await shop.reserve("cs_1", [line("prod-railcam")])
    await other.reserve("cs_2", [line("prod-railcam", 2)])  # shop's cached _rev is stale now
    store.reset()

    result = await shop.reserve("cs_3", [line("prod-railcam", 2)])

    # The warm write is refused by its guard; a fresh read and a second write follow.
    assert store.calls == {"write": 2, "read": 1}
    assert shop.executor.conflicts == 1
    assert result.lines[0].available == 2
    railcam = await doc(store, "prod-railcam")
    assert (railcam["stockQuantity"], railcam["reservedQuantity"]) == (5, 5)
    assert len(await ledger(store, productId="prod-railcam", type="reservation")) == 3
    store.reset()
    await shop.release("cs_3")  # the fallback's own write warmed the cache again
    assert store.calls == {"write": 1}


async def test_stock_freed_elsewhere_is_not_refused_from_the_cache(
    shop: Inventory, other: Inventory, store: CountingStore
) -> None:
    await shop.reserve("cs_1", [line("prod-railcam", 5)])  # the cache says: none left
    await other.release("cs_1")
    store.reset()

    result = await shop.reserve("cs_2", [line("prod-railcam", 1)])

    # A refusal is never decided on the cache alone: it is read fresh first.
    assert result.lines[0].available == 5
    assert store.calls == {"read": 1, "write": 1}


async def test_a_session_reserved_by_another_instance_is_replayed_not_doubled(
    shop: Inventory, other: Inventory, store: CountingStore
) -> None:
    await shop.reserve("cs_1", [line("prod-railcam")])
    first = await other.reserve("cs_dup", [line("prod-railcam")])
    await shop.reserve("cs_2", [line("prod-railcam")])  # warm again after the conflict
    store.reset()

    again = await shop.reserve("cs_dup", [line("prod-railcam")])

    # The reservation was taken as missing; its `create` fails and the fresh read replays.
    assert again.replayed and again.expires_at == first.expires_at
    assert store.calls == {"write": 1, "read": 1}
    assert (await doc(store, "prod-railcam"))["reservedQuantity"] == 3


async def test_an_idempotency_key_used_elsewhere_is_replayed(
    shop: Inventory, other: Inventory, store: CountingStore
) -> None:
    await shop.reserve("cs_1", [line("prod-railcam")])
    await shop.release("cs_1")
    await other.reserve("cs_1b", [line("prod-railcam")], idempotency_keys=["k-1"])
    await shop.reserve("cs_2", [line("prod-railcam")])

    again = await shop.reserve("cs_1b", [line("prod-railcam")], idempotency_keys=["k-1"])

    assert again.replayed
    assert (await doc(store, "prod-railcam"))["reservedQuantity"] == 2


async def test_a_warm_release_is_one_write_and_a_commit_always_reads(
    shop: Inventory, store: CountingStore
) -> None:
    await shop.reserve("cs_1", [line("prod-railcam")])
    await shop.reserve("cs_2", [line("prod-railcam")])
    store.reset()
    await shop.release("cs_1")
    assert store.calls == {"write": 1}
    store.reset()
    # A sale moves stock on hand, which nothing could rebuild if a new draft missed it.
    await shop.commit("cs_2", "pi")
    assert store.calls == {"read": 1, "write": 1}
    railcam = await doc(store, "prod-railcam")
    assert (railcam["stockQuantity"], railcam["reservedQuantity"]) == (4, 0)


async def test_a_product_with_a_draft_is_read_every_time(
    shop: Inventory, store: CountingStore
) -> None:
    await studio.start_draft(store, "prod-railcam")
    await shop.reserve("cs_1", [line("prod-railcam")])
    store.reset()

    await shop.reserve("cs_2", [line("prod-railcam")])

    assert store.calls == {"read": 1, "write": 1}
    draft = await doc(store, "drafts.prod-railcam")
    assert draft["reservedQuantity"] == 2


async def test_drafts_are_looked_for_again_once_the_cache_is_older_than_its_bound(
    shop: Inventory, store: CountingStore, clock: ManualClock
) -> None:
    await shop.reserve("cs_1", [line("prod-railcam")])
    await studio.start_draft(store, "prod-railcam")  # does not move the published _rev
    clock.advance(seconds=shop.settings.warm_cache_max_age.total_seconds() + 1)
    store.reset()

    await shop.reserve("cs_2", [line("prod-railcam")])

    assert store.calls == {"read": 1, "write": 1}
    assert (await doc(store, "drafts.prod-railcam"))["reservedQuantity"] == 2


async def test_a_draft_started_inside_the_bound_is_repaired_when_published(
    shop: Inventory, store: CountingStore
) -> None:
    """The documented remainder: a warm write cannot see a draft started a moment ago; only
    reserved counters move warm, and the reservations rebuild those."""
    await shop.reserve("cs_1", [line("prod-railcam")])
    await studio.start_draft(store, "prod-railcam")
    await shop.reserve("cs_2", [line("prod-railcam")])  # warm: the new draft misses it
    assert (await doc(store, "drafts.prod-railcam"))["reservedQuantity"] == 1
    await studio.publish(store, "prod-railcam")
    assert (await doc(store, "prod-railcam"))["reservedQuantity"] == 1

    result = await shop.reconcile()

    assert [(d.recorded, d.expected) for d in result.repaired] == [(1, 2)]
    railcam = await doc(store, "prod-railcam")
    assert (railcam["stockQuantity"], railcam["reservedQuantity"]) == (5, 2)


async def test_with_the_cache_off_every_reserve_reads(
    store: CountingStore, clock: ManualClock
) -> None:
    shop = engine(store, clock, warm_cache=False)
    await shop.reserve("cs_1", [line("prod-railcam")])
    store.reset()
    await shop.reserve("cs_2", [line("prod-railcam")])
    assert store.calls == {"read": 1, "write": 1}
    assert shop.executor.warm_writes == 0
