"""End to end against the fake Stripe served over HTTP: the service finds it through
`STRIPE_API_BASE` (no respx), and every event comes from the fake as Stripe sends it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from tests.http.conftest import STOREFRONT
from tests.support.stripe.fake import FakeStripe
from tests.support.stripe.server import serve
from tests.webhooks import stripe_fixtures as sf
from tests.webhooks.conftest import Shop


@pytest.fixture
def stripe_server() -> Iterator[tuple[FakeStripe, str]]:
    fake = FakeStripe(api_key=sf.STRIPE_KEY)
    with serve(fake) as base:
        yield fake, base


@pytest.fixture
async def shop_on_fake(
    open_shop: Callable[..., Any], stripe_server: tuple[FakeStripe, str]
) -> AsyncIterator[Shop]:
    _, base = stripe_server
    async with open_shop(stripe_secret_key=sf.STRIPE_KEY, stripe_api_base=base) as shop:
        yield shop


async def test_the_success_page_asks_the_stripe_at_stripe_api_base(
    shop_on_fake: Shop, stripe_server: tuple[FakeStripe, str]
) -> None:
    fake, _ = stripe_server
    session = fake.create_session(expires_in=1800)["id"]
    await shop_on_fake.reserve(session, {"productId": "railcam", "quantity": 2})
    fake.pay(session)

    response = await shop_on_fake.client.post(
        f"/api/checkout-sessions/{session}/fulfill", headers=STOREFRONT
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "committed"
    assert await shop_on_fake.counters() == (3, 0)
    assert [c.path for c in fake.calls("GET")] == [f"/v1/checkout/sessions/{session}"]


async def test_stripes_own_event_sequence_commits_once_then_a_full_refund_restores(
    shop_on_fake: Shop, stripe_server: tuple[FakeStripe, str]
) -> None:
    fake, _ = stripe_server
    session = fake.create_session()["id"]
    await shop_on_fake.reserve(session, {"productId": "railcam", "quantity": 2})
    fake.pay(session)

    answers = [await shop_on_fake.deliver(evt) for evt in fake.drain()]

    assert [a.status_code for a in answers] == [200, 200, 200]
    # charge.succeeded is not about stock; payment_intent.succeeded finds its session by
    # asking the fake (listing sessions by payment intent); the checkout event replays.
    assert [a.json()["action"] for a in answers] == [
        "ignored",
        "committed",
        "already_committed",
    ]
    assert any(c.path == "/v1/checkout/sessions" for c in fake.calls("GET"))
    assert await shop_on_fake.counters() == (3, 0)

    fake.refund(session)
    for evt in fake.drain():
        assert (await shop_on_fake.deliver(evt)).status_code == 200
    assert await shop_on_fake.counters() == (5, 0)
    assert await shop_on_fake.status(session) == "refunded"
