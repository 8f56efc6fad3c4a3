"""The Sanity webhook: verified, deduplicated, and acting only on what it re-reads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from cms_client import mutations as m
from service.integrations.errors import WebhookRejected
from service.integrations.sanity.signature import sign, verify_sanity_signature
from tests.entrypoints.http.conftest import STOREFRONT, assert_error_shape
from tests.integrations.conftest import RAILCAM, SANITY_SECRET, TEE, Shop
from tests.integrations.stripe import stripe_fixtures as sf

VECTOR_BODY = b'{"_id":"resume"}'
VECTOR_HEADER = "t=1633519811129,v1=tLa470fx7qkLLEcMOcEUFuBbRSkGujyskxrNXcoh0N0"


# -- the signature ------------------------------------------------------------------------


def test_sanitys_published_test_vector_is_accepted():
    verify_sanity_signature(VECTOR_BODY, VECTOR_HEADER, "test", now=None)


@pytest.mark.parametrize(
    ("body", "header"),
    [
        pytest.param(b'{"_id":"resumE"}', VECTOR_HEADER, id="body-byte"),
        pytest.param(VECTOR_BODY, VECTOR_HEADER[:-1] + "1", id="signature-char"),
        pytest.param(VECTOR_BODY, VECTOR_HEADER.replace("811129", "811128"), id="timestamp"),
    ],
)
def test_a_one_byte_change_is_rejected(body: bytes, header: str):
    with pytest.raises(WebhookRejected) as refused:
        verify_sanity_signature(body, header, "test", now=None)
    assert (refused.value.status, refused.value.code) == (401, "invalid_signature")


def test_the_age_check_refuses_an_old_but_valid_signature(clock):
    header = sign(VECTOR_BODY, "test", int(clock().timestamp() * 1000) - 301_000)
    with pytest.raises(WebhookRejected) as refused:
        verify_sanity_signature(VECTOR_BODY, header, "test", now=clock())
    assert refused.value.code == "stale_signature"
    verify_sanity_signature(VECTOR_BODY, header, "test", now=clock() - timedelta(seconds=10))


# -- deliveries ---------------------------------------------------------------------------


async def deliver(
    shop: Shop,
    doc_id: str = RAILCAM,
    *,
    key: str = "idem-1",
    transaction: str = "studio-tx-1",
    secret: str = SANITY_SECRET,
    age_ms: int = 0,
    signature: str | None = None,
) -> httpx.Response:
    body = json.dumps({"_id": doc_id, "_type": "product", "stockQuantity": 999}).encode()
    stamp = int(shop.clock().timestamp() * 1000) - age_ms
    if signature is None:
        signature = sign(body, secret, stamp)
    headers = {
        "content-type": "application/json",
        "idempotency-key": key,
        "sanity-transaction-id": transaction,
        "sanity-document-id": doc_id,
        "sanity-operation": "update",
        "sanity-webhook-signature": signature
        if signature is not None
        else sign(body, secret, stamp),
    }
    return await shop.client.post("/api/webhooks/sanity", content=body, headers=headers)


async def studio_sets(shop: Shop, doc_id: str, fields: dict[str, Any], tx: str = "studio-tx-1"):
    """An editor's publish: a transaction of Studio's, not stocksync's."""
    await shop.store.lake.mutate([m.patch(doc_id, set=fields)], transaction_id=tx)


async def explained(shop: Shop, doc_id: str = RAILCAM, size: str | None = None) -> int:
    """What the ledger says the stock is: the sum of every stock change it recorded."""
    return sum(
        e["newStockQuantity"] - e["previousStockQuantity"]
        for e in await shop.ledger(doc_id, skip_initial=False)
        if e.get("size") == size
    )


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        pytest.param({"signature": ""}, 400, "invalid_signature", id="missing"),
        pytest.param({"signature": "sha256=abc"}, 400, "invalid_signature", id="malformed"),
        pytest.param({"secret": "not-the-secret"}, 401, "invalid_signature", id="wrong"),
        pytest.param({"age_ms": 301_000}, 401, "stale_signature", id="stale"),
    ],
)
async def test_refused_signatures_write_nothing(
    shop: Shop, kwargs: dict[str, Any], status: int, code: str
):
    await studio_sets(shop, RAILCAM, {"stockQuantity": 9})
    before = await shop.count_documents()
    response = await deliver(shop, **kwargs)
    assert_error_shape(response, status, code)
    assert await shop.count_documents() == before


async def test_unset_secret_answers_503_naming_it(open_shop: Callable[..., Any]):
    async with open_shop(sanity_webhook_secret=None) as shop:
        body = assert_error_shape(await deliver(shop), 503, "not_configured")
        assert "SANITY_WEBHOOK_SECRET" in body["message"]


async def test_an_editors_stock_change_is_recorded_once(shop: Shop):
    await studio_sets(shop, RAILCAM, {"stockQuantity": 8})

    first = await deliver(shop)
    again = await deliver(shop)
    other_key = await deliver(shop, key="idem-2")

    assert first.status_code == 200, first.text
    body = first.json()
    assert body["action"] == "recorded"
    assert body["editorChanges"][0]["previousStock"] == 5
    assert body["editorChanges"][0]["newStock"] == 8
    assert again.json()["replayed"] is True
    assert other_key.json()["action"] == "unchanged"
    (entry,) = [e for e in await shop.ledger() if e["type"] == "editor"]
    assert (entry["quantityChange"], entry["actor"], entry["referenceId"]) == (
        3,
        "sanity-studio",
        "studio-tx-1",
    )
    assert await explained(shop) == 8


async def test_a_variant_edit_is_recorded_for_that_size(shop: Shop):
    tee = await shop.product(TEE)
    variants = [dict(v) for v in tee["variants"]]
    variants[1]["stockQuantity"] = 6  # m: 2 -> 6
    await studio_sets(shop, TEE, {"variants": variants})

    response = await deliver(shop, TEE)

    (change,) = response.json()["editorChanges"]
    assert (change["size"], change["previousStock"], change["newStock"]) == ("m", 2, 6)
    assert await explained(shop, TEE, "m") == 6
    assert await explained(shop, TEE, "s") == 3


async def test_one_publish_that_edits_two_sizes_records_both(shop: Shop):
    tee = await shop.product(TEE)
    variants = [dict(v) for v in tee["variants"]]
    variants[0]["stockQuantity"] = 1  # s: 3 -> 1
    variants[1]["stockQuantity"] = 6  # m: 2 -> 6
    await studio_sets(shop, TEE, {"variants": variants})

    response = await deliver(shop, TEE)

    changes = {
        c["size"]: (c["previousStock"], c["newStock"]) for c in response.json()["editorChanges"]
    }
    assert changes == {"s": (3, 1), "m": (2, 6)}
    entries = [e for e in await shop.ledger(TEE) if e["type"] == "editor"]
    assert sorted((e["size"], e["quantityChange"]) for e in entries) == [("m", 4), ("s", -2)]
    assert {e["referenceId"] for e in entries} == {"studio-tx-1"}


async def test_an_edit_of_a_product_with_open_holds_is_recorded_at_once(shop: Shop):
    await shop.reserve("cs_open", {"productId": "railcam", "quantity": 2})
    await studio_sets(shop, RAILCAM, {"stockQuantity": 10})

    # Delivered the moment it was published: the counters match the holds, nothing waits.
    response = await deliver(shop)

    assert response.status_code == 200, response.text
    assert response.json()["action"] == "recorded"
    assert response.json()["repaired"] == []
    assert await shop.counters() == (10, 2)


async def test_a_sale_between_the_publish_and_its_delivery_does_not_hide_the_edit(shop: Shop):
    await shop.reserve("cs_between", {"productId": "railcam", "quantity": 2})
    await studio_sets(shop, RAILCAM, {"stockQuantity": 10})  # the editor adds 5
    await shop.stripe("evt_paid", "checkout.session.completed", sf.checkout_session("cs_between"))
    assert await shop.counters() == (8, 0)

    response = await deliver(shop)

    (change,) = response.json()["editorChanges"]
    assert (change["previousStock"], change["newStock"]) == (3, 8)
    assert await explained(shop) == 8


async def test_a_product_first_seen_in_studio_is_explained_from_zero(shop: Shop):
    await shop.store.lake.mutate(
        [m.create({"_id": "product-new", "_type": "product", "title": "New", "stockQuantity": 7})],
        transaction_id="studio-create",
    )
    response = await deliver(shop, "product-new")
    (change,) = response.json()["editorChanges"]
    assert (change["previousStock"], change["newStock"]) == (0, 7)
    (entry,) = await shop.ledger("product-new")
    assert "first seen" in entry["reason"]


async def test_the_services_own_writes_are_ignored(shop: Shop):
    before = await shop.count_documents()
    response = await deliver(shop, transaction="stocksync-0123abcd")
    assert response.json()["action"] == "ignored"
    assert await shop.count_documents() == before


async def test_a_deleted_product_is_acknowledged(shop: Shop):
    await shop.store.lake.mutate([m.delete("product-railcam")], transaction_id="studio-del")
    response = await deliver(shop)
    assert response.status_code == 200
    assert response.json()["action"] == "missing"


async def test_a_draft_id_is_read_as_its_published_product(shop: Shop):
    await studio_sets(shop, RAILCAM, {"stockQuantity": 6})
    response = await deliver(shop, f"drafts.{RAILCAM}")
    assert response.json()["productId"] == RAILCAM
    assert response.json()["action"] == "recorded"


async def test_concurrent_deliveries_record_an_edit_once(shop: Shop):
    await studio_sets(shop, RAILCAM, {"stockQuantity": 12})

    responses = await asyncio.gather(*(deliver(shop, key=f"idem-{i % 3}") for i in range(9)))

    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert len([e for e in await shop.ledger() if e["type"] == "editor"]) == 1
    assert await explained(shop) == 12


async def test_a_stale_draft_publish_is_repaired_from_the_reservations(shop: Shop):
    response = await shop.client.post(
        "/api/reserve-stock",
        json={"sessionId": "cs_live", "operations": [{"productId": "railcam", "quantity": 2}]},
        headers=STOREFRONT,
    )
    assert response.status_code == 200
    assert await shop.counters() == (5, 2)
    shop.clock.advance(60)
    # A draft opened before the reserve is published: it carries reserved 0.
    stale = await shop.product()
    stale = {k: v for k, v in stale.items() if k not in ("_rev", "_createdAt", "_updatedAt")}
    stale["reservedQuantity"] = 0
    await shop.store.lake.mutate([m.create_or_replace(stale)], transaction_id="studio-publish")

    first = await deliver(shop, transaction="studio-publish")

    # Just published: a reservation made a moment ago might not show in a query yet, so
    # the repair waits for Sanity's retry, 30 s later.
    body = assert_error_shape(first, 503, "repair_pending")
    assert first.headers["Retry-After"] == "30"
    assert body["details"] == [f"productId: {RAILCAM}"]
    assert await shop.counters() == (5, 0)

    shop.clock.advance(31)
    retry = await deliver(shop, transaction="studio-publish")

    assert retry.status_code == 200, retry.text
    assert retry.json()["repaired"] == [{"productId": RAILCAM, "recorded": 0, "expected": 2}]
    assert await shop.counters() == (5, 2)
    assert "reconcile" in [e["type"] for e in await shop.ledger()]
    messages = [log["message"] for log in await shop.error_logs()]
    assert any("stale draft" in msg for msg in messages), messages
    assert (await deliver(shop, transaction="studio-publish")).json()["replayed"] is True
    # The hold is intact: paying for it deducts stock and reserved as usual.
    await shop.stripe("evt_paid", "checkout.session.completed", sf.checkout_session("cs_live"))
    assert await shop.counters() == (3, 0)


async def test_a_body_without_an_id_is_400(shop: Shop):
    body = b'{"title": "x"}'
    stamp = int(shop.clock().timestamp() * 1000)
    response = await shop.client.post(
        "/api/webhooks/sanity",
        content=body,
        headers={"sanity-webhook-signature": sign(body, SANITY_SECRET, stamp)},
    )
    assert_error_shape(response, 400, "invalid_payload")
