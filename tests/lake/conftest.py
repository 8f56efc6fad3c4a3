from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cms_client.lake import Lake
from tests.support.clock import ManualClock


@pytest.fixture
async def lake(clock: ManualClock) -> AsyncIterator[Lake]:
    store = Lake(None, clock=clock)
    yield store
    await store.aclose()
