"""Group commit: mutate calls queued together share one SQLite commit, each answered only
after it, each failing alone, in call order."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cms_client import mutations as m
from cms_client.errors import DocumentExists, RevisionConflict
from cms_client.lake import Lake


async def _count_commits(lake: Lake) -> list[str]:
    statements: list[str] = []

    def trace(statement: str) -> None:
        if statement.strip().upper() == "COMMIT":
            statements.append(statement)

    await lake._run(lambda db: db.connection.set_trace_callback(trace))
    return statements


async def test_queued_writes_share_commits_and_fail_alone(tmp_path: Path) -> None:
    async with Lake(tmp_path / "lake.sqlite3") as lake:
        await lake.mutate([m.create({"_id": "taken", "_type": "t"})])
        commits = await _count_commits(lake)
        calls = [lake.mutate([m.create({"_id": f"p{i}", "_type": "t", "n": i})]) for i in range(40)]
        calls.insert(20, lake.mutate([m.create({"_id": "taken", "_type": "t"})]))
        outcomes = await asyncio.gather(*calls, return_exceptions=True)

        refused = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(refused) == 1 and isinstance(refused[0], DocumentExists)
        stored = await lake.get_documents([f"p{i}" for i in range(40)])
        assert [d["n"] for d in stored if d is not None] == list(range(40))
        transaction_ids = {o.transaction_id for o in outcomes if not isinstance(o, BaseException)}
        assert len(transaction_ids) == 40, "one transaction (and revision) per mutate call"
        assert len(commits) < 41, "queued writes shared commits"


async def test_a_write_sees_the_one_queued_before_it(tmp_path: Path) -> None:
    async with Lake(tmp_path / "lake.sqlite3") as lake:
        created, patched, guarded = await asyncio.gather(
            lake.mutate([m.create({"_id": "p", "_type": "t", "n": 1})]),
            lake.mutate([m.patch("p", inc={"n": 1})]),
            lake.mutate([m.patch("p", if_revision_id="stale", inc={"n": 10})]),
            return_exceptions=True,
        )
        assert not isinstance(created, BaseException)
        assert not isinstance(patched, BaseException)
        assert patched.results[0].document is not None
        assert patched.results[0].document["n"] == 2
        assert isinstance(guarded, RevisionConflict)
        (stored,) = await lake.get_documents(["p"])
        assert stored is not None and stored["n"] == 2
        assert stored["_rev"] == patched.transaction_id


@pytest.mark.parametrize("writers", [8])
async def test_concurrent_guarded_increments_lose_nothing(tmp_path: Path, writers: int) -> None:
    async with Lake(tmp_path / "lake.sqlite3") as lake:
        await lake.mutate([m.create({"_id": "c", "_type": "t", "n": 0})])

        async def increment(times: int) -> None:
            for _ in range(times):
                while True:
                    (doc,) = await lake.get_documents(["c"])
                    assert doc is not None
                    try:
                        await lake.mutate([m.patch("c", if_revision_id=doc["_rev"], inc={"n": 1})])
                        break
                    except RevisionConflict:
                        continue

        await asyncio.gather(*(increment(15) for _ in range(writers)))
        (doc,) = await lake.get_documents(["c"])
        assert doc is not None and doc["n"] == 15 * writers
