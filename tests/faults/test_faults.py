"""Every operation, with the store failing at each of its calls in turn.

For each operation x call x fault (500, 429, timeout, lost answer after a commit; "lost-
unretried" is the lost answer with a client that does not retry, so the error reaches the
caller), the caller sends the request until it gets a definite answer and then once more,
as a storefront, Stripe or a scheduler would. Afterwards the state is exactly what one
successful request leaves (no oversell, no double effect, nothing lost) and the ledger
agrees with the counters and the reservations (`invariants.check_invariants`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from cms_client.errors import StoreError
from cms_client.lake import Lake
from service.engine import InventoryError
from tests.faults.invariants import Cell, check_invariants, snapshot_counters
from tests.faults.scenarios import SCENARIOS, Act, Scenario, Shop, WebhookRefused, prepare
from tests.faults.world import FAULT_KINDS, Call, FaultKind, World
from tests.support.clock import ManualClock


def _calls() -> list[Any]:
    """(scenario, n-th call of the act) for every call the act makes."""
    cases = []
    for name, scenario in SCENARIOS.items():
        for index, endpoint in enumerate(scenario.calls):
            number = scenario.calls[: index + 1].count(endpoint)
            cases.append(
                pytest.param(name, Call(endpoint, number), id=f"{name}-{index + 1}-{endpoint}")
            )
    return cases


CASES = _calls()


def open_world(lake: Lake, clock: ManualClock, kind: FaultKind | None) -> World:
    return World(lake, clock, client_retries=kind != "lost-unretried")


async def send_until_answered(act: Act) -> list[object]:
    """The caller's side: retry a store error once, then deliver the request again."""
    answers: list[object] = []
    for _ in range(2):
        try:
            answers.append(await act())
            break
        except (StoreError, WebhookRefused) as exc:
            answers.append(exc)  # no definite answer: send it again
        except InventoryError as exc:
            answers.append(exc)  # a definite refusal; the test checks it says "done"
            break
    try:
        answers.append(await act())
    except InventoryError as exc:
        answers.append(exc)
    return answers


async def ledger_types(lake: Lake) -> Counter[str]:
    entries = await lake.query('*[_type == "inventoryTransaction"]', {}, perspective="raw")
    return Counter(entry["type"] for entry in entries)


async def check_outcome(
    lake: Lake, scenario: Scenario, seeded: dict[Cell, tuple[int, int]], before: Counter[str]
) -> None:
    await check_invariants(lake, seeded)
    counters = await snapshot_counters(lake)
    for cell, expected in scenario.expected.counters.items():
        assert counters[cell] == expected, cell
    for session, status in scenario.expected.statuses.items():
        (doc,) = await lake.get_documents([f"inventory.reservation.{session}"])
        assert doc is not None and doc["status"] == status, session
    written = await ledger_types(lake) - before
    assert written == Counter(scenario.expected.entries)


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_each_operation_makes_the_calls_the_fault_tests_walk(
    lake: Lake, clock: ManualClock, name: str
) -> None:
    world = open_world(lake, clock, None)
    try:
        shop = Shop(world)
        await shop.seed()
        act = await prepare(shop, name)
        world.arm()
        await act()
        assert world.sequence == SCENARIOS[name].calls
    finally:
        await world.aclose()


@pytest.mark.parametrize("kind", FAULT_KINDS)
@pytest.mark.parametrize(("name", "call"), CASES)
async def test_a_fault_at_any_call_leaves_exactly_one_effect(
    lake: Lake, clock: ManualClock, name: str, call: Call, kind: FaultKind
) -> None:
    scenario = SCENARIOS[name]
    world = open_world(lake, clock, kind)
    try:
        shop = Shop(world)
        await shop.seed()
        seeded = await snapshot_counters(lake)
        act = await prepare(shop, name)
        before = await ledger_types(lake)
        world.arm(call, kind)

        answers = await send_until_answered(act)

        assert world.injected == [call]
        assert not isinstance(answers[-1], StoreError | WebhookRefused), answers
        for answer in answers:
            if isinstance(answer, InventoryError):
                assert answer.code in scenario.done_codes, answer
        if kind != "lost-unretried":
            # The client's and the engine's own retries hide the fault: the first call gets
            # the original answer, even when its first transaction's answer was lost.
            assert scenario.original(answers[0]), answers[0]
        await check_outcome(lake, scenario, seeded, before)
    finally:
        await world.aclose()
