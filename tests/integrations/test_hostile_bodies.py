"""Issue 12 item 3: no body, header or cursor a stranger sends gets a 500.

Each case answered 500 (or the generic `http_error`) before: the json module recursed per
nesting level, read numbers of any length and passed lone surrogates to the store.
"""

from __future__ import annotations

import base64
import json

import pytest

from service.integrations.sanity.signature import sign
from tests.entrypoints.http.conftest import ADMIN, STOREFRONT, assert_error_shape
from tests.integrations.conftest import RAILCAM, SANITY_SECRET, Shop
from tests.integrations.stripe import stripe_fixtures as sf

DEEP = b'{"_id": "product-railcam", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"
LONE_SURROGATE = b'{"_id": "product-railcam", "title": "\\ud800"}'
HUGE_NUMBER = b'{"_id": "product-railcam", "stockQuantity": 1' + b"0" * 400 + b"}"
NOT_UTF8 = b'{"_id": "product-\xff"}'


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(DEEP, id="deep"),
        pytest.param(LONE_SURROGATE, id="lone-surrogate"),
        pytest.param(HUGE_NUMBER, id="huge-number"),
        pytest.param(NOT_UTF8, id="not-utf8"),
    ],
)
async def test_signed_sanity_webhook_bodies_the_parser_would_choke_on_are_a_400(
    shop: Shop, body: bytes
) -> None:
    before = await shop.count_documents()
    stamp = int(shop.clock().timestamp() * 1000)
    response = await shop.client.post(
        "/api/webhooks/sanity",
        content=body,
        headers={
            "content-type": "application/json",
            "sanity-webhook-signature": sign(body, SANITY_SECRET, stamp),
        },
    )
    assert_error_shape(response, 400, "invalid_request")
    assert await shop.count_documents() == before


async def test_a_signed_deep_stripe_event_is_a_400(shop: Shop) -> None:
    payload = DEEP
    response = await shop.client.post(
        "/api/stripe-webhook",
        content=payload,
        headers={"Stripe-Signature": sf.sign(payload, sf.WEBHOOK_SECRET), "Content-Type": "x"},
    )
    assert_error_shape(response, 400, "invalid_request")


async def test_a_sanity_signature_with_a_4300_digit_timestamp_is_a_400(shop: Shop) -> None:
    response = await shop.client.post(
        "/api/webhooks/sanity",
        content=json.dumps({"_id": RAILCAM}).encode(),
        headers={"sanity-webhook-signature": "t=" + "9" * 4300 + ",v1=abc"},
    )
    assert_error_shape(response, 400, "invalid_signature")


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/reserve-stock", STOREFRONT),
        ("/api/release-stock", STOREFRONT),
        ("/api/stock-status", STOREFRONT),
        ("/api/inventory/adjust", ADMIN),
        ("/api/inventory/reconcile", ADMIN),
    ],
)
@pytest.mark.parametrize("body", [DEEP, LONE_SURROGATE, HUGE_NUMBER, NOT_UTF8])
async def test_every_json_route_refuses_unparseable_bodies_with_the_error_shape(
    shop: Shop, path: str, headers: dict[str, str], body: bytes
) -> None:
    response = await shop.client.post(
        path, content=body, headers={**headers, "content-type": "application/json"}
    )
    body_json = assert_error_shape(response, 400, "invalid_request")
    assert body_json["errors"][0]["field"] == "body"


def cursor_of(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param(cursor_of(b'["\\ud800", "x"]'), id="lone-surrogate"),
        pytest.param(cursor_of(b'["2026-11-21T12:00:00.000Z", "\\udfff"]'), id="lone-id"),
        pytest.param(cursor_of(b"[" * 3000 + b"]" * 3000), id="deep"),
        pytest.param(cursor_of(b'["x", "product-railcam"]'), id="not-a-timestamp"),
        pytest.param(cursor_of(b'["2026-11-21T12:00:00.000Z", "a b"]'), id="not-an-id"),
        pytest.param("A" * 30_000, id="long"),
        pytest.param("\u00e9t\u00e9", id="non-ascii"),
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        "/api/inventory/history/railcam",
        "/api/inventory/reservations",
        "/api/inventory/errors",
    ],
)
async def test_crafted_cursors_are_a_400_naming_the_cursor(
    shop: Shop, path: str, cursor: str
) -> None:
    response = await shop.client.get(path, params={"cursor": cursor}, headers=ADMIN)
    body = assert_error_shape(response, 400, "invalid_request")
    assert body["errors"][0]["field"] == "cursor"


async def test_a_cursor_handed_out_still_pages(shop: Shop) -> None:
    for n in range(3):
        await shop.client.post(
            "/api/inventory/adjust",
            json={"productId": "railcam", "delta": 1, "reason": "restock", "note": str(n)},
            headers=ADMIN,
        )
    first = await shop.client.get(
        "/api/inventory/history/railcam", params={"limit": 1}, headers=ADMIN
    )
    cursor = first.json()["pagination"]["nextCursor"]
    second = await shop.client.get(
        "/api/inventory/history/railcam", params={"limit": 1, "cursor": cursor}, headers=ADMIN
    )
    assert second.status_code == 200, second.text


async def test_a_form_body_is_not_judged_as_json(shop: Shop) -> None:
    response = await shop.client.post(
        "/console/sign-in",
        content=b"key=" + b"%5B" * 200,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code < 500
    assert response.status_code != 400 or "nested" not in response.text
