"""The GROQ subset through `query()`, with results written by hand from the GROQ spec.

The stores' clock stands at 2026-11-21T12:00:00Z, so `now()` is that instant.
"""

from __future__ import annotations

from typing import Any

import pytest

from cms_client import mutations as m
from cms_client.store import DocumentStore

DATASET: list[dict[str, Any]] = [
    {
        "_id": "p1",
        "_type": "product",
        "title": "Boot",
        "sku": "B-1",
        "price": 120,
        "stock": 4,
        "tags": ["winter", "leather"],
        "dims": {"w": 10},
    },
    {
        "_id": "p2",
        "_type": "product",
        "title": "Sandal",
        "sku": "S-1",
        "price": 40,
        "stock": 0,
        "tags": ["summer"],
    },
    {
        "_id": "p3",
        "_type": "product",
        "title": "Clog",
        "sku": "C-1",
        "price": 60,
        "stock": 12,
        "tags": [],
        "discontinued": True,
    },
    {
        "_id": "inventory.reservation.s1",
        "_type": "stockReservation",
        "status": "active",
        "expiresAt": "2026-11-21T11:59:00Z",
        "qty": 2,
    },
    {
        "_id": "inventory.reservation.s2",
        "_type": "stockReservation",
        "status": "active",
        "expiresAt": "2026-11-21T12:30:00Z",
        "qty": 1,
    },
    {
        "_id": "inventory.reservation.s3",
        "_type": "stockReservation",
        "status": "released",
        "expiresAt": "2026-11-21T11:00:00Z",
        "qty": 5,
    },
]

PRODUCTS = '*[_type == "product"]'

CASES: list[tuple[str, str, dict[str, Any], Any]] = [
    ("count", f"count({PRODUCTS})", {}, 3),
    (
        "equality-and-greater",
        f"{PRODUCTS}[stock > 0] | order(_id asc){{_id}}",
        {},
        [{"_id": "p1"}, {"_id": "p3"}],
    ),
    ("not-equal", '*[_type == "product" && sku != "B-1"] | order(_id asc)._id', {}, ["p2", "p3"]),
    (
        "range",
        f"{PRODUCTS}[price >= 60 && price <= 120] | order(price asc){{sku}}",
        {},
        [{"sku": "C-1"}, {"sku": "B-1"}],
    ),
    ("less-than", f"{PRODUCTS}[price < 60]._id", {}, ["p2"]),
    ("or", f"{PRODUCTS}[stock == 0 || discontinued] | order(_id asc)._id", {}, ["p2", "p3"]),
    (
        "not-of-comparison",
        f"{PRODUCTS}[!(discontinued == true)] | order(_id asc)._id",
        {},
        ["p1", "p2"],
    ),
    # `!null` is null and a filter keeps only true: the missing flag matches nothing.
    ("not-of-missing-is-null", f"{PRODUCTS}[!discontinued]._id", {}, []),
    (
        "not-equal-with-missing",
        f"{PRODUCTS}[discontinued != true] | order(_id asc)._id",
        {},
        ["p1", "p2"],
    ),
    ("ordering-with-null", f"{PRODUCTS}[price > null]", {}, []),
    (
        "null-comparisons",
        "{'lt': 1 < null, 'eq': null == null, 'mixed': 1 == '1'}",
        {},
        {"lt": None, "eq": True, "mixed": False},
    ),
    (
        "in-param-array",
        "*[sku in $skus] | order(_id asc)._id",
        {"skus": ["S-1", "C-1", "X-9"]},
        ["p2", "p3"],
    ),
    ("value-in-field-array", '*["winter" in tags]._id', {}, ["p1"]),
    (
        "params",
        "*[_type == $type && price < $max] | order(_id asc).sku",
        {"type": "product", "max": 100},
        ["S-1", "C-1"],
    ),
    ("defined", f"{PRODUCTS}[defined(discontinued)]._id", {}, ["p3"]),
    (
        "coalesce",
        f"{PRODUCTS} | order(_id asc){{_id, 'gone': coalesce(discontinued, false)}}",
        {},
        [
            {"_id": "p1", "gone": False},
            {"_id": "p2", "gone": False},
            {"_id": "p3", "gone": True},
        ],
    ),
    (
        "select",
        f"{PRODUCTS} | order(_id asc)"
        "{'level': select(stock == 0 => 'out', stock < 5 => 'low', 'ok')}",
        {},
        [
            {"level": "low"},
            {"level": "out"},
            {"level": "ok"},
        ],
    ),
    (
        "count-in-projection",
        f"{PRODUCTS} | order(_id asc){{_id, 'tagCount': count(tags)}}",
        {},
        [
            {"_id": "p1", "tagCount": 2},
            {"_id": "p2", "tagCount": 1},
            {"_id": "p3", "tagCount": 0},
        ],
    ),
    ("order-desc-then-asc", f"{PRODUCTS} | order(stock desc, _id asc)._id", {}, ["p3", "p1", "p2"]),
    ("order-by-string", f"{PRODUCTS} | order(title asc).title", {}, ["Boot", "Clog", "Sandal"]),
    ("inclusive-slice", f"{PRODUCTS} | order(_id asc)[0..1]._id", {}, ["p1", "p2"]),
    ("exclusive-slice", f"{PRODUCTS} | order(_id asc)[0...1]._id", {}, ["p1"]),
    ("index", f"{PRODUCTS} | order(_id asc)[1]._id", {}, "p2"),
    ("index-past-the-end", f"{PRODUCTS} | order(_id asc)[5]", {}, None),
    ("negative-index", f"{PRODUCTS} | order(_id asc)[-1].sku", {}, "C-1"),
    ("first-of-nothing", '*[_id == "missing"][0]', {}, None),
    ("empty-filter", '*[_type == "nothing"]', {}, []),
    ("attribute-path", '*[_id == "p1"][0].dims.w', {}, 10),
    ("element-access", '*[_id == "p1"][0].tags[1]', {}, "leather"),
    ("missing-attribute", '*[_id == "p2"][0].dims.w', {}, None),
    (
        "projection-rename",
        '*[_id == "p1"]{"name": title, "inStock": stock > 0}',
        {},
        [{"name": "Boot", "inStock": True}],
    ),
    (
        "projection-spread",
        '*[_id == "p1"][0]{"d": dims{..., "h": 3}}',
        {},
        {"d": {"w": 10, "h": 3}},
    ),
    ("spread-then-override", '*[_id == "p1"][0].dims{..., "w": 11}', {}, {"w": 11}),
    (
        "arithmetic",
        "{'a': 1 + 2 * 3, 'b': (1 + 2) * 3, 'c': 7 % 4, 'd': 2 ** 3, 'e': 10 / 4, 'f': -3}",
        {},
        {
            "a": 7,
            "b": 9,
            "c": 3,
            "d": 8,
            "e": 2.5,
            "f": -3,
        },
    ),
    ("string-concat", "'ab' + 'cd'", {}, "abcd"),
    ("array-spread", "[1, ...[2, 3], 4]", {}, [1, 2, 3, 4]),
    ("arithmetic-in-projection", '*[_id == "p1"][0]{"value": price * stock}', {}, {"value": 480}),
    ("now", "now()", {}, "2026-11-21T12:00:00Z"),
    (
        "expired-holds-by-now",
        '*[_type == "stockReservation" && status == "active"'
        " && dateTime(expiresAt) < dateTime(now())]._id",
        {},
        ["inventory.reservation.s1"],
    ),
    (
        "expired-holds-by-param",
        '*[_type == "stockReservation" && dateTime(expiresAt) < dateTime($now)]'
        " | order(_id asc)._id",
        {"now": "2026-11-21T12:00:00Z"},
        [
            "inventory.reservation.s1",
            "inventory.reservation.s3",
        ],
    ),
    (
        "datetime-minus-seconds",
        '*[_type == "stockReservation" && dateTime(expiresAt) < dateTime($now) - 60 * 30]._id',
        {"now": "2026-11-21T12:00:00Z"},
        ["inventory.reservation.s3"],
    ),
    (
        "datetime-difference",
        'dateTime("2026-11-21T12:00:00Z") - dateTime("2026-11-21T11:00:00Z")',
        {},
        3600,
    ),
    ("datetime-plus-seconds", 'dateTime("2026-11-21T12:00:00Z") + 90', {}, "2026-11-21T12:01:30Z"),
    ("sum-of-active-holds", 'count(*[_type == "stockReservation" && status == "active"])', {}, 2),
    (
        "path-one-segment",
        '*[_id in path("inventory.reservation.*")] | order(_id asc)._id',
        {},
        [
            "inventory.reservation.s1",
            "inventory.reservation.s2",
            "inventory.reservation.s3",
        ],
    ),
    ("path-any-depth", 'count(*[_id in path("inventory.**")])', {}, 3),
    ("path-too-shallow", 'count(*[_id in path("inventory.*")])', {}, 0),
    (
        "literals",
        "{'s': 'x', 'n': 1.5, 't': true, 'f': false, 'z': null, 'a': [1, 'two'], 'o': {'k': 'v'}}",
        {},
        {
            "s": "x",
            "n": 1.5,
            "t": True,
            "f": False,
            "z": None,
            "a": [1, "two"],
            "o": {"k": "v"},
        },
    ),
    ("string-ordering", "{'lt': 'abc' < 'abd', 'ge': 'b' >= 'a'}", {}, {"lt": True, "ge": True}),
]


@pytest.fixture
async def catalogue(store: DocumentStore) -> None:
    await store.mutate([m.create(doc) for doc in DATASET])


@pytest.mark.parametrize(
    ("query", "params", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_groq_subset(
    store: DocumentStore, catalogue: None, query: str, params: dict[str, Any], expected: Any
) -> None:
    assert await store.query(query, params) == expected


async def test_a_long_query_gives_the_same_answer(store: DocumentStore, catalogue: None) -> None:
    # Long enough for the HTTP client to switch from GET to POST.
    skus = [f"NOPE-{n:05d}" for n in range(1500)] + ["B-1"]

    assert await store.query("*[sku in $skus]._id", {"skus": skus}) == ["p1"]
