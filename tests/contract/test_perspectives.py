"""Perspectives: published, drafts (drafts overlay published) and raw."""

from __future__ import annotations

import pytest

from cms_client import mutations as m
from cms_client.store import DocumentStore


@pytest.fixture
async def variants(store: DocumentStore) -> None:
    await store.mutate(
        [
            m.create({"_id": "p1", "_type": "product", "stock": 3}),
            m.create({"_id": "drafts.p1", "_type": "product", "stock": 9}),
            m.create({"_id": "versions.spring.p1", "_type": "product", "stock": 5}),
            m.create({"_id": "p2", "_type": "product", "stock": 1}),
            m.create({"_id": "drafts.p3", "_type": "product", "stock": 7}),
        ]
    )


QUERY = '*[_type == "product"] | order(_id asc){_id, stock}'


async def test_published_leaves_out_drafts_and_versions(
    store: DocumentStore, variants: None
) -> None:
    assert await store.query(QUERY, perspective="published") == [
        {"_id": "p1", "stock": 3},
        {"_id": "p2", "stock": 1},
    ]


async def test_published_is_the_default(store: DocumentStore, variants: None) -> None:
    assert await store.query(QUERY) == await store.query(QUERY, perspective="published")


async def test_drafts_show_each_draft_in_place_of_its_published_document(
    store: DocumentStore, variants: None
) -> None:
    result = await store.query(
        '*[_type == "product"] | order(_id asc){_id, _originalId, stock}', perspective="drafts"
    )

    assert result == [
        {"_id": "p1", "_originalId": "drafts.p1", "stock": 9},
        {"_id": "p2", "_originalId": None, "stock": 1},
        {"_id": "p3", "_originalId": "drafts.p3", "stock": 7},
    ]


async def test_raw_shows_every_document_side_by_side(store: DocumentStore, variants: None) -> None:
    assert await store.query(QUERY, perspective="raw") == [
        {"_id": "drafts.p1", "stock": 9},
        {"_id": "drafts.p3", "stock": 7},
        {"_id": "p1", "stock": 3},
        {"_id": "p2", "stock": 1},
        {"_id": "versions.spring.p1", "stock": 5},
    ]


async def test_raw_lets_a_service_find_every_copy_of_one_product(
    store: DocumentStore, variants: None
) -> None:
    result = await store.query(
        '*[_id in [$id, "drafts." + $id] || _id in path("versions.*." + $id)] | order(_id asc)._id',
        {"id": "p1"},
        perspective="raw",
    )

    assert result == ["drafts.p1", "p1", "versions.spring.p1"]
