"""A read -> check -> guarded write loop on one counter, run in coroutines and in processes."""

from __future__ import annotations

import asyncio
import os
from multiprocessing.queues import Queue
from threading import Barrier

from cms_client import mutations as m
from cms_client.errors import RevisionConflict
from cms_client.store import DocumentStore

COUNTER_ID = "inventory.counter"


async def add_one(store: DocumentStore, doc_id: str = COUNTER_ID) -> int:
    """Add one to the counter the way the service does; returns how many attempts it took.

    The new value is computed from the read (`set`, not `inc`), so a write that slipped past
    its guard would lose an update and show in the final count.
    """
    attempts = 0
    while True:
        attempts += 1
        (document,) = await store.get_documents([doc_id])
        assert document is not None
        try:
            await store.mutate(
                [m.patch(doc_id, if_revision_id=document["_rev"], set={"n": document["n"] + 1})]
            )
        except RevisionConflict:
            await asyncio.sleep(0)
            continue
        return attempts


async def _run_in_process(path: str, increments: int, start: Barrier) -> int:
    from cms_client.lake import Lake

    async with Lake(path) as lake:
        await lake.get_documents([COUNTER_ID])  # open the file before the race starts
        await asyncio.to_thread(start.wait)
        attempts = 0
        for _ in range(increments):
            attempts += await add_one(lake)
        return attempts


def process_main(
    path: str, increments: int, start: Barrier, results: Queue[tuple[int, int]]
) -> None:
    """Entry point of a spawned process; puts (its pid, attempts it needed) on `results`."""
    results.put((os.getpid(), asyncio.run(_run_in_process(path, increments, start))))
