from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cms_client.clock import Clock
from cms_client.lake import Lake
from tests.support.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def lake(clock: Clock) -> AsyncIterator[Lake]:
    """The one embedded lake of the suite: in memory, empty, on the test's clock. Folders
    that need documents seed it in their own fixtures (e.g. tests/engine's `catalogue`)."""
    store = Lake(None, clock=clock)
    yield store
    await store.aclose()
