"""Every refusal as the typed error with Sanity's exact body (reference notes 2.2, 2.4)."""

from __future__ import annotations

import pytest

from cms_client import mutations as m
from cms_client.errors import (
    BadRequest,
    DocumentExists,
    DocumentMissing,
    MutationError,
    RevisionConflict,
)
from cms_client.lake import Lake, mutation_error_body


async def seed(lake: Lake) -> str:
    result = await lake.mutate([m.create({"_id": "p1", "_type": "product", "stock": 1})])
    return result.transaction_id


async def test_revision_conflict(lake: Lake):
    rev = await seed(lake)
    current = (await lake.mutate([m.patch("p1", inc={"stock": 1})])).transaction_id
    with pytest.raises(RevisionConflict) as caught:
        await lake.mutate(
            [
                m.create({"_id": "other", "_type": "t"}),
                m.patch("p1", if_revision_id=rev, dec={"stock": 1}),
            ]
        )
    error = caught.value
    assert (error.index, error.document_id) == (1, "p1")
    assert (error.current_revision, error.expected_revision) == (current, rev)
    description = f'Document "p1" has unexpected revision ID ("{current}"), expected "{rev}"'
    assert error.body == {
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
                        "expectedRevisionID": rev,
                    },
                }
            ],
        }
    }
    assert error.message == f"Mutation failed: {description}"


async def test_document_exists(lake: Lake):
    await seed(lake)
    with pytest.raises(DocumentExists) as caught:
        await lake.mutate([m.create({"_id": "p1", "_type": "product"})])
    assert (caught.value.index, caught.value.document_id) == (0, "p1")
    assert caught.value.body == {
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


@pytest.mark.parametrize("guarded", [False, True])
async def test_patch_of_a_missing_document(lake: Lake, guarded: bool):
    patch = m.patch("ghost", if_revision_id="r" if guarded else None, set={"a": 1})
    with pytest.raises(DocumentMissing) as caught:
        await lake.mutate([m.delete("x"), patch])
    assert (caught.value.index, caught.value.document_id) == (1, "ghost")
    assert caught.value.body == {
        "error": {
            "type": "mutationError",
            "description": 'Mutation failed: Document by ID "ghost" not found',
            "items": [
                {
                    "index": 1,
                    "error": {
                        "type": "documentNotFoundError",
                        "description": 'Document by ID "ghost" not found',
                        "id": "ghost",
                    },
                }
            ],
        }
    }


async def test_patch_of_a_document_deleted_earlier_in_the_transaction(lake: Lake):
    await seed(lake)
    with pytest.raises(DocumentMissing):
        await lake.mutate([m.delete("p1"), m.patch("p1", set={"a": 1})])


async def test_inc_of_a_missing_field_is_a_bad_request_with_a_body(lake: Lake):
    await seed(lake)
    with pytest.raises(BadRequest) as caught:
        await lake.mutate([m.patch("p1", inc={"sold": 1})])
    assert not isinstance(caught.value, MutationError)
    description = "Cannot increment 'sold': the path does not exist"
    assert caught.value.body == {
        "error": {
            "type": "mutationError",
            "description": f"Mutation failed: {description}",
            "items": [
                {"index": 0, "error": {"type": "invalidPatchError", "description": description}}
            ],
        }
    }


async def test_invalid_id_body(lake: Lake):
    with pytest.raises(BadRequest) as caught:
        await lake.mutate([m.delete("a..b")])
    description = "Malformed document ID: \"a..b\" (document id may not contain '..')"
    assert caught.value.body == {
        "error": {
            "type": "mutationError",
            "description": f"Mutation failed: {description}",
            "items": [
                {
                    "index": 0,
                    "error": {
                        "type": "invalidDocumentIdError",
                        "description": description,
                        "id": "a..b",
                    },
                }
            ],
        }
    }


def test_the_body_builder_the_server_shares():
    assert mutation_error_body(3, {"type": "x", "description": "d", "id": "i"}) == {
        "error": {
            "type": "mutationError",
            "description": "Mutation failed: d",
            "items": [{"index": 3, "error": {"type": "x", "description": "d", "id": "i"}}],
        }
    }
