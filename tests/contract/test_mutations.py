"""Every mutation type, every patch operation and path form, the same on both stores."""

from __future__ import annotations

from typing import Any

import pytest

from cms_client import mutations as m
from cms_client.ids import id_problem
from cms_client.store import Document, DocumentStore
from tests.support.clock import ManualClock

NOON = "2026-11-21T12:00:00.000Z"
SYSTEM_FIELDS = ("_rev", "_createdAt", "_updatedAt")


def content(doc: Document | None) -> dict[str, Any]:
    """A document without the server-set fields, for comparisons written by hand."""
    assert doc is not None
    return {k: v for k, v in doc.items() if k not in SYSTEM_FIELDS}


async def read(store: DocumentStore, doc_id: str) -> Document | None:
    [doc] = await store.get_documents([doc_id])
    return doc


async def test_create_stores_the_document_with_server_set_fields(store: DocumentStore) -> None:
    result = await store.mutate([m.create({"_id": "p1", "_type": "product", "stock": 3})])

    [item] = result.results
    assert (item.id, item.operation) == ("p1", "create")
    assert item.document == {
        "_id": "p1",
        "_type": "product",
        "stock": 3,
        "_rev": result.transaction_id,
        "_createdAt": NOON,
        "_updatedAt": NOON,
    }
    assert await read(store, "p1") == item.document


async def test_create_without_an_id_or_with_a_prefix_generates_the_id(
    store: DocumentStore,
) -> None:
    result = await store.mutate(
        [m.create({"_type": "note", "n": 1}), m.create({"_id": "notes.", "_type": "note", "n": 2})]
    )

    plain, prefixed = result.results
    assert id_problem(plain.id) is None and "." not in plain.id
    assert prefixed.id.startswith("notes.") and len(prefixed.id) > len("notes.")
    found = await store.get_documents([plain.id, prefixed.id])
    assert [doc["n"] if doc else None for doc in found] == [1, 2]


async def test_create_if_not_exists_creates_once_and_then_leaves_the_document_alone(
    store: DocumentStore, clock: ManualClock
) -> None:
    first = await store.mutate([m.create_if_not_exists({"_id": "p1", "_type": "p", "v": 1})])
    clock.advance(60)
    second = await store.mutate([m.create_if_not_exists({"_id": "p1", "_type": "p", "v": 2})])

    assert first.results[0].operation == "create"
    assert second.results[0].operation == "none"
    stored = await read(store, "p1")
    assert stored is not None
    assert stored["v"] == 1
    assert stored["_rev"] == first.transaction_id
    assert stored["_updatedAt"] == NOON


async def test_create_or_replace_replaces_the_whole_document_and_keeps_its_creation_time(
    store: DocumentStore, clock: ManualClock
) -> None:
    created = await store.mutate([m.create_or_replace({"_id": "p1", "_type": "p", "a": 1})])
    clock.advance(60)
    replaced = await store.mutate([m.create_or_replace({"_id": "p1", "_type": "p", "b": 2})])

    assert created.results[0].operation == "create"
    assert replaced.results[0].operation == "update"
    stored = await read(store, "p1")
    assert content(stored) == {"_id": "p1", "_type": "p", "b": 2}
    assert stored is not None
    assert stored["_createdAt"] == NOON
    assert stored["_updatedAt"] == "2026-11-21T12:01:00.000Z"


async def test_delete_by_id_removes_the_document_and_a_missing_id_is_no_error(
    store: DocumentStore,
) -> None:
    await store.mutate([m.create({"_id": "p1", "_type": "p"})])

    result = await store.mutate([m.delete("p1"), m.delete("never-was")])

    assert [(r.id, r.operation) for r in result.results] == [
        ("p1", "delete"),
        ("never-was", "none"),
    ]
    assert result.results[0].document is None
    assert await store.get_documents(["p1"]) == [None]


async def test_delete_by_query_removes_what_the_query_selects(store: DocumentStore) -> None:
    await store.mutate(
        [
            m.create({"_id": "r1", "_type": "hold", "status": "expired"}),
            m.create({"_id": "r2", "_type": "hold", "status": "active"}),
            m.create({"_id": "r3", "_type": "hold", "status": "expired"}),
        ]
    )

    result = await store.mutate(
        [
            m.delete_by_query(
                "*[_type == $type && status == $status]", {"type": "hold", "status": "expired"}
            )
        ]
    )

    assert sorted((r.id, r.operation) for r in result.results) == [
        ("r1", "delete"),
        ("r3", "delete"),
    ]
    found = await store.get_documents(["r1", "r2", "r3"])
    assert [doc is not None for doc in found] == [False, True, False]


async def test_patch_by_query_patches_every_selected_document(store: DocumentStore) -> None:
    await store.mutate(
        [
            m.create({"_id": "p1", "_type": "product", "stock": 0}),
            m.create({"_id": "p2", "_type": "product", "stock": 4}),
            m.create({"_id": "p3", "_type": "product", "stock": 0}),
        ]
    )

    result = await store.mutate(
        [
            {
                "patch": {
                    "query": "*[_type == 'product' && stock <= $n]",
                    "params": {"n": 0},
                    "set": {"soldOut": True},
                }
            }
        ]
    )

    assert sorted((r.id, r.operation) for r in result.results) == [
        ("p1", "update"),
        ("p3", "update"),
    ]
    found = await store.get_documents(["p1", "p2", "p3"])
    assert [doc.get("soldOut") if doc else None for doc in found] == [True, None, True]


BASE: Document = {
    "_id": "p1",
    "_type": "product",
    "stock": {"onHand": 5, "reserved": 1},
    "tags": ["a", "b", "c"],
    "variants": [{"_key": "s", "size": "S", "qty": 1}, {"_key": "m", "size": "M", "qty": 2}],
}


@pytest.mark.parametrize(
    ("operations", "field", "expected"),
    [
        ({"set": {"stock.onHand": 7}}, "stock", {"onHand": 7, "reserved": 1}),
        (
            {"set": {"stock.safety.min": 2}},
            "stock",
            {"onHand": 5, "reserved": 1, "safety": {"min": 2}},
        ),
        ({"set": {"tags[0]": "z"}}, "tags", ["z", "b", "c"]),
        ({"set": {"tags[-1]": "z"}}, "tags", ["a", "b", "z"]),
        (
            {"set": {'variants[_key=="m"].qty': 9}},
            "variants",
            [{"_key": "s", "size": "S", "qty": 1}, {"_key": "m", "size": "M", "qty": 9}],
        ),
        (
            {"setIfMissing": {"stock.onHand": 99, "stock.safety": 2}},
            "stock",
            {"onHand": 5, "reserved": 1, "safety": 2},
        ),
        ({"unset": ["stock.reserved", "stock.nothing"]}, "stock", {"onHand": 5}),
        ({"unset": ["tags[1]"]}, "tags", ["a", "c"]),
        ({"unset": ['variants[_key=="s"]']}, "variants", [{"_key": "m", "size": "M", "qty": 2}]),
        ({"inc": {"stock.onHand": 3}}, "stock", {"onHand": 8, "reserved": 1}),
        ({"dec": {"stock.reserved": 1}}, "stock", {"onHand": 5, "reserved": 0}),
        ({"inc": {"stock.onHand": 0.5}}, "stock", {"onHand": 5.5, "reserved": 1}),
        (
            {"inc": {'variants[_key=="s"].qty': 2}},
            "variants",
            [{"_key": "s", "size": "S", "qty": 3}, {"_key": "m", "size": "M", "qty": 2}],
        ),
        ({"insert": {"after": "tags[-1]", "items": ["d", "e"]}}, "tags", ["a", "b", "c", "d", "e"]),
        ({"insert": {"before": "tags[0]", "items": ["_"]}}, "tags", ["_", "a", "b", "c"]),
        ({"insert": {"replace": "tags[1]", "items": ["x", "y"]}}, "tags", ["a", "x", "y", "c"]),
        (
            {"insert": {"after": 'variants[_key=="s"]', "items": [{"_key": "xs", "size": "XS"}]}},
            "variants",
            [
                {"_key": "s", "size": "S", "qty": 1},
                {"_key": "xs", "size": "XS"},
                {"_key": "m", "size": "M", "qty": 2},
            ],
        ),
    ],
)
async def test_patch_operations_and_path_forms(
    store: DocumentStore, operations: dict[str, Any], field: str, expected: Any
) -> None:
    await store.mutate([m.create(BASE)])

    result = await store.mutate([{"patch": {"id": "p1", **operations}}])

    [item] = result.results
    assert (item.id, item.operation) == ("p1", "update")
    stored = await read(store, "p1")
    assert stored is not None
    assert stored[field] == expected
    untouched = {k: v for k, v in BASE.items() if k != field}
    assert {k: stored[k] for k in untouched} == untouched


@pytest.mark.parametrize(
    ("start", "operations", "expected"),
    [
        # Keys written against Sanity's order (setIfMissing, set, unset, inc, dec, insert).
        ({}, {"inc": {"n": 2}, "setIfMissing": {"n": 0}}, {"n": 2}),
        ({"a": 0}, {"unset": ["a"], "set": {"a": 1}}, {}),
        ({"n": 0}, {"dec": {"n": 1}, "inc": {"n": 5}}, {"n": 4}),
        ({}, {"insert": {"after": "arr[-1]", "items": [3]}, "set": {"arr": [1]}}, {"arr": [1, 3]}),
        ({"n": 1}, {"inc": {"n": 1}, "set": {"n": 10}}, {"n": 11}),
    ],
)
async def test_operations_inside_one_patch_apply_in_sanitys_order(
    store: DocumentStore,
    start: dict[str, Any],
    operations: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    await store.mutate([m.create({"_id": "d", "_type": "t", **start})])

    await store.mutate([{"patch": {"id": "d", **operations}}])

    assert content(await read(store, "d")) == {"_id": "d", "_type": "t", **expected}


async def test_mutations_of_one_transaction_see_each_other(store: DocumentStore) -> None:
    result = await store.mutate(
        [
            m.create({"_id": "p1", "_type": "product", "stock": 1}),
            m.patch("p1", inc={"stock": 2}),
            {"patch": {"query": "*[_type == 'product' && stock == 3]", "set": {"seen": True}}},
        ]
    )

    assert [(r.id, r.operation) for r in result.results] == [
        ("p1", "create"),
        ("p1", "update"),
        ("p1", "update"),
    ]
    assert content(await read(store, "p1")) == {
        "_id": "p1",
        "_type": "product",
        "stock": 3,
        "seen": True,
    }


async def test_a_transaction_gives_every_document_it_writes_one_new_revision(
    store: DocumentStore, clock: ManualClock
) -> None:
    first = await store.mutate(
        [m.create({"_id": "a", "_type": "t"}), m.create({"_id": "b", "_type": "t"})]
    )
    clock.advance(30)
    second = await store.mutate([m.patch("a", set={"x": 1})])

    a, b = await store.get_documents(["a", "b"])
    assert a is not None and b is not None
    assert first.transaction_id != second.transaction_id
    assert a["_rev"] == second.transaction_id
    assert b["_rev"] == first.transaction_id
    assert (a["_createdAt"], a["_updatedAt"]) == (NOON, "2026-11-21T12:00:30.000Z")
    assert b["_updatedAt"] == NOON


async def test_server_set_fields_sent_by_the_client_are_replaced(store: DocumentStore) -> None:
    result = await store.mutate(
        [
            m.create(
                {"_id": "p1", "_type": "t", "_rev": "mine", "_updatedAt": "1999-01-01T00:00:00Z"}
            )
        ]
    )

    stored = await read(store, "p1")
    assert stored is not None
    assert stored["_rev"] == result.transaction_id
    assert stored["_updatedAt"] == NOON


async def test_without_returned_documents_only_ids_and_operations_come_back(
    store: DocumentStore,
) -> None:
    result = await store.mutate(
        [m.create({"_id": "p1", "_type": "t"}), m.delete("p0")], return_documents=False
    )

    assert [(r.id, r.operation, r.document) for r in result.results] == [
        ("p1", "create", None),
        ("p0", "none", None),
    ]
    assert result.documents() == {}


async def test_a_dry_run_answers_like_the_real_run_and_writes_nothing(
    store: DocumentStore,
) -> None:
    await store.mutate([m.create({"_id": "p1", "_type": "product", "stock": 5})])
    before = await read(store, "p1")
    planned = [m.patch("p1", dec={"stock": 2}), m.create({"_id": "p2", "_type": "product"})]

    dry = await store.mutate(planned, dry_run=True)

    assert [(r.id, r.operation) for r in dry.results] == [("p1", "update"), ("p2", "create")]
    assert dry.documents()["p1"]["stock"] == 3
    assert await store.get_documents(["p1", "p2"]) == [before, None]


async def test_a_chosen_transaction_id_becomes_the_revision(store: DocumentStore) -> None:
    result = await store.mutate([m.create({"_id": "p1", "_type": "t"})], transaction_id="tx-001")

    assert result.transaction_id == "tx-001"
    stored = await read(store, "p1")
    assert stored is not None and stored["_rev"] == "tx-001"


@pytest.mark.parametrize("visibility", ["sync", "async", "deferred"])
async def test_every_visibility_commits(store: DocumentStore, visibility: Any) -> None:
    await store.mutate([m.create({"_id": "p1", "_type": "t"})], visibility=visibility)

    assert await read(store, "p1") is not None
