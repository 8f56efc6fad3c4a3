"""Group commit: one instance's concurrent reserves of the same products share a transaction,
and every buyer still gets exactly the answer a reserve of their own would have given."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from random import Random
from typing import Any

import pytest

from cms_client.errors import StoreUnavailable
from cms_client.store import Mutation, MutationResult
from schemas.operations import LineRequest, ReserveResult
from service.config import ServiceSettings
from service.engine import (
    EngineSettings,
    IdempotencyKeyReused,
    InsufficientStock,
    Inventory,
    InventoryError,
    ReservationConflict,
)
from tests.engine.conftest import no_wait
from tests.engine.support import CountingStore, doc, ledger, line, seed
from tests.support.clock import ManualClock

HOT = {"_id": "hot", "_type": "product", "title": "Hot", "slug": {"current": "hot"}}


class HookedStore(CountingStore):
    """Runs `before_write` once, just before the next mutate reaches the store, or makes the
    next mutate commit and then lose its answer."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.before_write: Callable[[], Awaitable[object]] | None = None
        self.lose_next_answer = False

    async def mutate(self, mutations: Sequence[Mutation], **kwargs: Any) -> MutationResult:
        hook, self.before_write = self.before_write, None
        if hook is not None:
            await hook()
        result = await super().mutate(mutations, **kwargs)
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise StoreUnavailable("the answer was lost after the commit")
        return result


@pytest.fixture
def hooked(store: CountingStore) -> HookedStore:
    return HookedStore(store.inner)


def engine(store: Any, clock: ManualClock, **settings: Any) -> Inventory:
    return Inventory(
        store,
        clock=clock,
        settings=EngineSettings(max_attempts=40, **settings),
        sleep=no_wait,
        rng=Random(3),
    )


async def stock(store: Any, units: int) -> None:
    await seed(store, {**HOT, "stockQuantity": units})


async def attempt(
    inventory: Inventory, session: str, quantity: int = 1, **kw: Any
) -> ReserveResult | InventoryError:
    try:
        return await inventory.reserve(session, [line("hot", quantity)], **kw)
    except InventoryError as exc:
        return exc


async def test_100_concurrent_reserves_on_a_hot_product_share_a_few_transactions(
    hooked: HookedStore, clock: ManualClock
) -> None:
    await stock(hooked, 10)
    inventory = engine(hooked, clock)
    hooked.reset()

    outcomes = await asyncio.gather(*(attempt(inventory, f"cs_{n}") for n in range(100)))

    won = [o for o in outcomes if isinstance(o, ReserveResult)]
    assert len(won) == 10
    assert all(isinstance(o, InsufficientStock) for o in outcomes if o not in won)
    # Each winner got its own answer, for its own session.
    assert sorted(r.session_id for r in won) == sorted({r.session_id for r in won})
    assert all(r.reservation_id.endswith(r.session_id) for r in won)
    hot = await doc(hooked, "hot")
    assert (hot["stockQuantity"], hot["reservedQuantity"]) == (10, 10)
    entries = await ledger(hooked, productId="hot")
    assert sorted(e["referenceId"] for e in entries) == sorted(r.session_id for r in won)
    for result in won:
        reservation = await inventory.reservation(result.session_id)
        assert reservation is not None and reservation.status == "active"
    # 100 reserves, one transaction for all 10 winners (groups of at most 50; the second
    # group finds the product sold out and writes nothing).
    assert hooked.calls["write"] == 1
    assert inventory.executor.transactions == 1
    assert inventory.reserve_groups.batches == 2


async def test_without_coalescing_every_winner_writes_its_own_transaction(
    hooked: HookedStore, clock: ManualClock
) -> None:
    await stock(hooked, 10)
    inventory = engine(hooked, clock, coalesce=False)
    hooked.reset()

    outcomes = await asyncio.gather(*(attempt(inventory, f"cs_{n}") for n in range(100)))

    assert sum(isinstance(o, ReserveResult) for o in outcomes) == 10
    assert hooked.calls["write"] == 10
    assert inventory.reserve_groups.batches == 0


async def test_a_big_order_that_does_not_fit_fails_alone_in_its_group(
    hooked: HookedStore, clock: ManualClock
) -> None:
    await stock(hooked, 5)
    inventory = engine(hooked, clock)
    hooked.reset()

    small, big, smaller, last = await asyncio.gather(
        attempt(inventory, "cs_a", 2),
        attempt(inventory, "cs_b", 4),
        attempt(inventory, "cs_c", 1),
        attempt(inventory, "cs_d", 2),
    )

    # Planned in arrival order against the running counters: 2 held, 4 of the 3 left
    # refused, then 1 and 2 fit.
    assert isinstance(small, ReserveResult) and small.lines[0].available == 5
    assert isinstance(big, InsufficientStock)
    assert (big.lines[0].requested, big.lines[0].available) == (4, 3)
    assert isinstance(smaller, ReserveResult) and smaller.lines[0].available == 3
    assert isinstance(last, ReserveResult) and last.lines[0].available == 2
    assert hooked.calls["write"] == 1
    hot = await doc(hooked, "hot")
    assert hot["reservedQuantity"] == 5
    entries = await ledger(hooked, productId="hot")
    assert [(e["referenceId"], e["newReservedQuantity"]) for e in entries] == [
        ("cs_a", 2),
        ("cs_c", 3),
        ("cs_d", 5),
    ]
    assert await inventory.reservation("cs_b") is None


async def test_a_conflict_in_the_middle_of_a_group_replans_the_whole_group(
    hooked: HookedStore, clock: ManualClock
) -> None:
    await stock(hooked, 10)
    inventory = engine(hooked, clock)
    other_instance = engine(hooked, clock)

    async def someone_else_takes_five() -> None:
        await other_instance.reserve("cs_other", [line("hot", 5)])

    # The group is planned on 10 units; before its transaction lands, another instance
    # takes 5. The guard refuses the group, which is read and planned again.
    hooked.before_write = someone_else_takes_five
    outcomes = await asyncio.gather(*(attempt(inventory, f"cs_{n}") for n in range(8)))

    won = [o for o in outcomes if isinstance(o, ReserveResult)]
    assert [o.session_id for o in won] == ["cs_0", "cs_1", "cs_2", "cs_3", "cs_4"]
    assert all(isinstance(o, InsufficientStock) for o in outcomes[5:])
    assert inventory.executor.conflicts == 1
    hot = await doc(hooked, "hot")
    assert (hot["stockQuantity"], hot["reservedQuantity"]) == (10, 10)
    entries = await ledger(hooked, productId="hot")
    assert Counter(e["referenceId"] for e in entries) == Counter(
        ["cs_other", "cs_0", "cs_1", "cs_2", "cs_3", "cs_4"]
    )


async def test_duplicates_inside_one_group_are_replays_or_conflicts(
    hooked: HookedStore, clock: ManualClock
) -> None:
    await stock(hooked, 10)
    inventory = engine(hooked, clock)
    hooked.reset()

    first, again, other_lines, keyed, keyed_again, key_reused = await asyncio.gather(
        attempt(inventory, "cs_dup", 2),
        attempt(inventory, "cs_dup", 2),
        attempt(inventory, "cs_dup", 3),
        attempt(inventory, "cs_key", 1, idempotency_keys=["key-1"]),
        attempt(inventory, "cs_key", 1, idempotency_keys=["key-1"]),
        attempt(inventory, "cs_other", 1, idempotency_keys=["key-1"]),
    )

    assert isinstance(first, ReserveResult) and not first.replayed
    assert isinstance(again, ReserveResult) and again.replayed
    assert again.expires_at == first.expires_at
    assert isinstance(other_lines, ReservationConflict)
    assert isinstance(keyed, ReserveResult) and not keyed.replayed
    assert isinstance(keyed_again, ReserveResult) and keyed_again.replayed
    assert isinstance(key_reused, IdempotencyKeyReused)
    assert hooked.calls["write"] == 1
    assert (await doc(hooked, "hot"))["reservedQuantity"] == 3
    assert len(await ledger(hooked, productId="hot")) == 2


async def test_a_lost_answer_to_a_group_is_read_back_and_answered_truthfully(
    hooked: HookedStore, clock: ManualClock
) -> None:
    await stock(hooked, 4)
    inventory = engine(hooked, clock)
    hooked.lose_next_answer = True

    outcomes = await asyncio.gather(
        *(attempt(inventory, f"cs_{n}", 1) for n in range(3)), return_exceptions=True
    )

    # The group committed but nobody heard: the engine reads back that its transaction
    # applied, so every member gets its original answer (design rule 11)...
    assert all(isinstance(o, ReserveResult) and not o.replayed for o in outcomes), outcomes
    # ...and a storefront that retries anyway is answered from what did commit.
    retries = await asyncio.gather(*(attempt(inventory, f"cs_{n}", 1) for n in range(3)))
    assert all(isinstance(r, ReserveResult) and r.replayed for r in retries)
    assert (await doc(hooked, "hot"))["reservedQuantity"] == 3
    assert len(await ledger(hooked, productId="hot")) == 3


async def test_a_short_member_reclaims_overdue_holds_for_the_group(
    hooked: HookedStore, clock: ManualClock
) -> None:
    await stock(hooked, 3)
    inventory = engine(hooked, clock)
    await inventory.reserve("cs_old", [line("hot", 3)])
    clock.advance(minutes=45)  # past its 30 minutes and the 2 minutes of grace

    outcomes = await asyncio.gather(*(attempt(inventory, f"cs_{n}") for n in range(5)))

    won = [o for o in outcomes if isinstance(o, ReserveResult)]
    assert len(won) == 3
    assert won[0].reclaimed == ["cs_old"]
    old = await inventory.reservation("cs_old")
    assert old is not None and old.status == "expired"
    assert (await doc(hooked, "hot"))["reservedQuantity"] == 3
    expiries = await ledger(hooked, productId="hot", type="expiry")
    assert len(expiries) == 1


async def test_a_cancelled_request_does_not_take_its_group_down(
    hooked: HookedStore, clock: ManualClock
) -> None:
    await stock(hooked, 10)
    inventory = engine(hooked, clock)
    tasks = [asyncio.ensure_future(attempt(inventory, f"cs_{n}")) for n in range(5)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    tasks[0].cancel()  # the request carrying the group hangs up mid-transaction

    done = await asyncio.gather(*tasks, return_exceptions=True)

    assert isinstance(done[0], asyncio.CancelledError)
    assert all(isinstance(r, ReserveResult) for r in done[1:])
    # The carrier's own hold was in the transaction: its retry is a replay.
    retry = await attempt(inventory, "cs_0")
    assert isinstance(retry, ReserveResult) and retry.replayed
    assert (await doc(hooked, "hot"))["reservedQuantity"] == 5


async def test_carts_with_other_products_are_grouped_apart_and_stay_exact(
    hooked: HookedStore, clock: ManualClock
) -> None:
    await stock(hooked, 6)
    inventory = engine(hooked, clock)

    async def cart(n: int) -> ReserveResult | InventoryError:
        lines: list[LineRequest] = [line("hot", 1)]
        if n % 2:
            lines.append(line("railcam", 1))
        try:
            return await inventory.reserve(f"cs_{n}", lines)
        except InventoryError as exc:
            return exc

    outcomes = await asyncio.gather(*(cart(n) for n in range(12)))

    won = [o for o in outcomes if isinstance(o, ReserveResult)]
    assert len(won) == 6
    hot = await doc(hooked, "hot")
    railcam = await doc(hooked, "prod-railcam")
    with_railcam = sum(len(r.lines) == 2 for r in won)
    assert hot["reservedQuantity"] == 6
    assert railcam["reservedQuantity"] == with_railcam <= 5


def test_the_environment_turns_group_commit_and_the_warm_cache_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert (EngineSettings().coalesce, EngineSettings().warm_cache) == (True, True)
    monkeypatch.setenv("STOCKSYNC_COALESCE", "off")
    monkeypatch.setenv("STOCKSYNC_WARM_CACHE", "false")
    settings = ServiceSettings(_env_file=None).engine_settings()
    assert (settings.coalesce, settings.warm_cache) == (False, False)
