"""Issue 12 item 6: per-client rate limits on the public and storefront routes."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from service.entrypoints.rate_limits import Limit, TokenBuckets
from tests.entrypoints.http.conftest import KEYS, STOREFRONT, assert_error_shape
from tests.support.clock import ManualClock


async def reserve(client: httpx.AsyncClient, n: int, headers: dict[str, str]) -> httpx.Response:
    return await client.post(
        "/api/reserve-stock",
        json={
            "sessionId": f"cs_{n}",
            "operations": [{"productId": "timetable-zine", "quantity": 1}],
        },
        headers=headers,
    )


async def test_a_storefront_key_in_a_loop_gets_429_with_retry_after(
    open_client: Callable[..., Any], catalogue: None, clock: ManualClock
) -> None:
    settings = {
        **KEYS,
        "rate_limit_storefront_per_second": 2,
        "rate_limit_storefront_burst": 3,
    }
    async with open_client(**settings) as client:
        answers = [await reserve(client, n, STOREFRONT) for n in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        body = assert_error_shape(answers[-1], 429, "rate_limited")
        assert answers[-1].headers["retry-after"] == "1"
        assert body["details"] == ["retryAfter: 1"]
        # The other (rotated) key is another client.
        other = await reserve(client, 9, {"Authorization": "Bearer sf-key-0"})
        assert other.status_code == 200
        # Refilled after the advised wait.
        clock.advance(seconds=1)
        assert (await reserve(client, 5, STOREFRONT)).status_code == 200


async def test_the_default_storefront_limit_admits_a_flash_sale_burst(
    open_client: Callable[..., Any], catalogue: None
) -> None:
    """One storefront key carries every shopper: 400 buyers at once on one instance are all
    answered (sold or refused for stock), none told to come back later."""
    async with open_client(**KEYS) as client:
        answers = await asyncio.gather(*(reserve(client, n, STOREFRONT) for n in range(400)))
        codes = Counter(a.status_code for a in answers)
        assert 429 not in codes, codes
        assert set(codes) <= {200, 409}
        assert codes[200] >= 1


async def test_public_stock_status_is_limited_per_address(
    open_client: Callable[..., Any], catalogue: None, clock: ManualClock
) -> None:
    async with open_client(**KEYS, rate_limit_public_per_minute=2) as client:
        params = {"productIds": "railcam"}
        first = [
            await client.get(
                "/api/stock-status", params=params, headers={"x-forwarded-for": "1.1.1.1"}
            )
            for _ in range(3)
        ]
        assert [a.status_code for a in first] == [200, 200, 429]
        assert int(first[-1].headers["retry-after"]) == 30
        other = await client.get(
            "/api/stock-status", params=params, headers={"x-forwarded-for": "2.2.2.2, 10.0.0.1"}
        )
        assert other.status_code == 200


async def test_limits_set_to_zero_are_off(open_client: Callable[..., Any], catalogue: None) -> None:
    async with open_client(
        **KEYS, rate_limit_storefront_per_second=0, rate_limit_public_per_minute=0
    ) as client:
        answers = [await reserve(client, n, STOREFRONT) for n in range(30)]
        assert all(a.status_code == 200 for a in answers)


def test_buckets_forget_the_least_recent_clients_beyond_their_bound() -> None:
    now = [0.0]
    buckets = TokenBuckets(Limit(1, 1), monotonic=lambda: now[0])
    for n in range(10_050):
        assert buckets.take(f"c{n}") is None
    assert buckets.take("c10049") == 1.0  # still remembered: empty
    assert buckets.take("c0") is None  # forgotten: a fresh bucket
