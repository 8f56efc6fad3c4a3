"""Stripe deliveries are verified on the raw body; a refused one writes nothing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.entrypoints.http.conftest import assert_error_shape
from tests.integrations.conftest import Shop
from tests.integrations.stripe import stripe_fixtures as sf

S = "cs_test_sig"
ROOT = Path(__file__).resolve().parents[3]


async def post(shop: Shop, payload: str, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return await shop.client.post("/api/stripe-webhook", content=payload, headers=headers)


@pytest.fixture
async def held(shop: Shop) -> Shop:
    await shop.reserve(S, {"productId": "railcam", "quantity": 2})
    return shop


def completed() -> str:
    return sf.event("evt_sig", "checkout.session.completed", sf.checkout_session(S))


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(lambda p: None, id="missing"),
        pytest.param(lambda p: "", id="empty"),
        pytest.param(lambda p: "garbage", id="malformed"),
        pytest.param(lambda p: sf.sign(p, "whsec_someone_else"), id="wrong-secret"),
        pytest.param(lambda p: sf.sign(p, age_seconds=301), id="stale"),
        pytest.param(lambda p: sf.sign(p).replace("v1=", "v0="), id="no-v1-scheme"),
        pytest.param(lambda p: sf.sign(p.replace("paid", "paiD")), id="signed-other-body"),
    ],
)
async def test_a_refused_signature_is_400_and_writes_nothing(
    held: Shop, signature: Callable[[str], str | None]
):
    payload = completed()
    before = await held.count_documents()

    response = await post(held, payload, signature(payload))

    body = assert_error_shape(response, 400, "invalid_signature")
    assert "signature" in body["message"].lower()
    assert await held.count_documents() == before
    assert await held.counters() == (5, 2)
    assert await held.status(S) == "active"


async def test_a_body_changed_after_signing_is_refused(held: Shop):
    payload = completed()
    signature = sf.sign(payload)
    before = await held.count_documents()

    response = await post(held, payload.replace(S, S[:-1] + "G"), signature)

    assert_error_shape(response, 400, "invalid_signature")
    assert await held.count_documents() == before


async def test_a_signature_within_five_minutes_is_accepted(held: Shop):
    payload = completed()
    response = await post(held, payload, sf.sign(payload, age_seconds=240))
    assert response.status_code == 200, response.text
    assert response.json()["action"] == "committed"


async def test_any_v1_of_a_rolled_secret_matches(held: Shop):
    """While a secret is rolled Stripe signs with both; the endpoint knows one of them."""
    payload = completed()
    old = sf.sign(payload, sf.OLD_WEBHOOK_SECRET)
    new = sf.sign(payload, sf.WEBHOOK_SECRET)
    both = f"{old},v1={new.split('v1=')[1]}"

    response = await post(held, payload, both)

    assert response.status_code == 200, response.text


async def test_several_configured_secrets_are_all_tried(open_shop: Callable[..., Any]):
    async with open_shop(
        stripe_webhook_secret=f"{sf.WEBHOOK_SECRET},{sf.OLD_WEBHOOK_SECRET}"
    ) as shop:
        await shop.reserve(S, {"productId": "railcam", "quantity": 1})
        response = await shop.stripe(
            "evt_old",
            "checkout.session.completed",
            sf.checkout_session(S),
            secret=sf.OLD_WEBHOOK_SECRET,
        )
        assert response.status_code == 200, response.text
        assert await shop.counters() == (4, 0)


async def test_unset_secret_refuses_with_503_naming_it(open_shop: Callable[..., Any]):
    async with open_shop(stripe_webhook_secret=None) as shop:
        await shop.reserve(S, {"productId": "railcam", "quantity": 1})
        before = await shop.count_documents()

        response = await shop.stripe("evt_x", "checkout.session.completed", sf.checkout_session(S))

        body = assert_error_shape(response, 503, "not_configured")
        assert "STRIPE_WEBHOOK_SECRET" in body["message"]
        assert body["details"] == ["variable: STRIPE_WEBHOOK_SECRET"]
        assert await shop.count_documents() == before


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param("{not json", id="not-json"),
        pytest.param('{"object": "event", "id": "evt_1"}', id="no-type-or-data"),
        pytest.param('{"object": "list", "data": []}', id="not-an-event"),
    ],
)
async def test_a_signed_but_unreadable_payload_is_400(shop: Shop, payload: str):
    before = await shop.count_documents()
    response = await post(shop, payload, sf.sign(payload))
    assert_error_shape(response, 400, "invalid_payload")
    assert await shop.count_documents() == before


def test_the_app_does_not_import_stripe_until_a_delivery_needs_it():
    code = (
        "import sys\n"
        "from service.entrypoints.http.app import create_app\n"
        "from service.entrypoints.http import webhooks\n"
        "create_app()\n"
        "print('stripe' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "STOCKSYNC_DATA": ":memory:"},
    )
    assert result.stdout.strip() == "False", result.stderr
