"""The lake's synchronous API: reads and writes committed on the calling thread, sharing one
connection (and one order of commits) with the writer thread that serves awaited calls."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from cms_client import mutations as m
from cms_client.errors import BadRequest, DocumentExists, RevisionConflict, StoreUnavailable
from cms_client.lake import Lake


def _add_one_sync(lake: Lake, doc_id: str) -> int:
    attempts = 0
    while True:
        attempts += 1
        (document,) = lake.get_documents_sync([doc_id])
        assert document is not None
        try:
            lake.mutate_sync([m.patch(doc_id, if_revision_id=document["_rev"], inc={"n": 1})])
        except RevisionConflict:
            continue
        return attempts


async def _add_one(lake: Lake, doc_id: str) -> int:
    attempts = 0
    while True:
        attempts += 1
        (document,) = await lake.get_documents([doc_id])
        assert document is not None
        try:
            await lake.mutate([m.patch(doc_id, if_revision_id=document["_rev"], inc={"n": 1})])
        except RevisionConflict:
            continue
        return attempts


def test_synchronous_code_without_an_event_loop_reads_writes_and_closes(tmp_path: Path) -> None:
    path = tmp_path / "lake.sqlite3"
    lake = Lake(path)
    created = lake.mutate_sync([m.create({"_id": "p", "_type": "product", "n": 1})])
    assert created.results[0].operation == "create"
    assert created.results[0].document is not None
    assert created.results[0].document["_rev"] == created.transaction_id
    (stored,) = lake.get_documents_sync(["p"])
    assert stored is not None and stored["n"] == 1 and stored["_rev"] == created.transaction_id
    with pytest.raises(RevisionConflict):
        lake.mutate_sync([m.patch("p", if_revision_id="stale", set={"n": 99})])
    with pytest.raises(DocumentExists):
        lake.mutate_sync([m.create({"_id": "p", "_type": "product"})])
    with pytest.raises(BadRequest):
        lake.get_documents_sync(["not valid!"])
    dry = lake.mutate_sync([m.patch("p", set={"n": 5})], dry_run=True)
    assert dry.results[0].document is not None and dry.results[0].document["n"] == 5
    lake.close()
    with pytest.raises(StoreUnavailable):
        lake.mutate_sync([m.patch("p", set={"n": 2})])

    async def reopened() -> None:
        async with Lake(path) as again:
            (document,) = await again.get_documents(["p"])
            assert document is not None and document["n"] == 1, "refused writes left nothing"

    asyncio.run(reopened())


async def test_refused_on_the_event_loop_thread_which_an_fsync_would_stall(lake: Lake) -> None:
    await lake.mutate([m.create({"_id": "p", "_type": "product", "n": 1})])
    with pytest.raises(RuntimeError, match="await"):
        lake.mutate_sync([m.patch("p", set={"n": 2})])
    with pytest.raises(RuntimeError, match="await"):
        lake.get_documents_sync(["p"])
    (document,) = await lake.get_documents(["p"])
    assert document is not None and document["n"] == 1


async def test_threads_and_coroutines_writing_at_once_lose_no_update(tmp_path: Path) -> None:
    async with Lake(tmp_path / "lake.sqlite3") as lake:
        await lake.mutate([m.create({"_id": "c", "_type": "counter", "n": 0})])
        start = threading.Barrier(4)

        def thread_writer() -> int:
            start.wait()
            return sum(_add_one_sync(lake, "c") for _ in range(25))

        async def coroutine_writer() -> int:
            return sum([await _add_one(lake, "c") for _ in range(25)])

        threads = [asyncio.to_thread(thread_writer) for _ in range(4)]
        coroutines = [coroutine_writer() for _ in range(4)]
        attempts = await asyncio.gather(*threads, *coroutines)

        (document,) = await lake.get_documents(["c"])
        assert document is not None and document["n"] == 200
        assert sum(attempts) > 200, "the writers really did collide"
        # Queries see the synchronous writes too (the parsed-document cache stays right).
        assert await lake.query('*[_id == "c"][0].n') == 200
