"""Every error shape: the same typed exception with the same fields from both stores, and over
HTTP the same status and raw body that Sanity sends."""

from __future__ import annotations

from typing import Any

import pytest

from cms_client import mutations as m
from cms_client.errors import (
    BadRequest,
    DocumentExists,
    DocumentMissing,
    MutationError,
    QueryError,
    RevisionConflict,
    StoreError,
)
from tests.contract.conftest import API, Harness


async def raw_mutate(harness: Harness, mutations: list[dict[str, Any]]) -> tuple[int, Any]:
    """Status and body of the same mutate request sent as raw HTTP (http store only)."""
    assert harness.raw is not None
    response = await harness.raw.post(
        f"{API}/mutate/production?returnIds=true", json={"mutations": mutations}
    )
    return response.status_code, response.json()


async def refused(harness: Harness, mutations: list[dict[str, Any]]) -> StoreError:
    with pytest.raises(StoreError) as caught:
        await harness.store.mutate(mutations)
    return caught.value


async def test_a_stale_revision_is_a_revision_conflict_with_both_revisions(
    harness: Harness,
) -> None:
    first = await harness.store.mutate([m.create({"_id": "p1", "_type": "product", "n": 0})])
    second = await harness.store.mutate([m.patch("p1", inc={"n": 1})])
    old, current = first.transaction_id, second.transaction_id
    stale = [
        m.create({"_id": "other", "_type": "t"}),
        m.patch("p1", if_revision_id=old, inc={"n": 1}),
    ]

    error = await refused(harness, stale)

    assert type(error) is RevisionConflict
    assert (error.index, error.document_id) == (1, "p1")
    assert (error.current_revision, error.expected_revision) == (current, old)
    description = f'Document "p1" has unexpected revision ID ("{current}"), expected "{old}"'
    body = {
        "error": {
            "type": "mutationError",
            "description": f"Mutation failed: {description}",
            "items": [
                {
                    "index": 1,
                    "error": {
                        "type": "documentRevisionIDDoesNotMatchError",
                        "description": description,
                        "currentRevisionID": current,
                        "expectedRevisionID": old,
                    },
                }
            ],
        }
    }
    assert error.body == body
    if harness.raw is not None:
        assert await raw_mutate(harness, stale) == (409, body)


async def test_creating_an_existing_id_is_document_exists(harness: Harness) -> None:
    await harness.store.mutate([m.create({"_id": "p1", "_type": "product"})])
    again = [m.create({"_id": "p1", "_type": "product"})]

    error = await refused(harness, again)

    assert type(error) is DocumentExists
    assert (error.index, error.document_id) == (0, "p1")
    body = {
        "error": {
            "type": "mutationError",
            "description": 'Mutation failed: Document by ID "p1" already exists',
            "items": [
                {
                    "index": 0,
                    "error": {
                        "type": "documentAlreadyExistsError",
                        "description": 'Document by ID "p1" already exists',
                        "id": "p1",
                    },
                }
            ],
        }
    }
    assert error.body == body
    if harness.raw is not None:
        assert await raw_mutate(harness, again) == (409, body)


@pytest.mark.parametrize(
    "mutation",
    [
        m.patch("ghost", set={"x": 1}),
        m.patch("ghost", if_revision_id="any", set={"x": 1}),
        m.revision_guard("ghost", "any"),
    ],
    ids=["patch", "guarded-patch", "revision-guard"],
)
async def test_patching_a_missing_document_is_document_missing(
    harness: Harness, mutation: dict[str, Any]
) -> None:
    transaction = [m.create({"_id": "p1", "_type": "t"}), mutation]

    error = await refused(harness, transaction)

    assert type(error) is DocumentMissing
    assert (error.index, error.document_id) == (1, "ghost")
    assert error.body is not None
    [item] = error.body["error"]["items"]
    assert item["index"] == 1
    assert item["error"]["type"] == "documentNotFoundError"
    assert item["error"]["id"] == "ghost"
    if harness.raw is not None:
        assert await raw_mutate(harness, transaction) == (409, error.body)


@pytest.mark.parametrize(
    ("mutation", "item_type"),
    [
        (m.create({"_id": "bad id!", "_type": "t"}), "invalidDocumentIdError"),
        (m.create({"_id": "a..b", "_type": "t"}), "invalidDocumentIdError"),
        (m.create({"_id": "p9"}), "missingDocumentTypeError"),
        (m.patch("p1", set={"stock[": 1}), "invalidPathError"),
        (m.patch("p1", inc={"title": 1}), "invalidPatchError"),
        (m.patch("p1", inc={"missing": 1}), "invalidPatchError"),
        (m.patch("p1", set={"_id": "p2"}), "invalidPatchError"),
        ({"upsert": {"_id": "p1"}}, "invalidMutationError"),
        ({"patch": {"set": {"x": 1}}}, "invalidMutationError"),
    ],
    ids=[
        "bad-id-chars",
        "double-dot-id",
        "no-type",
        "bad-path",
        "inc-a-string",
        "inc-a-missing-field",
        "patch-the-id",
        "unknown-mutation",
        "patch-without-target",
    ],
)
async def test_a_malformed_mutation_is_a_bad_request_that_names_its_index(
    harness: Harness, mutation: dict[str, Any], item_type: str
) -> None:
    await harness.store.mutate([m.create({"_id": "p1", "_type": "t", "title": "x"})])
    transaction = [m.patch("p1", set={"touched": True}), mutation]

    error = await refused(harness, transaction)

    assert type(error) is BadRequest
    assert error.body is not None
    [item] = error.body["error"]["items"]
    assert (item["index"], item["error"]["type"]) == (1, item_type)
    if harness.raw is not None:
        assert await raw_mutate(harness, transaction) == (400, error.body)


async def test_reusing_a_transaction_id_refuses_the_whole_transaction(harness: Harness) -> None:
    await harness.store.mutate([m.create({"_id": "p1", "_type": "t"})], transaction_id="tx-1")

    with pytest.raises(MutationError) as caught:
        await harness.store.mutate([m.create({"_id": "p2", "_type": "t"})], transaction_id="tx-1")

    error = caught.value
    assert type(error) is MutationError
    # The failure belongs to the transaction, not to a document.
    assert (error.index, error.document_id) == (0, None)
    assert error.body is not None
    assert error.body["error"]["items"][0]["error"]["type"] == "transactionIdConflictError"
    assert await harness.store.get_documents(["p2"]) == [None]


@pytest.mark.parametrize(
    ("query", "position", "construct"),
    [
        ('*[_type == "product"', 20, None),
        ("*[geo::distance(location, $here) < 10]", 2, "geo::distance()"),
        ('*[text::query("boot")]', 2, "text::query()"),
        ("*[before()._id == _id]", 2, "before()"),
    ],
    ids=["unclosed-filter", "geo", "search-index", "delta-mode"],
)
async def test_a_bad_or_unsupported_query_is_a_query_error_with_its_position(
    harness: Harness, query: str, position: int, construct: str | None
) -> None:
    with pytest.raises(QueryError) as caught:
        await harness.store.query(query)

    error = caught.value
    assert (error.query, error.position, error.construct) == (query, position, construct)
    assert f"position {position}" in error.message
    if harness.raw is not None:
        response = await harness.raw.get(f"{API}/query/production", params={"query": query})
        assert response.status_code == 400
        body = response.json()["error"]
        assert (body["type"], body["query"], body["start"]) == ("queryParseError", query, position)


async def test_a_missing_query_parameter_is_a_query_error(harness: Harness) -> None:
    with pytest.raises(QueryError) as caught:
        await harness.store.query("*[sku == $sku]", {})

    assert "sku" in caught.value.message


async def test_an_unknown_perspective_is_a_bad_request(harness: Harness) -> None:
    with pytest.raises(BadRequest):
        await harness.store.query("*", perspective="rel-spring")  # type: ignore[arg-type]


@pytest.mark.parametrize("doc_id", ["bad id", "a..b", "-leading", "x" * 129])
async def test_reading_a_malformed_id_is_a_bad_request(harness: Harness, doc_id: str) -> None:
    with pytest.raises(BadRequest):
        await harness.store.get_documents(["p1", doc_id])
