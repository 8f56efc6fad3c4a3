from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
import respx

from cms_client.sanity_client import SanityClient
from tests.client.fakes import API, FakeTime, make_settings


@pytest.fixture(autouse=True)
def _no_sanity_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("SANITY_"):
            monkeypatch.delenv(name)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def sanity() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=API, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def client(fake_time: FakeTime, sanity: respx.MockRouter) -> AsyncIterator[SanityClient]:
    store = SanityClient(make_settings(), sleep=fake_time.sleep, monotonic=fake_time.monotonic)
    yield store
    await store.aclose()
