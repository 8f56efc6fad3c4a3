"""Real concurrency against the embedded lake: many coroutines, one counter, no oversell."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from random import Random
from typing import Any

import pytest

from service.engine import (
    EngineSettings,
    InsufficientStock,
    Inventory,
    InventoryError,
    ReservationNotActive,
)
from tests.engine.conftest import no_wait
from tests.engine.support import CountingStore, doc, ledger, line, seed
from tests.support.clock import ManualClock


@pytest.fixture(params=[False, True], ids=["guards-only", "queued"])
def settings(request: pytest.FixtureRequest) -> EngineSettings:
    """Every race runs twice: with only the revision guards between the coroutines (as
    between instances), and with this instance queueing its own writers (and coalescing its
    reserves into group commits)."""
    return EngineSettings(
        reconcile_settle=0,
        max_attempts=60,
        serialize_writers=request.param,
        coalesce=request.param,
    )


@pytest.mark.parametrize("queue_in_process", [False, True], ids=["guards-only", "queued"])
async def test_100_concurrent_single_unit_reserves_against_10_units(
    store: CountingStore, clock: ManualClock, queue_in_process: bool
) -> None:
    await seed(store, {"_id": "hot", "_type": "product", "title": "Hot", "stockQuantity": 10})
    # One transaction per reserve (group commit has its own tests: test_group_commit.py).
    settings = EngineSettings(max_attempts=60, serialize_writers=queue_in_process, coalesce=False)
    inventory = Inventory(store, clock=clock, settings=settings, sleep=no_wait, rng=Random(7))
    store.reset()

    async def buy(n: int) -> str:
        try:
            await inventory.reserve(f"cs_{n}", [line("hot")])
        except InsufficientStock:
            return "short"
        return "held"

    outcomes = Counter(await asyncio.gather(*(buy(n) for n in range(100))))
    assert outcomes == {"held": 10, "short": 90}
    hot = await doc(store, "hot")
    assert (hot["stockQuantity"], hot["reservedQuantity"]) == (10, 10)
    entries = await ledger(store, productId="hot")
    assert len(entries) == 10 and all(e["quantityChange"] == 1 for e in entries)
    if queue_in_process:
        # One instance queues its writers: no guard is lost, one write per success.
        assert inventory.executor.conflicts == 0 and store.calls["write"] == 10
    else:
        assert inventory.executor.conflicts > 0, "the guards, not luck, kept it at 10"


async def test_two_instances_on_one_store_never_oversell(
    store: CountingStore, clock: ManualClock
) -> None:
    """Two processes' worth of engines: nothing in-process helps them, only the guards."""
    await seed(store, {"_id": "hot", "_type": "product", "title": "Hot", "stockQuantity": 5})
    settings = EngineSettings(max_attempts=60)
    engines = [
        Inventory(store, clock=clock, settings=settings, sleep=no_wait, rng=Random(n))
        for n in range(2)
    ]

    async def buy(n: int) -> bool:
        try:
            await engines[n % 2].reserve(f"cs_{n}", [line("hot", 1 + n % 2)])
        except InsufficientStock:
            return False
        return True

    results = await asyncio.gather(*(buy(n) for n in range(40)))
    held = sum((1 + n % 2) for n, ok in enumerate(results) if ok)
    hot = await doc(store, "hot")
    assert hot["reservedQuantity"] == held <= 5
    assert held >= 4, "stock was not left idle either"


async def test_concurrent_duplicates_of_one_reserve_hold_once(
    inventory: Inventory, store: CountingStore
) -> None:
    results = await asyncio.gather(
        *(inventory.reserve("cs_dup", [line("railcam", 2)]) for _ in range(10))
    )
    assert sum(not r.replayed for r in results) == 1
    assert {r.expires_at for r in results} == {results[0].expires_at}
    assert (await doc(store, "prod-railcam"))["reservedQuantity"] == 2


async def test_20_concurrent_commit_release_expire_attempts_make_one_transition(
    inventory: Inventory, store: CountingStore, clock: ManualClock
) -> None:
    await inventory.reserve("cs_race", [line("railcam", 2), line("halloween-tee", 1, "s")])
    clock.advance(minutes=33)  # overdue, so expire competes too

    async def attempt(n: int) -> str:
        try:
            if n % 3 == 0:
                await inventory.release("cs_race")
                return "released"
            if n % 3 == 1:
                swept = await inventory.expire()
                return "expired" if swept.expired else "expire-noop"
            paid = await inventory.commit("cs_race", "pi_race")
            return "committed-late" if paid.late and not paid.replayed else "committed"
        except ReservationNotActive:
            return "not-active"

    outcomes = Counter(await asyncio.gather(*(attempt(n) for n in range(20))))
    reservation = await inventory.reservation("cs_race")
    assert reservation is not None
    exits = [reservation.released_at, reservation.expired_at]
    left_active = sum(t is not None for t in exits) + (
        reservation.committed_at is not None and not reservation.late_commit
    )
    assert left_active == 1, outcomes
    entries = await ledger(store, referenceId="cs_race")
    by_type = Counter(e["type"] for e in entries)
    # One way out of `active` (release | expiry | sale), plus, when a release or expiry won,
    # one late sale of the payment (the money was taken): never more.
    assert by_type["reservation"] == 2
    assert by_type["release"] + by_type["expiry"] in (0, 2)
    assert by_type["sale"] == 2
    railcam = await doc(store, "prod-railcam")
    assert (railcam["stockQuantity"], railcam["reservedQuantity"]) == (3, 0)


async def test_20_concurrent_commits_of_one_payment_deduct_once(
    inventory: Inventory, store: CountingStore
) -> None:
    await inventory.reserve("cs_pay", [line("railcam", 2)])
    results = await asyncio.gather(*(inventory.commit("cs_pay", "pi_1") for _ in range(20)))
    assert sum(not r.replayed for r in results) == 1
    railcam = await doc(store, "prod-railcam")
    assert (railcam["stockQuantity"], railcam["reservedQuantity"]) == (3, 0)
    assert len(await ledger(store, type="sale")) == 1


async def test_20_concurrent_releases_and_expiries_release_once(
    inventory: Inventory, store: CountingStore, clock: ManualClock
) -> None:
    await inventory.reserve("cs_gone", [line("railcam", 3)])
    clock.advance(timedelta(minutes=40).total_seconds())

    async def attempt(n: int) -> Any:
        try:
            return await (inventory.release("cs_gone") if n % 2 else inventory.expire())
        except InventoryError as exc:
            return exc.code

    await asyncio.gather(*(attempt(n) for n in range(20)))
    entries = await ledger(store, referenceId="cs_gone")
    assert Counter(e["type"] for e in entries)["reservation"] == 1
    assert len([e for e in entries if e["type"] in ("release", "expiry")]) == 1
    assert (await doc(store, "prod-railcam"))["reservedQuantity"] == 0


async def test_concurrent_refund_deliveries_restore_once(
    inventory: Inventory, store: CountingStore
) -> None:
    await inventory.reserve("cs_r", [line("railcam", 2)])
    await inventory.commit("cs_r", "pi")
    results = await asyncio.gather(
        *(
            inventory.restore("cs_r", reference="re_1", idempotency_keys=[f"evt_{n % 3}"])
            for n in range(10)
        ),
    )
    fresh = [r for r in results if not r.replayed]
    assert len(fresh) == 1
    assert (await doc(store, "prod-railcam"))["stockQuantity"] == 5
    assert len(await ledger(store, type="refund")) == 1
