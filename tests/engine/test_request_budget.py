"""Store round trips per operation (design budget: one read + one write, status one read; a
warm reserve or release, on documents this instance wrote last, one write).

Run with `-s` to print the table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from random import Random
from typing import Any

import pytest

from service.engine import EngineSettings, Inventory
from tests.engine.conftest import no_wait
from tests.engine.support import CountingStore, line
from tests.support.clock import ManualClock

FIGURES: dict[str, dict[str, int]] = {}


async def measure(
    store: CountingStore, name: str, call: Callable[[], Awaitable[Any]]
) -> dict[str, int]:
    store.reset()
    await call()
    FIGURES[name] = dict(store.calls)
    return FIGURES[name]


@pytest.fixture
def fresh(store: CountingStore, clock: ManualClock) -> Callable[[], Inventory]:
    """Another instance on the same store: nothing cached (a cold serverless start)."""

    def make() -> Inventory:
        return Inventory(
            store, clock=clock, settings=EngineSettings(), sleep=no_wait, rng=Random(1)
        )

    return make


async def test_requests_per_operation(store: CountingStore, fresh: Callable[[], Inventory]) -> None:
    shop = fresh()
    lines = [line("railcam", 1), line("halloween-tee", 1, "s")]
    assert await measure(store, "reserve, cold (slugs)", lambda: shop.reserve("cs_1", lines)) == {
        "query": 1,
        "read": 1,
        "write": 1,
    }
    # This instance wrote both products last: it writes without reading (warm cache).
    assert await measure(store, "reserve, warm", lambda: shop.reserve("cs_2", lines)) == {
        "write": 1,
    }
    assert await measure(store, "release, warm", lambda: shop.release("cs_1")) == {
        "write": 1,
    }
    assert await measure(store, "commit, warm", lambda: shop.commit("cs_2", "pi")) == {
        "read": 1,
        "write": 1,
    }
    await shop.reserve("cs_3", lines)
    await shop.reserve("cs_4", lines)
    webhook = fresh()
    assert await measure(store, "commit, cold", lambda: webhook.commit("cs_3", "pi")) == {
        "read": 2,
        "write": 1,
    }
    assert await measure(store, "release, cold", lambda: fresh().release("cs_4")) == {
        "read": 2,
        "write": 1,
    }
    assert await measure(
        store, "restore, warm", lambda: webhook.restore("cs_3", reference="re_1")
    ) == {"read": 1, "write": 1}
    assert await measure(store, "replayed commit", lambda: webhook.commit("cs_3", "pi")) == {
        "read": 1
    }
    names = ["railcam", "halloween-tee", "railways-and-sleepers"]
    display = fresh()
    assert await measure(store, "status, cold", lambda: display.status(names)) == {"query": 1}
    assert await measure(store, "status, warm", lambda: display.status(names)) == {"read": 1}
    width = max(map(len, FIGURES))
    print("\nstore requests per operation")
    for name, calls in FIGURES.items():
        print(f"  {name:<{width}}  " + ", ".join(f"{k} {v}" for k, v in sorted(calls.items())))
