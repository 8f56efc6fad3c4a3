"""50 buyers at once against a product kept at two locations of 10: exactly 20 granted.

Real concurrency as the engine's other races: coroutines of several engines on one lake
(only the revision guards between them), and threads, each with its own event loop, its own
engine and its own connection to one lake file.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from pathlib import Path
from random import Random

from cms_client import mutations as m
from cms_client.lake import Lake
from cms_client.store import DocumentStore
from schemas.operations import LineRequest
from service.engine import EngineSettings, InsufficientStock, Inventory
from tests.engine.conftest import no_wait
from tests.support.clock import ManualClock

LOCATIONS = [
    {"_id": "loc-a", "_type": "stockLocation", "slug": {"current": "a"}, "priority": 1},
    {"_id": "loc-b", "_type": "stockLocation", "slug": {"current": "b"}, "priority": 2},
]
HOT = {
    "_id": "hot",
    "_type": "product",
    "title": "Hot",
    "stockQuantity": 20,
    "locationStock": [
        {"_key": "a", "location": {"_type": "reference", "_ref": "loc-a"}, "stock": 10},
        {"_key": "b", "location": {"_type": "reference", "_ref": "loc-b"}, "stock": 10},
    ],
}


async def seed(store: DocumentStore) -> None:
    await store.mutate([m.create(doc) for doc in (*LOCATIONS, HOT)])


def engine(store: DocumentStore, clock: ManualClock, seed_: int) -> Inventory:
    settings = EngineSettings(max_attempts=200, serialize_writers=False, coalesce=False)
    return Inventory(store, clock=clock, settings=settings, sleep=no_wait, rng=Random(seed_))


async def buy(inventory: Inventory, n: int) -> str:
    try:
        await inventory.reserve(f"cs_{n}", [LineRequest(product_id="hot", quantity=1)])
    except InsufficientStock:
        return "short"
    return "held"


async def assert_exactly_20(store: DocumentStore) -> None:
    (hot,) = await store.get_documents(["hot"])
    assert hot is not None
    rows = {r["location"]["_ref"]: (r["stock"], r.get("reserved", 0)) for r in hot["locationStock"]}
    assert rows == {"loc-a": (10, 10), "loc-b": (10, 10)}, rows
    assert (hot["stockQuantity"], hot["reservedQuantity"]) == (20, 20)
    holds = await store.query('*[_type == "stockReservation" && status == "active"]{items}', {})
    allocated: Counter[str] = Counter()
    for hold in holds:
        for item in hold["items"]:
            for allocation in item["allocations"]:
                allocated[allocation["location"]] += allocation["quantity"]
    assert allocated == {"loc-a": 10, "loc-b": 10}


async def test_50_coroutines_of_five_engines_grant_exactly_20(clock: ManualClock) -> None:
    async with Lake(None, clock=clock) as lake:
        await seed(lake)
        engines = [engine(lake, clock, n) for n in range(5)]
        outcomes = Counter(await asyncio.gather(*(buy(engines[n % 5], n) for n in range(50))))
        assert outcomes == {"held": 20, "short": 30}
        assert sum(e.executor.conflicts for e in engines) > 0, "the guards, not luck"
        await assert_exactly_20(lake)


def test_50_reserves_from_five_threads_on_one_lake_file_grant_exactly_20(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "lake.db"

    async def prepare() -> None:
        async with Lake(path, clock=clock) as lake:
            await seed(lake)

    asyncio.run(prepare())
    start = threading.Barrier(5)
    results: list[str] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        async def run() -> list[str]:
            async with Lake(path, clock=clock) as lake:
                inventory = engine(lake, clock, index)
                start.wait()
                return list(
                    await asyncio.gather(*(buy(inventory, index * 10 + n) for n in range(10)))
                )

        outcome = asyncio.run(run())
        with lock:
            results.extend(outcome)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
        assert not thread.is_alive()
    assert Counter(results) == {"held": 20, "short": 30}

    async def check() -> None:
        async with Lake(path, clock=clock) as lake:
            await assert_exactly_20(lake)

    asyncio.run(check())
