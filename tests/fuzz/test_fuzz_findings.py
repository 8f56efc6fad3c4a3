"""What the fuzzer found, pinned: each answered 500 or an undocumented status before."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from cms_client.lake import Lake
from service.config import ServiceSettings, env_variables
from service.engine.inventory import Inventory
from service.entrypoints.cli.demo import seed_catalogue
from service.entrypoints.http.app import create_app
from service.integrations.sanity import signature as sanity_signature
from tests.fuzz.credentials import SANITY_SECRET, SETTINGS, STOREFRONT_KEY, stripe_signature
from tests.fuzz.stripe_gateway import KnownSessions


@pytest.fixture
async def lake() -> AsyncIterator[Lake]:
    store = Lake(None)
    await seed_catalogue(store, Inventory(store))
    yield store
    await store.aclose()


@pytest.fixture
async def client(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    for name in [*env_variables(), "VERCEL_ENV", "VERCEL"]:
        monkeypatch.delenv(name, raising=False)
    app = create_app(ServiceSettings(_env_file=None, **SETTINGS), store=lake)
    app.state.stripe_gateway = KnownSessions({})
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app, raise_app_exceptions=False),
            base_url="http://stocksync.test",
        ) as opened,
    ):
        yield opened


async def documents(lake: Lake) -> int:
    count: int = await lake.query("count(*)", {}, perspective="raw")
    return count


@pytest.mark.parametrize("payload", [b"[null, null]", b"1", b'"evt"', b"null"])
async def test_a_signed_stripe_body_that_is_not_an_object_is_400(
    client: httpx.AsyncClient, lake: Lake, payload: bytes
):
    before = await documents(lake)
    response = await client.post(
        "/api/stripe-webhook",
        content=payload,
        headers={
            "Stripe-Signature": stripe_signature(payload, int(time.time())),
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_payload"
    assert await documents(lake) == before


def signed_sanity(body: bytes, document_id: str | None = None) -> dict[str, str]:
    stamp = int(time.time() * 1000)
    headers = {
        "Content-Type": "application/json",
        sanity_signature.HEADER: sanity_signature.sign(body, SANITY_SECRET, stamp),
    }
    if document_id is not None:
        headers["sanity-document-id"] = document_id
    return headers


@pytest.mark.parametrize(
    ("body", "header_id"),
    [
        pytest.param(b"{}", "p" * 129, id="header-id-too-long"),
        pytest.param(json.dumps({"_id": "product railcam"}).encode(), None, id="body-id-space"),
        pytest.param(b"false", "product-railcam", id="body-not-an-object"),
        pytest.param(b"[]", "product-railcam", id="body-an-array"),
    ],
)
async def test_a_sanity_delivery_naming_no_valid_document_is_400(
    client: httpx.AsyncClient, lake: Lake, body: bytes, header_id: str | None
):
    before = await documents(lake)
    response = await client.post(
        "/api/webhooks/sanity", content=body, headers=signed_sanity(body, header_id)
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_payload"
    assert await documents(lake) == before


async def test_a_sanity_delivery_still_falls_back_to_the_document_id_header(
    client: httpx.AsyncClient,
):
    response = await client.post(
        "/api/webhooks/sanity", content=b"{}", headers=signed_sanity(b"{}", "product-railcam")
    )
    assert response.status_code == 200, response.text
    assert response.json()["productId"] == "product-railcam"


async def test_fulfil_documents_the_400_it_gives_for_an_overlong_session_id(
    client: httpx.AsyncClient,
):
    response = await client.post(
        f"/api/checkout-sessions/{'c' * 256}/fulfill",
        headers={"Authorization": f"Bearer {STOREFRONT_KEY}"},
    )
    assert response.status_code == 400
    spec = (await client.get("/openapi.json")).json()
    assert (
        "400" in spec["paths"]["/api/checkout-sessions/{session_id}/fulfill"]["post"]["responses"]
    )
