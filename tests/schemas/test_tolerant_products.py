"""Design rule 10: any product a Studio can save is read; stock fields are strict."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from schemas import Product, Quarantine, read_product
from tests.support.documents import product_documents


def doc(**fields: Any) -> dict[str, Any]:
    return {"_id": "p1", "_type": "product", "_rev": "r1", **fields}


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("Railcam", "Railcam"),
        ({"_type": "localeString", "en": "Hat", "de": "Hut"}, "Hat"),
        ({"en": "", "de": "Hut"}, "Hut"),
        ([{"_key": "de", "_type": "internationalizedArrayStringValue", "value": "Hut"}], "Hut"),
        (
            [{"_type": "block", "children": [{"_type": "span", "text": "Rail"}, {"text": "cam"}]}],
            "Railcam",
        ),
        (1984, "1984"),
        (5.0, "5"),
        (None, "p1"),
        (True, "p1"),
        ({"en": {"_type": "x"}}, "p1"),
    ],
)
def test_titles_in_any_shape_read_as_text_or_the_id(title: Any, shown: str) -> None:
    product = read_product(doc(title=title))
    assert isinstance(product, Product)
    assert product.display_title == shown


def test_numbers_in_text_fields_read_as_text_and_whole_floats_as_integers() -> None:
    product = read_product(
        doc(
            slug="railcam",
            stockQuantity=5.0,
            lowStockThreshold="3",
            variants=[{"_key": 7, "size": 42, "sku": 4006381333931, "stockQuantity": 2.0}],
        )
    )
    assert isinstance(product, Product)
    assert product.slug_current == "railcam"
    assert product.stock_quantity == 5
    assert product.low_stock_threshold is None
    (variant,) = product.variants
    assert (variant.key, variant.size, variant.sku, variant.stock_quantity) == (
        None,
        "42",
        "4006381333931",
        2,
    )


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"stockQuantity": 5.5}, "stockQuantity", "whole number, not 5.5"),
        ({"stockQuantity": "5"}, "stockQuantity", "whole number, not text"),
        ({"reservedQuantity": True}, "reservedQuantity", "whole number, not a boolean"),
        ({"variants": {"s": 1}}, "variants", "list of variants, not an object"),
        ({"variants": "s,m"}, "variants", "list of variants, not text"),
        ({"variants": [{"_key": "a"}, 3]}, "variants[1]", "object, not a number"),
        (
            {"variants": [{"_key": "a", "stockQuantity": [1]}]},
            "variants[0].stockQuantity",
            "whole number, not an array",
        ),
    ],
)
def test_uninterpretable_stock_fields_quarantine_with_field_and_reason(
    fields: dict[str, Any], field: str, reason: str
) -> None:
    found = read_product(doc(title={"en": "Hat"}, **fields))
    assert isinstance(found, Quarantine)
    assert (found.product_id, found.title, found.field) == ("p1", "Hat", field)
    assert reason in found.reason


@settings(max_examples=300, deadline=None)
@given(product_documents())
def test_any_document_a_studio_can_save_reads_without_raising(document: dict[str, Any]) -> None:
    found = read_product(document)
    if isinstance(found, Quarantine):
        assert found.field and found.reason
        assert found.product_id == document["_id"]
    else:
        assert isinstance(found.display_title, str) and found.display_title
        assert all(isinstance(v.size, str | None) for v in found.variants)
