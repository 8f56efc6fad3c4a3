from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cms_client.lake import Lake


@pytest.fixture
async def lake() -> AsyncIterator[Lake]:
    store = Lake(None)
    yield store
    await store.aclose()
