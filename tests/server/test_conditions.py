"""Imitated production trouble: latency, injected 500/429, lost answers, the mutate limit."""

from __future__ import annotations

import httpx
import pytest

from cms_client.faults import Fault, FaultPlan
from cms_client.lake import Lake
from cms_client.server import create_lake_app
from tests.server.conftest import API, mutate
from tests.server.fakes import ManualMonotonic, RecordingSleep


def product(doc_id: str, stock: int = 5) -> dict[str, object]:
    return {"_id": doc_id, "_type": "product", "stock": stock}


async def test_latency_is_slept_once_per_request_with_the_injected_sleep(serve) -> None:
    sleep = RecordingSleep()
    client = serve(latency_ms=120, sleep=sleep)

    await mutate(client, [{"create": product("p1")}])
    await client.get(f"{API}/doc/production/p1")
    await client.get(f"{API}/query/production", params={"query": "count(*)"})

    assert sleep.calls == [pytest.approx(0.12)] * 3


async def test_no_latency_means_no_sleep(serve) -> None:
    sleep = RecordingSleep()
    client = serve(sleep=sleep)

    await client.get(f"{API}/doc/production/p1")

    assert sleep.calls == []


async def test_negative_latency_is_refused(lake: Lake) -> None:
    with pytest.raises(ValueError):
        create_lake_app(lake, latency_ms=-1)


async def test_an_injected_500_happens_before_the_lake_so_nothing_is_written(
    serve, lake: Lake
) -> None:
    client = serve(faults=FaultPlan.scripted(("mutate", 2, Fault.SERVER_ERROR)))

    first = await mutate(client, [{"create": product("p1")}])
    second = await mutate(client, [{"create": product("p2")}])
    third = await mutate(client, [{"create": product("p3")}])

    assert (first.status_code, second.status_code, third.status_code) == (200, 500, 200)
    assert second.json() == {
        "statusCode": 500,
        "error": "Internal Server Error",
        "message": "Injected server error",
    }
    found = await lake.get_documents(["p1", "p2", "p3"])
    assert [doc is not None for doc in found] == [True, False, True]


async def test_an_injected_429_carries_retry_after_and_writes_nothing(serve, lake: Lake) -> None:
    plan = FaultPlan(script={("mutate", 1): Fault.RATE_LIMITED}, retry_after_seconds=3)
    client = serve(faults=plan)

    response = await mutate(client, [{"create": product("p1")}])

    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.json()["error"] == "Too Many Requests"
    assert await lake.get_documents(["p1"]) == [None]


async def test_reads_can_fail_too(serve) -> None:
    plan = FaultPlan.scripted(("query", 2, Fault.SERVER_ERROR), ("doc", 1, Fault.RATE_LIMITED))
    client = serve(faults=plan)
    query = {"query": "count(*)"}

    queries = [await client.get(f"{API}/query/production", params=query) for _ in range(3)]
    docs = [await client.get(f"{API}/doc/production/p1") for _ in range(2)]

    assert [r.status_code for r in queries] == [200, 500, 200]
    assert [r.status_code for r in docs] == [429, 200]


async def test_commit_then_error_really_commits_but_answers_500(serve, lake: Lake) -> None:
    client = serve(faults=FaultPlan.scripted(("mutate", 1, Fault.COMMIT_THEN_ERROR)))

    response = await mutate(client, [{"create": product("p1", stock=7)}])

    assert response.status_code == 500
    assert "transactionId" not in response.json()
    [stored] = await lake.get_documents(["p1"])
    assert stored is not None and stored["stock"] == 7


async def test_commit_then_drop_really_commits_and_the_client_sees_a_cut_connection(
    serve, lake: Lake
) -> None:
    client = serve(faults=FaultPlan.scripted(("mutate", 1, Fault.COMMIT_THEN_DROP)))

    with pytest.raises(httpx.TransportError):
        await mutate(client, [{"create": product("p1", stock=7)}])

    [stored] = await lake.get_documents(["p1"])
    assert stored is not None and stored["stock"] == 7
    # The server goes on serving after the drop.
    assert (await client.get(f"{API}/doc/production/p1")).status_code == 200


async def test_a_lost_answer_to_a_refused_mutation_still_wrote_nothing(serve, lake: Lake) -> None:
    await lake.mutate([{"create": product("p1")}])
    client = serve(faults=FaultPlan.scripted(("mutate", 1, Fault.COMMIT_THEN_ERROR)))

    response = await mutate(client, [{"create": product("p2")}, {"create": product("p1")}])

    assert response.status_code == 500
    assert await lake.get_documents(["p2"]) == [None]


async def test_seeded_random_faults_replay_the_same_way(lake: Lake) -> None:
    async def statuses(seed: int) -> list[int]:
        plan = FaultPlan(seed=seed, server_error_share=0.3, rate_limit_share=0.2)
        app = create_lake_app(lake, faults=plan)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://lake.test") as client:
            return [(await client.get(f"{API}/doc/production/x")).status_code for _ in range(40)]

    first, again = await statuses(11), await statuses(11)

    assert first == again
    assert {200, 429, 500} <= set(first)


async def test_the_mutate_rate_limit_answers_429_and_writes_nothing(serve, lake: Lake) -> None:
    monotonic = ManualMonotonic()
    client = serve(mutate_rate_limit=25, monotonic=monotonic)

    admitted = [await mutate(client, [{"create": product(f"p{i}")}]) for i in range(25)]
    refused = await mutate(client, [{"create": product("p25")}])

    assert {r.status_code for r in admitted} == {200}
    assert admitted[0].headers["ratelimit-limit"] == "25"
    assert admitted[0].headers["ratelimit-remaining"] == "24"
    assert admitted[-1].headers["ratelimit-remaining"] == "0"
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["statusCode"] == 429
    assert await lake.get_documents(["p25"]) == [None]

    # Reads are not limited; a mutate after the advised wait is admitted again.
    assert (await client.get(f"{API}/doc/production/p0")).status_code == 200
    monotonic.advance(0.04)
    assert (await mutate(client, [{"create": product("p25")}])).status_code == 200


async def test_the_mutate_rate_limit_is_per_client_address(lake: Lake) -> None:
    app = create_lake_app(lake, mutate_rate_limit=1, monotonic=ManualMonotonic())

    def client_from(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 5000))
        return httpx.AsyncClient(transport=transport, base_url="http://lake.test")

    async with client_from("10.0.0.1") as first, client_from("10.0.0.2") as second:
        one = await mutate(first, [{"create": product("a")}])
        two = await mutate(first, [{"create": product("b")}])
        other = await mutate(second, [{"create": product("c")}])

    assert (one.status_code, two.status_code, other.status_code) == (200, 429, 200)
