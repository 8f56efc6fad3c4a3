"""Reading state changes from the documents one committed transaction returned."""

from __future__ import annotations

from typing import Any

from service.integrations.alerts.crossings import crossings
from service.integrations.alerts.records import alert_id


def entry(
    n: int,
    product: str,
    before: tuple[int, int],
    after: tuple[int, int],
    *,
    size: str | None = None,
    key: str | None = None,
    token: str = "stocksync-t1",
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_id": f"inventory.tx.{token}-{n}",
        "_type": "inventoryTransaction",
        "productId": product,
        "productTitle": "Old title",
        "type": "sale",
        "quantityChange": after[0] - before[0],
        "previousStockQuantity": before[0],
        "previousReservedQuantity": before[1],
        "newStockQuantity": after[0],
        "newReservedQuantity": after[1],
        "transactionId": token,
        "createdAt": "2026-11-21T12:00:00.000Z",
    }
    if size:
        doc["size"] = size
    if key:
        doc["variantKey"] = key
    return doc


def by_id(*docs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {doc["_id"]: doc for doc in docs}


def test_a_move_within_a_state_is_no_crossing() -> None:
    docs = by_id(entry(0, "p", (20, 0), (12, 0)), {"_id": "p", "_type": "product"})
    assert crossings(docs, 5) == []


def test_state_uses_the_products_own_threshold_and_title() -> None:
    product = {"_id": "p", "_type": "product", "title": "Zine", "lowStockThreshold": 10}
    (found,) = crossings(by_id(entry(0, "p", (20, 0), (12, 2)), product), 5)
    assert (found.before, found.after, found.available, found.threshold) == (
        "in_stock",
        "low_stock",
        10,
        10,
    )
    assert found.title == "Zine" and found.is_alert and not found.is_recovery


def test_without_the_product_document_the_default_threshold_and_ledger_title_apply() -> None:
    (found,) = crossings(by_id(entry(0, "p", (6, 0), (5, 0))), 5)
    assert (found.after, found.threshold, found.title) == ("low_stock", 5, "Old title")


def test_reserved_counts_against_available_and_never_below_zero() -> None:
    (found,) = crossings(by_id(entry(0, "p", (3, 0), (3, 4))), 5)
    assert (found.after, found.available) == ("out_of_stock", 0)


def test_several_entries_of_one_line_are_one_move_first_before_to_last_after() -> None:
    # An expiry reclaimed (reserved 4 -> 0) then a new hold (0 -> 9), in one transaction.
    docs = by_id(
        entry(1, "p", (9, 0), (9, 9), size="M"),
        entry(0, "p", (9, 4), (9, 0), size="m"),
        {"_id": "p", "_type": "product", "title": "Tee"},
    )
    (found,) = crossings(docs, 5)
    assert (found.before, found.after, found.size, found.line) == (
        "low_stock",
        "out_of_stock",
        "M",
        "size-m",
    )
    assert found.label == "Tee (M)"


def test_lines_of_one_product_are_told_apart_by_variant() -> None:
    docs = by_id(
        entry(0, "p", (6, 0), (0, 0), key="k-s", size="s"),
        entry(1, "p", (6, 0), (6, 0), key="k-m", size="m"),
        entry(2, "p", (0, 0), (8, 0), key="k-l", size="l"),
    )
    found = {(c.variant_key, c.before, c.after) for c in crossings(docs, 5)}
    assert found == {("k-s", "in_stock", "out_of_stock"), ("k-l", "out_of_stock", "in_stock")}


def test_a_partial_restock_is_neither_alert_nor_recovery() -> None:
    (found,) = crossings(by_id(entry(0, "p", (0, 0), (2, 0))), 5)
    assert (found.before, found.after) == ("out_of_stock", "low_stock")
    assert not found.is_alert and not found.is_recovery


def test_documents_other_than_ledger_entries_are_ignored() -> None:
    docs = by_id(
        {"_id": "inventory.reservation.cs_1", "_type": "stockReservation"},
        {"_id": "p", "_type": "product", "stockQuantity": 0},
    )
    assert crossings(docs, 5) == []


def test_alert_ids_are_readable_when_they_can_be_and_never_collide() -> None:
    assert alert_id("product-railcam", None) == "inventory.alert.product-railcam"
    assert alert_id("product-tee", "size-m") == "inventory.alert.product-tee.size-m"
    odd = alert_id("product.with.dots", "m")
    assert odd.startswith("inventory.alert.h.") and len(odd) <= 128
    assert odd != alert_id("product.with", "dots.m")
