"""The executor's retry policy: bounded, jittered, injected; and lost responses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from random import Random
from typing import Any

import pytest

from cms_client.errors import RevisionConflict, StoreUnavailable
from cms_client.store import Mutation, MutationResult
from service.engine import ConflictRetriesExhausted, EngineSettings, Inventory
from tests.engine.support import CountingStore, doc, ledger, line
from tests.support.clock import ManualClock


class ConflictingStore(CountingStore):
    """Refuses the first `conflicts` transactions as if another writer had won."""

    def __init__(self, inner: Any, conflicts: int, *, apply_first: bool = False) -> None:
        super().__init__(inner)
        self.conflicts = conflicts
        self.apply_first = apply_first
        self.idempotent_flags: list[bool] = []

    async def mutate(self, mutations: Sequence[Mutation], **kwargs: Any) -> MutationResult:
        self.idempotent_flags.append(kwargs.get("idempotent", False))
        self.calls["write"] += 1
        if self.conflicts > 0:
            self.conflicts -= 1
            if self.apply_first:
                # The first try committed, its response was lost, and the client's retry of
                # the same guarded transaction met the revision it had itself written.
                self.apply_first = False
                await self.inner.mutate(mutations, **kwargs)
            raise RevisionConflict(
                "conflict", index=0, document_id="x", current_revision="b", expected_revision="a"
            )
        return await self.inner.mutate(mutations, **kwargs)


def engine(
    store: Any, clock: ManualClock, waits: list[float], attempts: int = 4, **settings: Any
) -> Inventory:
    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    config = EngineSettings(max_attempts=attempts, backoff_base=0.1, backoff_max=0.3, **settings)
    return Inventory(store, clock=clock, settings=config, sleep=sleep, rng=Random(5))


async def test_conflicts_are_retried_on_a_fresh_read_with_growing_jittered_waits(
    lake: Any, clock: ManualClock
) -> None:
    # Without the contention habits (tests/engine/test_contention.py has them).
    store = ConflictingStore(lake, conflicts=3)
    waits: list[float] = []
    shop = engine(store, clock, waits, contention_window=timedelta(0))
    result = await shop.reserve("cs_1", [line("railcam", 2)])
    assert not result.replayed
    assert store.calls == {"query": 1, "read": 4, "write": 4}
    assert len(waits) == 3
    assert 0 <= waits[0] <= 0.1 and 0 <= waits[1] <= 0.2 and 0 <= waits[2] <= 0.3
    assert all(store.idempotent_flags), "guarded transactions may be retried by the client"


async def test_retries_are_bounded(lake: Any, clock: ManualClock) -> None:
    store = ConflictingStore(lake, conflicts=100)
    waits: list[float] = []
    await engine(lake, clock, []).reserve("cs_1", [line("railcam", 1)])
    with pytest.raises(ConflictRetriesExhausted) as caught:
        await engine(store, clock, waits, attempts=4).commit("cs_1", "pi")
    assert caught.value.code == "conflict_retries_exhausted" and caught.value.attempts == 4
    assert (await doc(lake, "prod-railcam"))["stockQuantity"] == 5, "nothing was written"


async def test_a_commit_whose_response_was_lost_is_not_applied_twice(
    lake: Any, clock: ManualClock
) -> None:
    await engine(lake, clock, []).reserve("cs_1", [line("railcam", 2)])
    store = ConflictingStore(lake, conflicts=1, apply_first=True)
    result = await engine(store, clock, []).commit("cs_1", "pi_1")
    assert not result.replayed, "the first try's outcome is the answer"
    assert (await doc(lake, "prod-railcam"))["stockQuantity"] == 3
    assert len(await ledger(lake, type="sale")) == 1


async def test_store_outages_reach_the_caller(lake: Any, clock: ManualClock) -> None:
    class Down(CountingStore):
        async def mutate(self, mutations: Sequence[Mutation], **kwargs: Any) -> MutationResult:
            raise StoreUnavailable("503")

    with pytest.raises(StoreUnavailable):
        await engine(Down(lake), clock, []).reserve("cs_1", [line("railcam")])
