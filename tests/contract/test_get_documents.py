"""`get_documents`: request order, None for missing ids, drafts and versions on request."""

from __future__ import annotations

import pytest

from cms_client import mutations as m
from cms_client.store import DocumentStore


def ids(found: list[dict[str, object] | None]) -> list[object]:
    return [doc["_id"] if doc else None for doc in found]


@pytest.fixture
async def family(store: DocumentStore) -> None:
    await store.mutate(
        [
            m.create({"_id": "p1", "_type": "product", "n": 1}),
            m.create({"_id": "p2", "_type": "product", "n": 2}),
            m.create({"_id": "drafts.p1", "_type": "product", "n": 10}),
            m.create({"_id": "versions.spring.p1", "_type": "product", "n": 100}),
            m.create({"_id": "drafts.p3", "_type": "product", "n": 30}),
        ]
    )


async def test_results_follow_the_request_order_with_none_for_missing_ids(
    store: DocumentStore, family: None
) -> None:
    found = await store.get_documents(["p2", "nope", "p1", "drafts.p1"])

    assert ids(found) == ["p2", None, "p1", "drafts.p1"]
    assert [doc["n"] if doc else None for doc in found] == [2, None, 1, 10]


async def test_no_ids_no_documents(store: DocumentStore) -> None:
    assert await store.get_documents([]) == []


async def test_a_repeated_id_is_answered_at_each_position(
    store: DocumentStore, family: None
) -> None:
    assert ids(await store.get_documents(["p1", "nope", "p1"])) == ["p1", None, "p1"]


async def test_all_versions_appends_the_drafts_and_release_versions_by_id(
    store: DocumentStore, family: None
) -> None:
    found = await store.get_documents(["p2", "p1"], include_all_versions=True)

    assert ids(found) == ["p2", "p1", "drafts.p1", "versions.spring.p1"]


async def test_all_versions_finds_a_draft_whose_published_document_is_missing(
    store: DocumentStore, family: None
) -> None:
    found = await store.get_documents(["p3"], include_all_versions=True)

    assert ids(found) == [None, "drafts.p3"]


async def test_all_versions_does_not_repeat_a_copy_that_was_asked_for(
    store: DocumentStore, family: None
) -> None:
    found = await store.get_documents(["drafts.p1", "p1"], include_all_versions=True)

    assert ids(found) == ["drafts.p1", "p1", "versions.spring.p1"]


async def test_hundreds_of_ids_come_back_complete_and_in_order(store: DocumentStore) -> None:
    await store.mutate(
        [m.create({"_id": f"inventory.item-{n:03d}", "_type": "item", "n": n}) for n in range(250)]
    )
    wanted = [f"inventory.item-{n:03d}" for n in reversed(range(0, 260, 1))]

    found = await store.get_documents(wanted)

    assert [doc["n"] if doc else None for doc in found] == [
        n if n < 250 else None for n in reversed(range(260))
    ]
