"""End to end against the fake Stripe served over HTTP: the service finds it through
`STRIPE_API_BASE` (no respx), and every event comes from the fake as Stripe sends it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from tests.entrypoints.http.conftest import CRON, STOREFRONT
from tests.integrations.conftest import Shop
from tests.integrations.stripe import stripe_fixtures as sf
from tests.support.stripe.fake import FakeStripe
from tests.support.stripe.server import serve


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


async def test_a_refund_stripe_says_never_went_through_checkout_is_foreign_at_once(
    shop_on_fake: Shop, stripe_server: tuple[FakeStripe, str]
) -> None:
    fake, _ = stripe_server
    intent = fake.direct_payment()
    fake.refund(intent)
    answers = [await shop_on_fake.deliver(evt) for evt in fake.drain()]

    assert [a.status_code for a in answers] == [200] * len(answers)
    assert answers[-1].json()["action"] == "foreign_payment"
    assert await shop_on_fake.error_logs() == []
    held = await shop_on_fake.client.get("/api/cron/reconcile", headers=CRON)
    assert held.json()["heldRefunds"] == {"applied": [], "held": [], "resolved": [intent]}


# -- a hold's end ends its Checkout Session ---------------------------------------------------


async def test_releasing_a_hold_expires_its_checkout_session(
    shop_on_fake: Shop, stripe_server: tuple[FakeStripe, str]
) -> None:
    fake, _ = stripe_server
    session = fake.create_session(expires_in=1800)["id"]
    await shop_on_fake.reserve(session, {"productId": "railcam", "quantity": 2})

    released = await shop_on_fake.client.post(
        "/api/release-stock", json={"sessionId": session}, headers=STOREFRONT
    )

    assert released.status_code == 200, released.text
    assert fake.sessions[session]["status"] == "expired"
    assert [c.path for c in fake.calls("POST")] == [f"/v1/checkout/sessions/{session}/expire"]
    # Stripe's checkout.session.expired then finds the hold released: nothing more (a
    # whole release of a released hold is a replay).
    (expired,) = fake.drain()
    assert (await shop_on_fake.deliver(expired)).json()["action"] == "already_released"
    assert await shop_on_fake.counters() == (5, 0)


async def test_the_cleanup_expires_the_sessions_of_overdue_holds_and_ignores_ended_ones(
    shop_on_fake: Shop, stripe_server: tuple[FakeStripe, str]
) -> None:
    fake, _ = stripe_server
    open_one = fake.create_session()["id"]
    paid_one = fake.create_session()["id"]
    for session in (open_one, paid_one):
        await shop_on_fake.reserve(session, {"productId": "railcam", "quantity": 1})
    fake.pay(paid_one)  # paid at Stripe, the webhook not delivered yet
    shop_on_fake.clock.advance(hours=2)

    swept = await shop_on_fake.client.get("/api/cron/cleanup", headers=CRON)

    body = swept.json()
    assert sorted(body["cleanup"]["expired"]) == sorted([open_one, paid_one])
    assert body["checkoutSessions"] == {
        "expired": [open_one],
        "alreadyEnded": [paid_one],
        "failed": [],
    }
    assert fake.sessions[open_one]["status"] == "expired"
    assert fake.sessions[paid_one]["status"] == "complete"


async def test_a_session_stripe_will_not_expire_is_retried_then_recorded(
    shop_on_fake: Shop, stripe_server: tuple[FakeStripe, str]
) -> None:
    fake, _ = stripe_server
    session = fake.create_session()["id"]
    await shop_on_fake.reserve(session, {"productId": "railcam", "quantity": 1})
    fake.fail_next(500, count=3)

    released = await shop_on_fake.client.post(
        "/api/release-stock", json={"sessionId": session}, headers=STOREFRONT
    )

    assert released.status_code == 200
    assert len(fake.calls("POST")) == 3
    assert fake.sessions[session]["status"] == "open"
    (log,) = await shop_on_fake.error_logs()
    assert session in log["message"] and log["severity"] == "medium"


async def test_without_the_secret_key_nothing_is_asked_of_stripe(
    open_shop: Callable[..., Any], stripe_server: tuple[FakeStripe, str]
) -> None:
    fake, base = stripe_server
    async with open_shop(stripe_api_base=base) as shop:
        session = fake.create_session()["id"]
        await shop.reserve(session, {"productId": "railcam", "quantity": 1})
        released = await shop.client.post(
            "/api/release-stock", json={"sessionId": session}, headers=STOREFRONT
        )
        assert released.status_code == 200
    assert fake.requests == []


# -- holds ended elsewhere end their sessions too ---------------------------------------------


async def abandoned_hold(shop: Shop, fake: FakeStripe, quantity: int) -> str:
    """A session whose hold of `quantity` railcams went overdue two hours ago."""
    session: str = fake.create_session()["id"]
    await shop.reserve(session, {"productId": "railcam", "quantity": quantity})
    shop.clock.advance(hours=2)
    return session


async def test_a_reserve_that_reclaims_an_overdue_hold_expires_its_checkout_session(
    shop_on_fake: Shop, stripe_server: tuple[FakeStripe, str]
) -> None:
    fake, _ = stripe_server
    abandoned = await abandoned_hold(shop_on_fake, fake, 5)
    newcomer = fake.create_session()["id"]

    await shop_on_fake.reserve(newcomer, {"productId": "railcam", "quantity": 1})
    # The buyer's answer does not wait for Stripe; the expiry runs right after it.
    await shop_on_fake.app.state.session_expiry.drain()

    assert fake.sessions[abandoned]["status"] == "expired"
    assert fake.sessions[newcomer]["status"] == "open"
    assert [c.path for c in fake.calls("POST")] == [f"/v1/checkout/sessions/{abandoned}/expire"]
    assert await shop_on_fake.status(abandoned) == "expired"
    assert await shop_on_fake.counters() == (5, 1)


async def test_a_reserve_that_reclaims_and_still_fails_expires_the_reclaimed_session(
    shop_on_fake: Shop, stripe_server: tuple[FakeStripe, str]
) -> None:
    fake, _ = stripe_server
    abandoned = await abandoned_hold(shop_on_fake, fake, 3)
    live = fake.create_session()["id"]
    await shop_on_fake.reserve(live, {"productId": "railcam", "quantity": 2})
    greedy = fake.create_session()["id"]

    refused = await shop_on_fake.client.post(
        "/api/reserve-stock",
        json={"sessionId": greedy, "operations": [{"productId": "railcam", "quantity": 4}]},
        headers=STOREFRONT,
    )
    await shop_on_fake.app.state.session_expiry.drain()

    assert refused.status_code == 409, refused.text
    assert await shop_on_fake.status(abandoned) == "expired"
    assert fake.sessions[abandoned]["status"] == "expired"
    assert fake.sessions[live]["status"] == "open"
    assert await shop_on_fake.counters() == (5, 2)


async def test_a_reclaimed_holds_session_stripe_will_not_expire_is_recorded(
    shop_on_fake: Shop, stripe_server: tuple[FakeStripe, str]
) -> None:
    fake, _ = stripe_server
    abandoned = await abandoned_hold(shop_on_fake, fake, 5)
    fake.fail_next(503, count=3)

    await shop_on_fake.reserve(fake.create_session()["id"], {"productId": "railcam", "quantity": 1})
    await shop_on_fake.app.state.session_expiry.drain()

    assert len(fake.calls("POST")) == 3
    assert fake.sessions[abandoned]["status"] == "open"
    (log,) = await shop_on_fake.error_logs()
    assert abandoned in log["message"] and log["severity"] == "medium"


async def test_the_staff_cleanup_route_expires_the_sessions_of_the_holds_it_expires(
    shop_on_fake: Shop, stripe_server: tuple[FakeStripe, str]
) -> None:
    fake, _ = stripe_server
    session = await abandoned_hold(shop_on_fake, fake, 1)

    swept = await shop_on_fake.client.post("/api/inventory-health", headers=CRON)

    assert swept.status_code == 200, swept.text
    body = swept.json()
    assert body["cleanup"]["expired"] == [session]
    assert body["checkoutSessions"] == {"expired": [session], "alreadyEnded": [], "failed": []}
    assert fake.sessions[session]["status"] == "expired"
