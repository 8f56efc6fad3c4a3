"""`*`, filters, attribute paths, array traversal, parameters, and the `_type` hint."""

from __future__ import annotations

from typing import Any

import pytest

from cms_client.groq import evaluate
from tests.groq.conftest import DOCS, NOW, IgnoringSource, Run, SpySource

ALL_IDS = [
    "p1",
    "p2",
    "drafts.p1",
    "p3",
    "inventory.reservation.s1",
    "inventory.reservation.s2",
    "inventory.reservation.s3",
    "e1",
    "e2",
    "e3",
    "e4",
]


def test_everything_and_implicit_array_traversal(run: Run) -> None:
    assert run("*") == DOCS
    assert run("*._id") == ALL_IDS
    assert run("count(*)") == 11
    assert run('*[_type == "errorLog"]._id') == ["e1", "e2", "e3", "e4"]
    assert run("*[true]._id") == ALL_IDS
    assert run("*[null]") == []
    assert run("*[1]") == DOCS[1]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('*[_id == "p1"][0].slug.current', "mug"),
        ('*[_id == "p1"][0]["title"]', "Mug"),
        ('*[_id == "p1"][0].tags[0]', "kitchen"),
        ('*[_id == "p1"][0].tags[-1]', "gift"),
        ('*[_id == "p1"][0].tags[2]', None),
        ('*[_id == "p1"][0].tags[-3]', None),
        ('*[_id == "p1"][0].title.x', None),
        ('*[_id == "p1"][0].tags.x', None),
        ('*[_id == "p1"][0].title[0]', None),
        ('*[_id == "p1"][0].title[]', None),
        ('*[_id == "p1"][0].variants.sku', None),
        ('*[_id == "p1"][0].variants[].sku', ["MUG-S", "MUG-M"]),
        ('*[_id == "p1"][0].variants[size == "m"][0].sku', "MUG-M"),
        ('*[_id == "p1"][0].variants[stock > 0].sku', ["MUG-S"]),
        ('*[_id == "p1"][0].tags[@ == "gift"]', ["gift"]),
        ("[1, 5, 10][@ > 2]", [5, 10]),
        ('*[_id == "missing"][0].title', None),
        # Spec EvaluateFilter: a filter over a non-array gives the value back unchanged.
        ('*[_id == "p1"][0].title[true]', "Mug"),
    ],
)
def test_attribute_paths_and_element_access(run: Run, query: str, expected: Any) -> None:
    assert run(query) == expected


def test_array_traversal_maps_and_flattens(run: Run) -> None:
    reservations = '*[_type == "stockReservation"]'
    assert run(reservations + ".items[].productId") == ["p1", "p2", "p2"]
    assert run(reservations + ".items[0].productId") == ["p1", "p2", None]
    assert run(reservations + ".items[]._key") == ["i1", "i2", "i3"]
    assert run(reservations + ".items") == [
        [
            {"_key": "i1", "productId": "p1", "quantity": 2},
            {"_key": "i2", "productId": "p2", "quantity": 1},
        ],
        [{"_key": "i3", "productId": "p2", "quantity": 4}],
        [],
    ]
    assert run("[[1, 2], [3], 4][]") == [[1, 2], [3], 4]
    assert run('[{"a": [1, 2]}, {"a": [3]}, {"b": 1}].a') == [[1, 2], [3], None]
    assert run('[{"a": [1, 2]}, {"a": [3]}, {"b": 1}].a[]') == [1, 2, 3, None]


def test_filters_on_nested_arrays(run: Run) -> None:
    reservations = '*[_type == "stockReservation"'
    assert run(reservations + ' && count(items[productId == "p2"]) > 0]._id') == [
        "inventory.reservation.s1",
        "inventory.reservation.s2",
    ]
    assert run(reservations + ' && "p1" in items[].productId]._id') == ["inventory.reservation.s1"]
    assert run('*[_id == "p2"][0].variants[_key == $k].sku', k="d") == ["TEE-L"]


def test_brackets_are_decided_by_parameter_values(run: Run) -> None:
    product = '*[_id == "p1"][0]'
    assert run(product + ".tags[$i]", i=1) == "gift"
    assert run(product + ".tags[$i]", i=-2) == "kitchen"
    assert run(product + "[$field]", field="title") == "Mug"
    assert run(product + ".tags[$flag]", flag=True) == ["kitchen", "gift"]
    assert run(product + ".tags[$flag]", flag=False) == []


@pytest.mark.parametrize(
    ("query", "params", "expected"),
    [
        ("$s", {"s": "x"}, "x"),
        ("*[price == $n]._id", {"n": 20}, ["p2"]),
        ("*[price == $n]._id", {"n": 8.5}, ["p3"]),
        ('*[_type == "errorLog" && resolved == $b]._id', {"b": False}, ["e1", "e4"]),
        ('*[_type == "errorLog" && resolved == $nil]._id', {"nil": None}, ["e2"]),
        ("*[_id in $ids]._id", {"ids": ["e2", "p2", "nope"]}, ["p2", "e2"]),
        ("$obj.a.b", {"obj": {"a": {"b": [1, 2]}}}, [1, 2]),
        ("$obj", {"obj": {"a": [{"b": None}]}}, {"a": [{"b": None}]}),
        ("$arr[1]", {"arr": ["x", "y"]}, "y"),
        ("[$a, $b]", {"$a": 1, "b": 2}, [1, 2]),
        ("$f + 1", {"f": float("nan")}, None),
        ("$t", {"t": ("a", "b")}, ["a", "b"]),
    ],
)
def test_parameters_of_every_json_type(
    run: Run, query: str, params: dict[str, Any], expected: Any
) -> None:
    assert run(query, **params) == expected


def spy_run(query: str, **params: Any) -> tuple[Any, list[frozenset[str] | None]]:
    source = SpySource(DOCS)
    result = evaluate(query, source, params, now=NOW)
    return result, source.calls


@pytest.mark.parametrize(
    ("query", "params", "expected_types"),
    [
        ('*[_type == "product" && price > 10]', {}, {"product"}),
        ("*[_type == $t]", {"t": "errorLog"}, {"errorLog"}),
        ('*["product" == _type]', {}, {"product"}),
        ('*[(_type in ["product", "errorLog"]) && defined(price)]', {}, {"product", "errorLog"}),
        ("*[_type in $types && true]", {"types": ["errorLog"]}, {"errorLog"}),
        ('*[_type == "product" && _type in ["product", "errorLog"]]', {}, {"product"}),
        ('*[_type == "product" || _type == "errorLog"]', {}, None),
        ('*[_id == "p1"]', {}, None),
        ("*[_type == $t]", {"t": None}, None),
        ('*[_type in ["product", null]]', {}, None),
        ('*[!(_type == "product")]', {}, None),
    ],
)
def test_type_names_are_passed_to_the_source(
    query: str, params: dict[str, Any], expected_types: set[str] | None
) -> None:
    _, calls = spy_run(query, **params)
    assert calls == [None if expected_types is None else frozenset(expected_types)]


def test_type_hint_results_match_a_source_that_ignores_it() -> None:
    query = '*[_type in ["product", "errorLog"] && defined(price) || _type == "errorLog" && false]'
    hinted = evaluate(query, SpySource(DOCS), now=NOW)
    assert evaluate(query, IgnoringSource(DOCS), now=NOW) == hinted
    assert [d["_id"] for d in hinted] == ["p1", "p2", "drafts.p1", "p3"]
    conflicting = '*[_type == "product" && _type == "errorLog"]'
    assert spy_run(conflicting) == ([], [frozenset()])
    assert evaluate(conflicting, IgnoringSource(DOCS), now=NOW) == []


def test_subquery_fetches_its_documents_once() -> None:
    result, calls = spy_run(
        '*[_type == "product"]{_id, "n": count(*[_type == "stockReservation"'
        " && references(^._id)])}"
    )
    assert result == [
        {"_id": "p1", "n": 1},
        {"_id": "p2", "n": 0},
        {"_id": "drafts.p1", "n": 0},
        {"_id": "p3", "n": 0},
    ]
    assert calls == [frozenset({"product"}), frozenset({"stockReservation"})]


def test_list_source_keeps_document_order_across_types() -> None:
    source = SpySource(DOCS)
    ids = [d["_id"] for d in source.documents(["errorLog", "product"])]
    assert ids == ["p1", "p2", "drafts.p1", "p3", "e1", "e2", "e3", "e4"]
    assert list(source.documents(["nothing"])) == []
