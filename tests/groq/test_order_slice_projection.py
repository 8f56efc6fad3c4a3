"""order() with GROQ's total order, slices at their bounds, projections and `^`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.groq.conftest import Run

R1, R2, R3 = (f"inventory.reservation.s{i}" for i in (1, 2, 3))


def test_order_by_number(run: Run) -> None:
    products = '*[_type == "product"]'
    assert run(products + " | order(price asc)._id") == ["p3", "p1", "drafts.p1", "p2"]
    assert run(products + " | order(price)._id") == ["p3", "p1", "drafts.p1", "p2"]
    assert run(products + " | order(price desc)._id") == ["p2", "drafts.p1", "p1", "p3"]


def test_order_of_mixed_types_follows_the_total_order(run: Run) -> None:
    values = '[3, "b", null, true, dateTime("2020-01-01T00:00:00Z"), 1, "a", false, [1], {"x": 1}]'
    # datetimes < numbers < strings < booleans < everything else (all equal, input order).
    assert run(values + " | order(@)") == [
        "2020-01-01T00:00:00Z",
        1,
        3,
        "a",
        "b",
        False,
        True,
        None,
        [1],
        {"x": 1},
    ]
    # `desc` reverses the comparison, so the "everything else" group comes first.
    assert run(values + " | order(@ desc)") == [
        None,
        [1],
        {"x": 1},
        True,
        False,
        "b",
        "a",
        3,
        1,
        "2020-01-01T00:00:00Z",
    ]


def test_missing_values_sort_last_ascending_and_first_descending(run: Run) -> None:
    logs = '*[_type == "errorLog"]'
    assert run(logs + " | order(resolved asc)._id") == ["e1", "e4", "e3", "e2"]
    assert run(logs + " | order(resolved desc)._id") == ["e2", "e3", "e1", "e4"]


def test_order_by_several_keys_and_stability(run: Run) -> None:
    logs = '*[_type == "errorLog"]'
    assert run(logs + " | order(severity desc, _id desc)._id") == ["e4", "e3", "e2", "e1"]
    assert run(logs + " | order(severity asc, _id desc)._id") == ["e3", "e2", "e1", "e4"]
    assert run('*[_type == "stockReservation"] | order(status)._id') == [R1, R2, R3]
    assert run('*[_type == "stockReservation"] | order(status desc)._id') == [R3, R1, R2]


def test_order_by_datetime_differs_from_string_order(run: Run) -> None:
    docs = [
        {"_id": "a", "_type": "t", "at": "2025-03-01T10:00:00Z"},
        {"_id": "b", "_type": "t", "at": "2025-03-01T11:30:00+02:00"},  # 09:30 UTC
    ]
    assert run("*[_type == 't'] | order(at asc)._id", docs=docs) == ["a", "b"]
    assert run("*[_type == 't'] | order(dateTime(at) asc)._id", docs=docs) == ["b", "a"]


def test_order_of_a_non_array_is_null(run: Run) -> None:
    assert run('"x" | order(@)') is None
    assert run('*[_id == "p1"][0] | order(title)') is None


@pytest.mark.parametrize(
    ("slice_", "expected"),
    [
        ("[1...3]", [1, 2]),
        ("[1..3]", [1, 2, 3]),
        ("[0...0]", []),
        ("[0..0]", [0]),
        ("[3...10]", [3, 4]),
        ("[5...10]", []),
        ("[4..4]", [4]),
        ("[-2..-1]", [3, 4]),
        ("[-2...-1]", [3]),
        ("[-10...2]", [0, 1]),
        ("[3...1]", []),
        ("[0...-1]", [0, 1, 2, 3]),
        ("[0..-1]", [0, 1, 2, 3, 4]),
        ("[2]", 2),
        ("[5]", None),
        ("[-1]", 4),
        ("[-5]", 0),
        ("[-6]", None),
    ],
)
def test_slices_and_indexes_at_the_bounds(run: Run, slice_: str, expected: Any) -> None:
    assert run("[0, 1, 2, 3, 4]" + slice_) == expected


def test_slices_of_queries(run: Run) -> None:
    assert run("[][0...1]") == []
    assert run("[][0]") is None
    assert run('"abc"[0...1]') is None
    assert run('*[_type == "product"][0...2]._id') == ["p1", "p2"]
    assert run("[0, 1, 2, 3, 4][$a...$b]", a=1, b=3) == [1, 2]
    assert run('*[_type == "product"] | order(price desc)[0]._id') == "p2"
    assert run('*[_type == "product"] | order(price desc)[0..1]{_id}') == [
        {"_id": "p2"},
        {"_id": "drafts.p1"},
    ]
    assert run('*[_id == "none"][0]') is None


def test_projection_with_renames_and_missing_values(run: Run) -> None:
    assert run('*[_id == "p1"]{_id, title, "slug": slug.current, "inStock": stock > 0}') == [
        {"_id": "p1", "title": "Mug", "slug": "mug", "inStock": True}
    ]
    assert run('*[_id == "p3"]{_id, stock, "inStock": stock > 0}') == [
        {"_id": "p3", "stock": None, "inStock": None}
    ]
    assert run('*[_type == "errorLog"] | {_id}') == [
        {"_id": "e1"},
        {"_id": "e2"},
        {"_id": "e3"},
        {"_id": "e4"},
    ]


def test_spread_and_override(run: Run) -> None:
    cap = '*[_id == "p3"][0]'
    assert run(cap + '{..., "title": "Hat", "new": 1}') == {
        "_id": "p3",
        "_type": "product",
        "title": "Hat",
        "price": 8.5,
        "new": 1,
    }
    # The spread comes later, so the document's own title wins.
    assert run(cap + '{"title": "Hat", ...}') == {
        "title": "Cap",
        "_id": "p3",
        "_type": "product",
        "price": 8.5,
    }
    assert run('*[_id == "p1"][0]{_id, ...slug}') == {"_id": "p1", "current": "mug"}
    assert run('{..."x", ...null, "a": 1}') == {"a": 1}


def test_conditional_spread(run: Run) -> None:
    assert run('*[_type == "product"]{_id, defined(stock) => {stock}}') == [
        {"_id": "p1", "stock": 5},
        {"_id": "p2", "stock": 0},
        {"_id": "drafts.p1"},
        {"_id": "p3"},
    ]


def test_names_implied_by_bare_entries(run: Run) -> None:
    assert run('*[_id == "p1"][0]{tags[0], variants[size == "m"]{sku}}') == {
        "tags": "kitchen",
        "variants": [{"sku": "MUG-M"}],
    }
    assert run('*[_type == "stockReservation"][0]{items[].productId}') == {"items": ["p1", "p2"]}


def test_projection_of_non_objects_is_null(run: Run) -> None:
    assert run('*[_id == "p1"][0].title{a}') is None
    assert run('[{"a": 1}, 2]{a}') == [{"a": 1}, None]


def test_nested_projections(run: Run) -> None:
    assert run('*[_id == "p2"]{"sizes": variants[]{size, "left": stock}}') == [
        {"sizes": [{"size": "m", "left": 3}, {"size": "l", "left": 1}]}
    ]


def test_parent_scope(run: Run) -> None:
    assert run(
        '*[_type == "product" && defined(variants)]{_id, "skus": variants[]{sku, "of": ^._id}}'
    ) == [
        {"_id": "p1", "skus": [{"sku": "MUG-S", "of": "p1"}, {"sku": "MUG-M", "of": "p1"}]},
        {"_id": "p2", "skus": [{"sku": "TEE-M", "of": "p2"}, {"sku": "TEE-L", "of": "p2"}]},
    ]
    assert run(
        '*[_type == "product" && defined(slug)]{_id,'
        ' "held": *[_type == "stockReservation" && ^._id in items[].productId]._id}'
    ) == [{"_id": "p1", "held": [R1]}, {"_id": "p2", "held": [R1, R2]}]
    assert run(
        '*[_id == "p1"]{"v": variants[]{"x": *[_id == "p2"]{"outer": ^.^._id, "mid": ^.sku}[0]}}'
    ) == [
        {
            "v": [
                {"x": {"outer": "p1", "mid": "MUG-S"}},
                {"x": {"outer": "p1", "mid": "MUG-M"}},
            ]
        }
    ]
    assert run("^") is None
    assert run("^.^.x") is None
