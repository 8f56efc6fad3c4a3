from __future__ import annotations

import asyncio
from random import Random

import pytest

from cms_client.lake import Lake
from service.engine import EngineSettings, Inventory
from tests.engine.support import CountingStore, seed
from tests.support.clock import ManualClock


async def no_wait(_seconds: float) -> None:
    """Retries wait no real time (still yielding, so other coroutines get to run)."""
    await asyncio.sleep(0)


@pytest.fixture
def settings() -> EngineSettings:
    return EngineSettings(reconcile_settle=0, max_attempts=40)


@pytest.fixture(autouse=True)
async def catalogue(lake: Lake) -> None:
    """Every engine test starts from the same seeded catalogue."""
    await seed(lake)


@pytest.fixture
def store(lake: Lake) -> CountingStore:
    return CountingStore(lake)


@pytest.fixture
def inventory(store: CountingStore, clock: ManualClock, settings: EngineSettings) -> Inventory:
    return Inventory(store, clock=clock, settings=settings, sleep=no_wait, rng=Random(7))
