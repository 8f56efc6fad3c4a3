"""Retry policy: reads and 429s retry; a mutation replays after a 5xx only when idempotent.

Every test counts attempts through respx and waits through the fake sleep; nothing sleeps.
"""

from __future__ import annotations

import httpx
import pytest
import respx

from cms_client.errors import BadRequest, RateLimited, RevisionConflict, StoreUnavailable
from cms_client.sanity_client import SanityClient
from cms_client.store import Mutation
from tests.client.fakes import FakeTime, make_settings, revision_mismatch_body

OK_DOCS = httpx.Response(200, json={"documents": [{"_id": "a", "_type": "t"}], "omitted": []})
OK_MUTATE = httpx.Response(200, json={"transactionId": "t1", "results": []})
DOWN = httpx.Response(503, json={"error": {"description": "Service unavailable"}})
PATCH: list[Mutation] = [{"patch": {"id": "a", "inc": {"stock": 1}}}]


def limited(seconds: str | None = None) -> httpx.Response:
    headers = {"Retry-After": seconds} if seconds is not None else {}
    return httpx.Response(
        429, json={"error": {"description": "Too many requests"}}, headers=headers
    )


async def test_reads_retry_on_5xx_and_timeouts(
    client: SanityClient, sanity: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = sanity.get(path__startswith="/doc/").mock(
        side_effect=[DOWN, httpx.ReadTimeout("slow"), OK_DOCS]
    )

    got = await client.get_documents(["a"])

    assert got == [{"_id": "a", "_type": "t"}]
    assert route.call_count == 3
    assert len(fake_time.sleeps) == 2
    # Full jitter within a growing window: [0.05, 0.25] then [0.05, 0.5].
    assert 0.05 <= fake_time.sleeps[0] <= 0.25
    assert 0.05 <= fake_time.sleeps[1] <= 0.5


async def test_query_retries_on_429_waiting_what_retry_after_says(
    client: SanityClient, sanity: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = sanity.get("/query/production").mock(
        side_effect=[limited("2"), httpx.Response(200, json={"result": 7})]
    )
    assert await client.query("count(*)") == 7
    assert route.call_count == 2
    assert fake_time.sleeps == [2.0]


async def test_ratelimit_reset_is_honoured_when_retry_after_is_absent(
    client: SanityClient, sanity: respx.MockRouter, fake_time: FakeTime
) -> None:
    sanity.get("/query/production").mock(
        side_effect=[
            httpx.Response(429, headers={"ratelimit-reset": "1"}),
            httpx.Response(200, json={"result": 1}),
        ]
    )
    assert await client.query("1") == 1
    assert fake_time.sleeps == [1.0]


async def test_429_without_any_hint_waits_at_least_a_second(
    client: SanityClient, sanity: respx.MockRouter, fake_time: FakeTime
) -> None:
    sanity.get("/query/production").mock(
        side_effect=[limited(), httpx.Response(200, json={"result": 1})]
    )
    assert await client.query("1") == 1
    assert len(fake_time.sleeps) == 1
    assert fake_time.sleeps[0] >= 1.0


async def test_attempts_are_bounded(
    client: SanityClient, sanity: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = sanity.get(path__startswith="/doc/").mock(return_value=DOWN)
    with pytest.raises(StoreUnavailable):
        await client.get_documents(["a"])
    assert route.call_count == 4  # SANITY_RETRY_ATTEMPTS
    assert len(fake_time.sleeps) == 3


async def test_total_retry_time_is_bounded(
    client: SanityClient, sanity: respx.MockRouter, fake_time: FakeTime
) -> None:
    # Budget 10 s: wait 4 (t=4), wait 4 (t=8); a third wait would end at 12, so stop.
    route = sanity.get("/query/production").mock(return_value=limited("4"))
    with pytest.raises(RateLimited) as caught:
        await client.query("1")
    assert route.call_count == 3
    assert fake_time.sleeps == [4.0, 4.0]
    assert caught.value.retry_after == 4.0


async def test_a_wait_longer_than_the_budget_is_not_started(
    client: SanityClient, sanity: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = sanity.get("/query/production").mock(return_value=limited("30"))
    with pytest.raises(RateLimited) as caught:
        await client.query("1")
    assert route.call_count == 1
    assert fake_time.sleeps == []
    # The caller still learns how long Sanity asked it to wait.
    assert caught.value.retry_after == 30.0


@pytest.mark.parametrize(
    "failure", [DOWN, httpx.ReadTimeout("slow"), httpx.ConnectError("reset")], ids=str
)
async def test_a_mutation_is_not_replayed_after_a_5xx_or_timeout(
    client: SanityClient,
    sanity: respx.MockRouter,
    fake_time: FakeTime,
    failure: httpx.Response | Exception,
) -> None:
    route = sanity.post("/mutate/production").mock(side_effect=[failure, OK_MUTATE])
    with pytest.raises(StoreUnavailable):
        await client.mutate(PATCH)
    assert route.call_count == 1
    assert fake_time.sleeps == []


async def test_an_idempotent_mutation_is_replayed_after_a_5xx_or_timeout(
    client: SanityClient, sanity: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = sanity.post("/mutate/production").mock(
        side_effect=[DOWN, httpx.ReadTimeout("slow"), OK_MUTATE]
    )
    guarded: list[Mutation] = [{"patch": {"id": "a", "ifRevisionID": "r1", "inc": {"stock": 1}}}]

    result = await client.mutate(guarded, idempotent=True)

    assert result.transaction_id == "t1"
    assert route.call_count == 3
    assert [call.request.content for call in route.calls] == [route.calls[0].request.content] * 3


async def test_a_dry_run_is_replayed_since_it_writes_nothing(
    client: SanityClient, sanity: respx.MockRouter
) -> None:
    route = sanity.post("/mutate/production").mock(side_effect=[DOWN, OK_MUTATE])
    await client.mutate(PATCH, dry_run=True)
    assert route.call_count == 2


async def test_a_429_mutation_is_always_retried_honouring_retry_after(
    client: SanityClient, sanity: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = sanity.post("/mutate/production").mock(
        side_effect=[limited("1.5"), limited("0.5"), OK_MUTATE]
    )
    result = await client.mutate(PATCH)
    assert result.transaction_id == "t1"
    assert route.call_count == 3
    assert fake_time.sleeps == [1.5, 0.5]


async def test_refusals_are_never_retried(
    client: SanityClient, sanity: respx.MockRouter, fake_time: FakeTime
) -> None:
    mutate = sanity.post("/mutate/production").respond(
        409, json=revision_mismatch_body("a", "r2", "r1")
    )
    query = sanity.get("/query/production").respond(400, json={"error": {"description": "bad"}})

    with pytest.raises(RevisionConflict):
        await client.mutate(PATCH, idempotent=True)
    with pytest.raises(BadRequest):
        await client.query("*[")

    assert (mutate.call_count, query.call_count) == (1, 1)
    assert fake_time.sleeps == []


async def test_one_attempt_setting_disables_retries(
    fake_time: FakeTime, sanity: respx.MockRouter
) -> None:
    route = sanity.get(path__startswith="/doc/").mock(return_value=DOWN)
    async with SanityClient(
        make_settings(retry_attempts=1), sleep=fake_time.sleep, monotonic=fake_time.monotonic
    ) as store:
        with pytest.raises(StoreUnavailable):
            await store.get_documents(["a"])
    assert route.call_count == 1
