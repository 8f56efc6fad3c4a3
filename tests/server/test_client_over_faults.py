"""`SanityClient` against injected trouble: what the production code above it gets to see."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from cms_client import mutations as m
from cms_client.errors import DocumentExists, RateLimited, StoreUnavailable
from cms_client.faults import Fault, FaultPlan
from cms_client.lake import Lake
from cms_client.sanity_client import SanityClient
from cms_client.sanity_settings import SanitySettings
from cms_client.server import create_lake_app
from tests.server.fakes import ManualMonotonic, RecordingSleep

PRODUCT = {"_id": "p1", "_type": "product", "stock": 4}


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def client_for(
    lake: Lake, sleep: RecordingSleep
) -> AsyncIterator[Callable[..., SanityClient]]:
    opened: list[tuple[SanityClient, httpx.AsyncClient]] = []

    def make(plan: FaultPlan, *, attempts: int = 3) -> SanityClient:
        app = create_lake_app(lake, faults=plan)
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://lake.test"
        )
        settings = SanitySettings(
            project_id="faults",
            api_host="http://lake.test",
            retry_attempts=attempts,
            mutations_per_second=1_000_000,
        )
        client = SanityClient(settings, http=http, sleep=sleep, monotonic=ManualMonotonic())
        opened.append((client, http))
        return client

    yield make
    for client, http in opened:
        await client.aclose()
        await http.aclose()


async def test_a_lost_answer_reaches_the_client_as_store_unavailable_yet_committed(
    client_for, lake: Lake
) -> None:
    client = client_for(FaultPlan.scripted(("mutate", 1, Fault.COMMIT_THEN_DROP)))

    with pytest.raises(StoreUnavailable):
        await client.mutate([m.create(PRODUCT)])

    assert (await lake.get_documents(["p1"]))[0] is not None


async def test_an_idempotent_create_replayed_after_a_lost_answer_finds_its_own_write(
    client_for, lake: Lake
) -> None:
    client = client_for(FaultPlan.scripted(("mutate", 1, Fault.COMMIT_THEN_ERROR)))

    # The replay of a create of a fixed id is refused: the caller reads it back as success.
    with pytest.raises(DocumentExists):
        await client.mutate([m.create(PRODUCT)], idempotent=True)

    [stored] = await client.get_documents(["p1"])
    assert stored is not None and stored["stock"] == 4


async def test_a_non_idempotent_mutation_is_not_replayed_after_a_500(
    client_for, lake: Lake
) -> None:
    plan = FaultPlan.scripted(("mutate", 1, Fault.COMMIT_THEN_ERROR))
    client = client_for(plan)

    with pytest.raises(StoreUnavailable):
        await client.mutate([m.create(PRODUCT)])

    assert [f.number for f in plan.injected] == [1]
    assert plan.decide("mutate") is None  # the client sent exactly one mutate request


async def test_an_injected_429_is_retried_after_the_advised_wait(
    client_for, lake: Lake, sleep: RecordingSleep
) -> None:
    plan = FaultPlan(script={("mutate", 1): Fault.RATE_LIMITED}, retry_after_seconds=2)
    client = client_for(plan)

    result = await client.mutate([m.create(PRODUCT)])

    assert result.results[0].operation == "create"
    assert 2.0 in sleep.calls
    assert (await lake.get_documents(["p1"]))[0] is not None


async def test_reads_retry_through_injected_500s(client_for, lake: Lake) -> None:
    await lake.mutate([m.create(PRODUCT)])
    plan = FaultPlan.scripted(("doc", 1, Fault.SERVER_ERROR), ("doc", 2, Fault.SERVER_ERROR))
    client = client_for(plan)

    [stored] = await client.get_documents(["p1"])

    assert stored is not None and stored["stock"] == 4


async def test_persistent_429s_end_as_rate_limited(client_for) -> None:
    plan = FaultPlan(rate_limit_share=1.0, endpoints=frozenset({"query"}))
    client = client_for(plan, attempts=2)

    with pytest.raises(RateLimited) as caught:
        await client.query("count(*)")

    assert caught.value.retry_after == 1.0
