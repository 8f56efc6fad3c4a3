"""The one retry policy for guarded single-document writes (resolving an error log,
claiming alerts): a write that loses the race to another writer is read and tried again,
a bounded number of times; nothing half-done is left either way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from cms_client import mutations as m
from cms_client.lake import Lake
from cms_client.store import Mutation, MutationResult
from service.engine import (
    GUARDED_WRITE_ATTEMPTS,
    ConflictRetriesExhausted,
    ErrorLogNotFound,
    resolve_error_log,
)
from tests.engine.support import CountingStore
from tests.support.clock import ManualClock

LOG = "inventory.error.race"


class RivalStore(CountingStore):
    """Before each of our first `wins` writes, a rival edits the log (a real race: our
    write then carries a stale `ifRevisionID` and the lake refuses it)."""

    def __init__(self, inner: Lake, wins: int) -> None:
        super().__init__(inner)
        self.wins = wins

    async def mutate(self, mutations: Sequence[Mutation], **kwargs: Any) -> MutationResult:
        if self.wins > 0:
            self.wins -= 1
            await self.inner.mutate([m.patch(LOG, set={"message": f"edited {self.wins}"})])
        return await super().mutate(mutations, **kwargs)


async def _seed_log(lake: Lake) -> None:
    await lake.mutate(
        [
            m.create(
                {
                    "_id": LOG,
                    "_type": "errorLog",
                    "type": "reconciliation",
                    "severity": "high",
                    "message": "drift",
                    "resolved": False,
                    "createdAt": "2026-11-21T12:00:00.000Z",
                }
            )
        ]
    )


async def test_a_resolve_that_loses_races_tries_again_and_resolves(
    lake: Lake, clock: ManualClock
) -> None:
    await _seed_log(lake)
    store = RivalStore(lake, wins=GUARDED_WRITE_ATTEMPTS - 1)
    log, changed = await resolve_error_log(store, LOG, actor="ann", now=clock())
    assert changed and log.resolved and log.resolved_by == "ann"
    assert store.calls["write"] == GUARDED_WRITE_ATTEMPTS
    (doc,) = await lake.get_documents([LOG])
    assert doc is not None and doc["resolvedBy"] == "ann" and doc["message"] == "edited 0"


async def test_a_resolve_that_keeps_losing_gives_up_and_writes_nothing(
    lake: Lake, clock: ManualClock
) -> None:
    await _seed_log(lake)
    store = RivalStore(lake, wins=GUARDED_WRITE_ATTEMPTS)
    with pytest.raises(ConflictRetriesExhausted) as raised:
        await resolve_error_log(store, LOG, actor="ann", now=clock())
    assert raised.value.attempts == GUARDED_WRITE_ATTEMPTS
    assert raised.value.code == "conflict_retries_exhausted"
    (doc,) = await lake.get_documents([LOG])
    assert doc is not None and doc["resolved"] is False and "resolvedBy" not in doc


async def test_a_missing_log_is_not_retried(lake: Lake, clock: ManualClock) -> None:
    store = CountingStore(lake)
    with pytest.raises(ErrorLogNotFound):
        await resolve_error_log(store, "inventory.error.none", actor="ann", now=clock())
    assert store.calls["read"] == 1 and store.calls["write"] == 0
