"""Duplicates arriving at the same moment: one effect, every delivery answered 200."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import respx

from tests.entrypoints.http.conftest import STOREFRONT
from tests.integrations.conftest import Shop
from tests.integrations.stripe import stripe_fixtures as sf
from tests.integrations.stripe.stripe_api import FakeStripeApi, paid_session

S = "cs_test_c1"


async def test_ten_concurrent_deliveries_of_one_event_have_one_effect(shop: Shop):
    await shop.reserve(S, {"productId": "railcam", "quantity": 2})
    obj = sf.checkout_session(S)

    responses = await asyncio.gather(
        *(shop.stripe("evt_dup", "checkout.session.completed", obj) for _ in range(10))
    )

    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    actions = sorted(r.json()["action"] for r in responses)
    assert actions == ["already_committed"] * 9 + ["committed"]
    assert await shop.counters() == (3, 0)
    assert [e["type"] for e in await shop.ledger()] == ["reservation", "sale"]


async def test_concurrent_expiry_and_payment_apply_exactly_one_path(shop: Shop):
    """Whichever wins, the sale happens once and nothing is released twice."""
    await shop.reserve(S, {"productId": "railcam", "quantity": 2})
    paid = sf.checkout_session(S)
    expired = sf.checkout_session(S, status="expired", payment_status="unpaid")

    await asyncio.gather(
        *(shop.stripe(f"evt_p{i}", "checkout.session.completed", paid) for i in range(5)),
        *(shop.stripe(f"evt_e{i}", "checkout.session.expired", expired) for i in range(5)),
    )

    assert await shop.counters() == (3, 0)
    types = [e["type"] for e in await shop.ledger()]
    assert types.count("sale") == 1
    assert types.count("release") <= 1
    assert await shop.status(S) == "committed"


@pytest.fixture
def stripe_api() -> Iterator[FakeStripeApi]:
    with respx.mock(assert_all_called=False) as router:
        yield FakeStripeApi(router)


async def test_success_page_and_webhook_at_the_same_moment_commit_once(
    open_shop: Callable[..., Any], stripe_api: FakeStripeApi
):
    async with open_shop(stripe_secret_key=sf.STRIPE_KEY) as shop:
        await shop.reserve(S, {"productId": "railcam", "quantity": 3})
        stripe_api.add(paid_session(S))
        page = [
            shop.client.post(f"/api/checkout-sessions/{S}/fulfill", headers=STOREFRONT)
            for _ in range(5)
        ]
        hooks = [
            shop.stripe(f"evt_{i}", "checkout.session.completed", sf.checkout_session(S))
            for i in range(5)
        ]

        responses = await asyncio.gather(*page, *hooks)

        assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
        first_commits = [
            r for r in responses[:5] if r.json()["fulfilled"] and not r.json()["replayed"]
        ] + [r for r in responses[5:] if r.json()["action"] == "committed"]
        assert len(first_commits) == 1
        assert await shop.counters() == (2, 0)
        assert [e["type"] for e in await shop.ledger()] == ["reservation", "sale"]
