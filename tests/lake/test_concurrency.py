"""No lost update under real concurrency: coroutines on one lake, processes on one file."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from cms_client import mutations as m
from cms_client.lake import Lake
from tests.lake.counter_worker import COUNTER_ID, add_one, process_main


async def make_counter(lake: Lake) -> None:
    await lake.mutate([m.create({"_id": COUNTER_ID, "_type": "counter", "n": 0})])


async def counter_value(lake: Lake) -> int:
    (document,) = await lake.get_documents([COUNTER_ID])
    assert document is not None
    return int(document["n"])


async def test_50_coroutines_guarded_increments_are_exact(lake: Lake):
    await make_counter(lake)
    attempts = await asyncio.gather(*(add_one(lake) for _ in range(50)))
    assert await counter_value(lake) == 50
    assert sum(attempts) > 50, "the coroutines really did collide"


async def test_coroutines_on_two_lakes_sharing_a_file_are_exact(tmp_path: Path):
    async with Lake(tmp_path / "lake.db") as first, Lake(tmp_path / "lake.db") as second:
        await make_counter(first)
        stores = [first, second] * 20
        await asyncio.gather(*(add_one(store) for store in stores))
        assert await counter_value(second) == 40


@pytest.mark.slow
async def test_processes_sharing_one_file_lose_no_update(tmp_path: Path):
    path = tmp_path / "lake.db"
    async with Lake(path) as lake:
        await make_counter(lake)
    processes, increments = 4, 40
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(target=process_main, args=(str(path), increments, start, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    outcome = [await asyncio.to_thread(results.get, timeout=60) for _ in workers]
    for worker in workers:
        await asyncio.to_thread(worker.join, 10)
        assert worker.exitcode == 0
    assert len({pid for pid, _ in outcome}) == processes, "every worker was its own process"
    async with Lake(path) as lake:
        assert await counter_value(lake) == processes * increments


async def test_a_writer_waiting_for_another_process_does_not_stall_the_event_loop(tmp_path: Path):
    path = tmp_path / "lake.db"
    async with Lake(path) as lake:
        await make_counter(lake)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            write = asyncio.create_task(lake.mutate([m.patch(COUNTER_ID, inc={"n": 1})]))
            ticks = 0
            for _ in range(50):
                await asyncio.sleep(0)
                ticks += 1
            assert ticks == 50 and not write.done()
        finally:
            other.execute("COMMIT")
            other.close()
        await write
        assert await counter_value(lake) == 1


async def test_a_lock_held_past_the_busy_timeout_is_store_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from cms_client.errors import StoreUnavailable
    from cms_client.lake import storage

    path = tmp_path / "lake.db"
    async with Lake(path) as setup:
        await make_counter(setup)
    monkeypatch.setattr(storage, "BUSY_TIMEOUT_SECONDS", 0.01)
    async with Lake(path) as lake:
        await lake.get_documents([COUNTER_ID])
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreUnavailable, match="locked"):
                await lake.mutate([m.patch(COUNTER_ID, inc={"n": 1})])
        finally:
            other.execute("ROLLBACK")
            other.close()
        # The failed attempt left the connection usable.
        await lake.mutate([m.patch(COUNTER_ID, inc={"n": 1})])
        assert await counter_value(lake) == 1
