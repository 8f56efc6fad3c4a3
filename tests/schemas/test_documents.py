"""The document models: Sanity's field names, lenient product reads, private ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cms_client.ids import id_problem
from schemas import (
    ErrorLog,
    IdempotencyRecord,
    InventoryTransaction,
    Product,
    ReserveResult,
    StockReservation,
    error_id,
    idempotency_id,
    ledger_id,
    reservation_id,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_products_without_counters_read_as_zero_and_keep_shop_fields() -> None:
    product = Product.model_validate(
        {
            "_id": "p1",
            "_type": "product",
            "_rev": "r",
            "price": 12.5,
            "variants": [
                {"_key": "k", "size": "m", "stockQuantity": 3.0, "reservedQuantity": None}
            ],
        }
    )
    assert (product.stock_quantity, product.reserved_quantity) == (0, 0)
    (variant,) = product.variants
    assert (variant.key, variant.stock_quantity, variant.reserved_quantity) == ("k", 3, 0)
    assert product.model_extra == {"price": 12.5}
    assert Product.model_validate({"_id": "p", "_type": "product", "variants": None}).variants == []


def test_service_documents_dump_in_sanity_shape() -> None:
    reservation = StockReservation(
        id=reservation_id("cs_1"), session_id="cs_1", created_at=NOW, expires_at=NOW
    )
    doc = reservation.to_document()
    assert doc["_id"] == "inventory.reservation.cs_1" and doc["_type"] == "stockReservation"
    assert doc["sessionId"] == "cs_1" and doc["expiresAt"] == "2026-11-21T12:00:00.000Z"
    assert "_rev" not in doc
    assert StockReservation.model_validate(doc) == reservation
    entry = InventoryTransaction(
        id=ledger_id("tok", 0),
        product_id="p1",
        entry_type="sale",
        quantity_change=-1,
        previous_stock_quantity=3,
        new_stock_quantity=2,
        previous_reserved_quantity=1,
        new_reserved_quantity=0,
        created_at=NOW,
    )
    assert entry.to_document()["type"] == "sale"
    assert (entry.stock_change, entry.reserved_change) == (-1, -1)
    log = ErrorLog(
        id=error_id("x"),
        error_type="stock_deduction",
        severity="critical",
        message="m",
        created_at=NOW,
    )
    assert (
        log.to_document()["_type"] == "errorLog" and log.to_document()["type"] == "stock_deduction"
    )
    record = IdempotencyRecord(
        id=idempotency_id("k"),
        key="k",
        operation="commit",
        fingerprint="f",
        response="{}",
        created_at=NOW,
        expires_at=NOW,
    )
    assert record.to_document()["_id"].startswith("inventory.idempotency.")


@pytest.mark.parametrize(
    "session",
    ["cs_test_a1B2c3", "x" * 106, "x" * 107, "has.dots", "-leading", "ünïcode", "a b/c", ""],
)
def test_reservation_ids_are_valid_private_and_deterministic(session: str) -> None:
    doc_id = reservation_id(session)
    assert id_problem(doc_id) is None, doc_id
    assert doc_id.startswith("inventory.reservation.")
    assert doc_id == reservation_id(session)


def test_clean_session_ids_are_kept_and_others_never_collide_with_them() -> None:
    assert reservation_id("cs_test_123") == "inventory.reservation.cs_test_123"
    hashed = reservation_id("a.b")
    assert hashed.startswith("inventory.reservation.h.")
    # A clean id can never contain the dot that separates `h` from the hash.
    assert reservation_id(hashed.removeprefix("inventory.reservation.")) != hashed
    assert reservation_id("a b") != reservation_id("a_b")


def test_idempotency_ids_hash_the_key() -> None:
    doc_id = idempotency_id("webhook:checkout.session.completed:evt_1")
    assert id_problem(doc_id) is None
    assert len(doc_id.removeprefix("inventory.idempotency.")) == 64


def test_results_round_trip_through_json() -> None:
    result = ReserveResult(
        session_id="s", reservation_id="r", status="active", expires_at=NOW, lines=[]
    )
    again = ReserveResult.model_validate_json(result.model_dump_json())
    assert again == result
