"""Velocity, cover, sell-through and reorder suggestions, exactly as issue 16 defines them."""

from __future__ import annotations

from typing import Any

import pytest

from service.read_models.stock_lines import product_lines
from service.read_models.stock_metrics import (
    LineRef,
    Movement,
    at_or_below,
    metrics,
    suggested_quantity,
    tally,
)


def entry(kind: str, change: int, product: str = "p", **extra: Any) -> dict[str, Any]:
    return {"type": kind, "quantityChange": change, "productId": product, **extra}


def test_sales_and_refunds_are_counted_per_line_and_other_entries_ignored() -> None:
    lines = [LineRef("p"), LineRef("v", "k-m", "m"), LineRef("v", "k-l", "l")]
    moved = tally(
        [
            entry("sale", -3),
            entry("sale", -2),
            entry("refund", 1),
            entry("reservation", 4),  # a hold is not a sale
            entry("restock", 10),
            entry("sale", -5, "v", variantKey="k-m", size="m"),
            entry("cancellation", 2, "v", variantKey="k-m", size="m"),
            entry("return", 1, "v", variantKey="old-key", size="L"),  # re-created variant
            entry("sale", -9, "gone"),  # a product that no longer exists
        ],
        lines,
    )
    assert moved[lines[0]] == Movement(sold=5, refunded=1)
    assert moved[lines[1]] == Movement(sold=5, refunded=2)
    assert moved[lines[2]] == Movement(sold=0, refunded=1)


def test_figures_follow_the_definitions() -> None:
    m = metrics(Movement(sold=12, refunded=3), available=6, days=30)
    assert (m.units_sold, m.units_refunded, m.net_units) == (12, 3, 9)
    assert m.velocity_per_day == pytest.approx(9 / 30)
    assert m.days_of_cover == pytest.approx(6 / (9 / 30))
    assert m.sell_through == pytest.approx(12 / 18)


def test_no_velocity_means_no_cover_and_nothing_at_all_means_no_sell_through() -> None:
    idle = metrics(Movement(), available=0, days=7)
    assert (idle.velocity_per_day, idle.days_of_cover, idle.sell_through) == (0, None, None)
    returned_more = metrics(Movement(sold=1, refunded=3), available=4, days=7)
    assert returned_more.velocity_per_day < 0 and returned_more.days_of_cover is None
    sold_out = metrics(Movement(sold=4), available=0, days=7)
    assert (sold_out.days_of_cover, sold_out.sell_through) == (0, 1)


def test_a_window_needs_a_day() -> None:
    with pytest.raises(ValueError):
        metrics(Movement(), available=1, days=0)


def test_suggestion_is_the_reorder_quantity_when_set_else_thirty_days_of_cover() -> None:
    assert suggested_quantity(reorder_quantity=24, velocity_per_day=5, available=0) == 24
    assert suggested_quantity(reorder_quantity=0, velocity_per_day=5, available=0) == 0
    # 2 a day for 30 days is 60 units; 12 are available.
    assert suggested_quantity(reorder_quantity=None, velocity_per_day=2, available=12) == 48
    # Part of a unit is a whole unit to order, but float noise is not.
    assert suggested_quantity(reorder_quantity=None, velocity_per_day=0.1, available=0) == 3
    assert suggested_quantity(reorder_quantity=None, velocity_per_day=0.11, available=0) == 4
    # Enough cover already, or stock coming back: never below zero.
    assert suggested_quantity(reorder_quantity=None, velocity_per_day=1, available=40) == 0
    assert suggested_quantity(reorder_quantity=None, velocity_per_day=-1, available=0) == 0


def test_at_or_below_the_point() -> None:
    assert at_or_below(3, 3) and at_or_below(0, 0) and at_or_below(2, 3)
    assert not at_or_below(4, 3) and not at_or_below(0, None)


def test_lines_of_a_product_take_reorder_settings_from_the_variant_else_the_product() -> None:
    doc = {
        "_id": "product-tee",
        "_type": "product",
        "title": "Tee",
        "slug": {"current": "tee"},
        "reorderPoint": 2,
        "reorderQuantity": 10,
        "lowStockThreshold": 3,
        "variants": [
            {"_key": "s", "size": "s", "sku": "TEE-S", "stockQuantity": 5, "reservedQuantity": 1},
            {
                "_key": "m",
                "size": "m",
                "stockQuantity": 1,
                "reservedQuantity": 2,
                "reorderPoint": 4,
                "reorderQuantity": "many",
            },
        ],
    }
    s, m = product_lines(doc, default_threshold=5)
    assert (s.product_id, s.sku, s.available, s.state, s.reorder_point, s.reorder_quantity) == (
        "tee",
        "TEE-S",
        4,
        "in_stock",
        2,
        10,
    )
    # A reorder quantity that is not a whole number reads as unset (the product's applies).
    assert (m.available, m.state, m.reorder_point, m.reorder_quantity) == (0, "out_of_stock", 4, 10)
    (plain,) = product_lines(
        {"_id": "p", "_type": "product", "stockQuantity": 7, "sku": "P-1", "reorderPoint": -3},
        default_threshold=5,
    )
    assert (plain.product_id, plain.sku, plain.state, plain.reorder_point) == (
        "p",
        "P-1",
        "in_stock",
        None,
    )
