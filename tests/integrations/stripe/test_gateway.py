"""Stripe lookups through the stripe library's httpx client (respx, no network), and the
success-page route that uses them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from service.integrations.stripe.gateway import StripeApiGateway, StripeLookupFailed
from tests.entrypoints.http.conftest import STOREFRONT, assert_error_shape
from tests.integrations.conftest import Shop
from tests.integrations.stripe import stripe_fixtures as sf
from tests.integrations.stripe.stripe_api import FakeStripeApi, paid_session

S = "cs_test_g1"


@pytest.fixture
def stripe_api() -> Iterator[FakeStripeApi]:
    with respx.mock(assert_all_called=False) as router:
        yield FakeStripeApi(router)


@pytest.fixture
async def gateway() -> AsyncIterator[StripeApiGateway]:
    client = StripeApiGateway(sf.STRIPE_KEY, max_network_retries=0)
    yield client
    await client.aclose()


async def test_retrieves_a_checkout_session_with_the_secret_key(
    stripe_api: FakeStripeApi, gateway: StripeApiGateway
):
    stripe_api.add(paid_session(S, "pi_9"))

    found = await gateway.checkout_session(S)

    assert found is not None
    assert (found.id, found.paid, found.payment_intent_id) == (S, True, "pi_9")
    assert stripe_api.retrievals == 1  # and with the key: the fake refuses any other


async def test_an_unknown_session_is_none(stripe_api: FakeStripeApi, gateway: StripeApiGateway):
    assert await gateway.checkout_session("cs_missing") is None


async def test_finds_the_session_of_a_payment_intent(
    stripe_api: FakeStripeApi, gateway: StripeApiGateway
):
    stripe_api.add(paid_session(S, "pi_9"))
    found = await gateway.session_for_payment_intent("pi_9")
    assert found is not None and found.id == S
    assert await gateway.session_for_payment_intent("pi_other") is None
    params = stripe_api.listings[-1]
    assert (params["payment_intent"], params["limit"]) == ("pi_other", "1")


@pytest.mark.parametrize(
    ("status", "words"),
    [(500, "could not be reached or failed"), (401, "STRIPE_SECRET_KEY"), (429, "rate-limiting")],
)
async def test_stripe_failures_become_lookup_failed(
    stripe_api: FakeStripeApi, gateway: StripeApiGateway, status: int, words: str
):
    if status == 401:
        stripe_api.api_key = "sk_test_another"
    else:
        stripe_api.fail_next(status)
    with pytest.raises(StripeLookupFailed) as failed:
        await gateway.checkout_session(S)
    assert words in failed.value.message


# -- the success page ----------------------------------------------------------------------


@pytest.fixture
async def keyed(open_shop: Callable[..., Any], stripe_api: FakeStripeApi) -> AsyncIterator[Shop]:
    async with open_shop(stripe_secret_key=sf.STRIPE_KEY) as shop:
        yield shop


async def fulfill(
    shop: Shop, session: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await shop.client.post(
        f"/api/checkout-sessions/{session}/fulfill",
        headers=STOREFRONT if headers is None else headers,
    )


async def test_fulfill_commits_a_paid_session(keyed: Shop, stripe_api: FakeStripeApi):
    await keyed.reserve(S, {"productId": "railcam", "quantity": 2})
    stripe_api.add(paid_session(S))

    response = await fulfill(keyed, S)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["success"], body["fulfilled"], body["status"], body["replayed"]) == (
        True,
        True,
        "committed",
        False,
    )
    assert body["committed"] == [{"productId": "product-railcam", "quantity": 2}]
    assert await keyed.counters() == (3, 0)
    again = await fulfill(keyed, S)
    assert again.json()["replayed"] is True
    assert await keyed.counters() == (3, 0)


async def test_fulfill_leaves_an_unpaid_session_alone(keyed: Shop, stripe_api: FakeStripeApi):
    await keyed.reserve(S, {"productId": "railcam", "quantity": 2})
    stripe_api.add(sf.checkout_session(S, payment_status="unpaid"))

    response = await fulfill(keyed, S)

    assert response.json()["fulfilled"] is False
    assert response.json()["paymentStatus"] == "unpaid"
    assert await keyed.counters() == (5, 2)


async def test_fulfill_of_unknown_sessions_is_404(keyed: Shop, stripe_api: FakeStripeApi):
    assert_error_shape(await fulfill(keyed, "cs_nobody"), 404, "checkout_session_not_found")
    stripe_api.add(paid_session("cs_no_hold"))
    assert_error_shape(await fulfill(keyed, "cs_no_hold"), 404, "reservation_not_found")


def without_retries(shop: Shop) -> None:
    """The production gateway retries a failed call once after a pause; tests do not wait."""
    shop.app.state.stripe_gateway = StripeApiGateway(sf.STRIPE_KEY, max_network_retries=0)


async def test_fulfill_answers_503_when_stripe_fails(keyed: Shop, stripe_api: FakeStripeApi):
    without_retries(keyed)
    await keyed.reserve(S, {"productId": "railcam", "quantity": 2})
    stripe_api.fail_next(503)
    response = await fulfill(keyed, S)
    assert_error_shape(response, 503, "stripe_unavailable")
    assert "Retry-After" in response.headers
    assert await keyed.counters() == (5, 2)


async def test_fulfill_needs_the_storefront_key_and_the_stripe_key(
    open_shop: Callable[..., Any], stripe_api: FakeStripeApi
):
    async with open_shop(stripe_secret_key=sf.STRIPE_KEY) as shop:
        assert_error_shape(await fulfill(shop, S, headers={}), 401, "unauthorized")
    async with open_shop() as shop:
        body = assert_error_shape(await fulfill(shop, S), 503, "not_configured")
        assert "STRIPE_SECRET_KEY" in body["message"]
    assert stripe_api.retrievals == 0


async def test_payment_intent_succeeded_asks_stripe_for_its_session(
    keyed: Shop, stripe_api: FakeStripeApi
):
    await keyed.reserve(S, {"productId": "railcam", "quantity": 2})
    stripe_api.add(paid_session(S, "pi_lookup"))

    response = await keyed.stripe(
        "evt_pi", "payment_intent.succeeded", sf.payment_intent("pi_lookup")
    )

    assert response.json()["action"] == "committed"
    assert stripe_api.listings
    assert await keyed.counters() == (3, 0)


async def test_payment_intent_succeeded_leaves_it_to_checkout_when_stripe_is_down(
    keyed: Shop, stripe_api: FakeStripeApi
):
    without_retries(keyed)
    await keyed.reserve(S, {"productId": "railcam", "quantity": 2})
    stripe_api.fail_next(500)
    response = await keyed.stripe("evt_pi", "payment_intent.succeeded", sf.payment_intent())
    assert response.json()["action"] == "left_to_checkout_event"
    assert await keyed.counters() == (5, 2)
