"""`get_documents`: request order, missing ids, and the drafts/versions copies."""

from __future__ import annotations

from typing import Any

import pytest

from cms_client import mutations as m
from cms_client.errors import BadRequest
from cms_client.lake import Lake


async def seed(lake: Lake) -> None:
    await lake.mutate(
        [
            m.create({"_id": doc_id, "_type": "product"})
            for doc_id in [
                "p1",
                "drafts.p1",
                "versions.summer.p1",
                "versions.autumn.p1",
                "p2",
                "drafts.p3",
                "p10",
                "drafts.p10",
            ]
        ]
    )


def ids(documents: list[dict[str, Any] | None]) -> list[str | None]:
    return [d["_id"] if d else None for d in documents]


async def test_one_entry_per_id_in_request_order(lake: Lake):
    await seed(lake)
    assert ids(await lake.get_documents(["p2", "missing", "p1", "p2"])) == [
        "p2",
        None,
        "p1",
        "p2",
    ]
    assert await lake.get_documents([]) == []


@pytest.mark.parametrize("bad_id", ["a..b", "versions.x"])
async def test_ids_that_cannot_exist_are_refused_like_over_http(lake: Lake, bad_id: str):
    # The HTTP client must refuse them (ids are URL path segments); the lake matches it.
    with pytest.raises(BadRequest, match=r"versions|'\.\.'"):
        await lake.get_documents(["p1", bad_id], include_all_versions=True)


async def test_all_versions_appends_the_drafts_and_release_copies_by_id(lake: Lake):
    await seed(lake)
    found = await lake.get_documents(["p1", "p2", "p3"], include_all_versions=True)
    assert ids(found) == [
        "p1",
        "p2",
        None,
        "drafts.p1",
        "drafts.p3",
        "versions.autumn.p1",
        "versions.summer.p1",
    ]


async def test_all_versions_does_not_repeat_requested_ids_or_mix_families(lake: Lake):
    await seed(lake)
    found = await lake.get_documents(["drafts.p1", "p1"], include_all_versions=True)
    # p10 shares a prefix with p1 but is another document.
    assert ids(found) == ["drafts.p1", "p1", "versions.autumn.p1", "versions.summer.p1"]


async def test_reads_are_copies(lake: Lake):
    await seed(lake)
    (first,) = await lake.get_documents(["p1"])
    assert first is not None
    first["_type"] = "changed"
    (second,) = await lake.get_documents(["p1"])
    assert second is not None and second["_type"] == "product"
