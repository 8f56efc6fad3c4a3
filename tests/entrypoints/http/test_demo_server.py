"""The storefront's own flows over real HTTP, against `stocksync serve --demo` started as a
subprocess with no configuration at all (one server for the whole module)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.support.demo_process import DemoServer, free_port, running_demo


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    workdir = tmp_path_factory.mktemp("demo")
    with running_demo(workdir, free_port()) as running:
        assert (workdir / "data" / "lake.sqlite3").exists()
        yield running


@pytest.fixture
async def http(server: DemoServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        yield client


def storefront(server: DemoServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.storefront_key}"}


async def reserve(
    http: httpx.AsyncClient, server: DemoServer, session: str, *ops: dict[str, Any]
) -> httpx.Response:
    return await http.post(
        "/api/reserve-stock",
        json={"sessionId": session, "operations": list(ops)},
        headers=storefront(server),
    )


async def release(http: httpx.AsyncClient, server: DemoServer, session: str) -> httpx.Response:
    return await http.post(
        "/api/release-stock", json={"sessionId": session}, headers=storefront(server)
    )


async def figures(http: httpx.AsyncClient, *names: str) -> dict[str, dict[str, Any]]:
    response = await http.get("/api/stock-status", params={"productIds": ",".join(names)})
    assert response.status_code == 200, response.text
    return {entry["productId"]: entry for entry in response.json()["stockStatus"]}


def test_demo_prints_keys_and_examples(server: DemoServer):
    text = "\n".join(server.output)
    assert "Seeded the demo catalogue" in text
    assert "curl -s" in text and f"{server.base_url}/docs" in text
    assert server.storefront_key.startswith("dev-storefront-")


async def test_stock_status_of_simple_sized_and_sold_out(http: httpx.AsyncClient):
    entries = await figures(http, "railcam", "halloween-tee", "railways-and-sleepers")

    assert entries["railcam"]["availableStock"] == 5 and entries["railcam"]["inStock"] is True
    sizes = {v["size"]: v["availableStock"] for v in entries["halloween-tee"]["variants"]}
    assert sizes == {"s": 3, "m": 2}
    assert entries["railways-and-sleepers"]["inStock"] is False


async def test_cart_validation(http: httpx.AsyncClient, server: DemoServer):
    response = await http.post(
        "/api/stock-status",
        json={
            "items": [
                {"productId": "railcam", "quantity": 2},
                {"productId": "halloween-tee", "quantity": 3, "size": "M"},
                {"productId": "railways-and-sleepers", "quantity": 1},
            ]
        },
        headers=storefront(server),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["allInStock"] is False
    assert [c["inStock"] for c in body["stockChecks"]] == [True, False, False]


async def test_reserve_then_release(http: httpx.AsyncClient, server: DemoServer):
    reserved = await reserve(http, server, "cs_http_1", {"productId": "railcam", "quantity": 2})
    held = (await figures(http, "railcam"))["railcam"]
    released = await release(http, server, "cs_http_1")
    after = (await figures(http, "railcam"))["railcam"]

    assert reserved.status_code == 200, reserved.text
    assert reserved.json()["success"] is True and reserved.json()["expiresAt"]
    assert held["reservedStock"] == 2 and held["availableStock"] == 3
    assert released.status_code == 200 and released.json()["success"] is True
    assert after["reservedStock"] == 0 and after["availableStock"] == 5


async def test_over_reserve_is_refused_with_per_line_details(
    http: httpx.AsyncClient, server: DemoServer
):
    response = await reserve(
        http,
        server,
        "cs_http_over",
        {"productId": "railcam", "quantity": 6},
        {"productId": "halloween-tee", "quantity": 3, "size": "m"},
    )

    assert response.status_code == 409
    body = response.json()
    assert body["success"] is False and body["error"] == "Stock reservation failed"
    assert len(body["details"]) == 2
    lines = {e["productId"]: (e["requested"], e["available"]) for e in body["errors"]}
    assert lines == {"railcam": (6, 5), "halloween-tee": (3, 2)}


@pytest.mark.parametrize("size", ["M", "m"])
async def test_size_in_either_case(http: httpx.AsyncClient, server: DemoServer, size: str):
    session = f"cs_http_size_{size}"
    response = await reserve(
        http, server, session, {"productId": "halloween-tee", "quantity": 2, "size": size}
    )
    sizes = {
        v["size"]: v for v in (await figures(http, "halloween-tee"))["halloween-tee"]["variants"]
    }
    await release(http, server, session)

    assert response.status_code == 200, response.text
    assert sizes["m"]["availableStock"] == 0 and sizes["s"]["availableStock"] == 3


async def test_two_concurrent_reservations_of_3_against_5(
    http: httpx.AsyncClient, server: DemoServer
):
    responses = await asyncio.gather(
        reserve(http, server, "cs_http_race_a", {"productId": "railcam", "quantity": 3}),
        reserve(http, server, "cs_http_race_b", {"productId": "railcam", "quantity": 3}),
    )
    held = (await figures(http, "railcam"))["railcam"]
    for session, response in zip(("cs_http_race_a", "cs_http_race_b"), responses, strict=True):
        if response.status_code == 200:
            await release(http, server, session)

    assert sorted(r.status_code for r in responses) == [200, 409]
    assert held["reservedStock"] == 3


async def test_staff_and_cron_keys_printed_by_the_demo_work(
    http: httpx.AsyncClient, server: DemoServer
):
    history = await http.get(
        "/api/inventory/history/railcam", headers={"X-API-Key": server.admin_key}
    )
    cleanup = await http.get(
        "/api/cron/cleanup", headers={"Authorization": f"Bearer {server.cron_secret}"}
    )

    assert history.status_code == 200, history.text
    assert history.json()["entries"][-1]["type"] == "initial"
    assert cleanup.status_code == 200, cleanup.text
