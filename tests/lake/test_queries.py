"""GROQ over the lake: perspectives, mutations selected by query, and the parse cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from cms_client import mutations as m
from cms_client.errors import BadRequest, QueryError
from cms_client.lake import Lake
from cms_client.lake.transactions import MAX_DELETE_BY_QUERY


async def seed(lake: Lake) -> None:
    await lake.mutate(
        [
            m.create({"_id": "p1", "_type": "product", "title": "Mug", "stock": 5}),
            m.create({"_id": "drafts.p1", "_type": "product", "title": "Mug v2", "stock": 5}),
            m.create({"_id": "versions.sale.p1", "_type": "product", "title": "Mug sale"}),
            m.create({"_id": "p2", "_type": "product", "title": "Cup", "stock": 0}),
            m.create({"_id": "drafts.p3", "_type": "product", "title": "Bowl (unpublished)"}),
            m.create({"_id": "o1", "_type": "order", "total": 10}),
        ]
    )


class TestPerspectives:
    async def test_published_leaves_out_drafts_and_versions(self, lake: Lake):
        await seed(lake)
        assert await lake.query('*[_type == "product"]._id') == ["p1", "p2"]

    async def test_raw_shows_everything(self, lake: Lake):
        await seed(lake)
        assert await lake.query(
            '*[_type == "product"] | order(_id asc)._id', perspective="raw"
        ) == [
            "drafts.p1",
            "drafts.p3",
            "p1",
            "p2",
            "versions.sale.p1",
        ]

    async def test_drafts_overlay_their_published_documents(self, lake: Lake):
        await seed(lake)
        result = await lake.query(
            '*[_type == "product"] | order(_id asc){_id, _originalId, title}', perspective="drafts"
        )
        assert result == [
            {"_id": "p1", "_originalId": "drafts.p1", "title": "Mug v2"},
            {"_id": "p2", "_originalId": None, "title": "Cup"},
            {"_id": "p3", "_originalId": "drafts.p3", "title": "Bowl (unpublished)"},
        ]

    async def test_unknown_perspective_is_a_bad_request(self, lake: Lake):
        with pytest.raises(BadRequest, match="previewDrafts"):
            await lake.query("*", perspective="previewDrafts")  # type: ignore[arg-type]


async def test_params_and_the_injected_clock(lake: Lake):
    await seed(lake)
    assert await lake.query("*[_type == $t && stock > $n]._id", {"t": "product", "n": 1}) == ["p1"]
    assert await lake.query("now()") == "2026-11-21T12:00:00Z"


async def test_query_errors_come_from_the_engine(lake: Lake):
    with pytest.raises(QueryError) as caught:
        await lake.query("*[_type == 'product' && geo::distance(location, $here) < 10]")
    assert caught.value.position is not None


async def test_results_are_copies(lake: Lake):
    await seed(lake)
    first = await lake.query('*[_id == "p1"][0]')
    first["title"] = "changed"
    assert (await lake.query('*[_id == "p1"][0]'))["title"] == "Mug"


async def test_queries_see_writes_from_another_process_on_the_same_file(tmp_path: Path):
    # The parse cache is keyed by each document's write sequence, which any writer bumps.
    async with Lake(tmp_path / "lake.db") as reader, Lake(tmp_path / "lake.db") as writer:
        await writer.mutate([m.create({"_id": "p1", "_type": "product", "stock": 1})])
        assert await reader.query('*[_type == "product"].stock') == [1]
        await writer.mutate([m.patch("p1", inc={"stock": 1})])
        assert await reader.query('*[_type == "product"].stock') == [2]
        await writer.mutate([m.delete("p1")])
        assert await reader.query('*[_type == "product"].stock') == []


class TestMutationsByQuery:
    async def test_patch_by_query_updates_each_selected_document(self, lake: Lake):
        await seed(lake)
        result = await lake.mutate(
            [
                {
                    "patch": {
                        "query": "*[_type == $t && stock > 0]",
                        "params": {"t": "product"},
                        "set": {"hot": True},
                    }
                }
            ]
        )
        # The selection sees the raw dataset: the draft has stock too.
        assert [(i.id, i.operation) for i in result.results] == [
            ("drafts.p1", "update"),
            ("p1", "update"),
        ]
        assert await lake.query("*[hot]._id", perspective="raw") == ["drafts.p1", "p1"]
        revisions = {doc["_rev"] for doc in await lake.get_documents(["p1", "drafts.p1"]) if doc}
        assert revisions == {result.transaction_id}

    async def test_delete_by_query(self, lake: Lake):
        await seed(lake)
        result = await lake.mutate([m.delete_by_query('*[_type == "product" && !defined(stock)]')])
        assert sorted((i.id, i.operation) for i in result.results) == [
            ("drafts.p3", "delete"),
            ("versions.sale.p1", "delete"),
        ]
        assert await lake.get_documents(["drafts.p3", "versions.sale.p1"]) == [None, None]

    async def test_selection_sees_earlier_mutations_of_the_transaction(self, lake: Lake):
        await seed(lake)
        result = await lake.mutate(
            [
                m.create({"_id": "o2", "_type": "order", "total": 20}),
                m.patch("o1", set={"total": 30}),
                m.delete("p2"),
                {
                    "patch": {
                        "query": '*[_type in ["order", "product"] && _id in ["o1", "o2", "p2"]]',
                        "inc": {"total": 1},
                    }
                },
            ]
        )
        assert [(i.id, i.operation) for i in result.results[3:]] == [
            ("o1", "update"),
            ("o2", "update"),
        ]
        assert await lake.query('*[_type == "order"] | order(_id asc).total') == [31, 21]

    async def test_no_match_is_not_an_error(self, lake: Lake):
        await seed(lake)
        result = await lake.mutate([{"patch": {"query": '*[_type == "none"]', "set": {"a": 1}}}])
        assert result.results == []

    async def test_guard_applies_to_every_selected_document(self, lake: Lake):
        from cms_client.errors import RevisionConflict

        await seed(lake)
        with pytest.raises(RevisionConflict):
            await lake.mutate(
                [
                    {
                        "patch": {
                            "query": '*[_type == "order"]',
                            "ifRevisionID": "old",
                            "set": {"a": 1},
                        }
                    }
                ]
            )

    @pytest.mark.parametrize(
        ("spec", "error", "problem"),
        [
            ({"query": "*[_type == 'order'].total"}, BadRequest, "must select documents"),
            ({"query": 3}, BadRequest, "'query' must be a GROQ string"),
            ({"query": "*", "params": []}, BadRequest, "'params' must be an object"),
            ({"query": "*[", "set": {"a": 1}}, QueryError, "GROQ"),
        ],
    )
    async def test_bad_selections(self, lake: Lake, spec, error, problem):
        await seed(lake)
        with pytest.raises(error, match=problem):
            await lake.mutate([{"patch": {**spec, "set": {"a": 1}}}])

    async def test_delete_by_query_limit(self, lake: Lake):
        await lake.mutate([m.create({"_type": "bulk"}) for _ in range(MAX_DELETE_BY_QUERY + 1)])
        with pytest.raises(BadRequest, match="at most 10000 documents"):
            await lake.mutate([m.delete_by_query('*[_type == "bulk"]')])
        assert await lake.query('count(*[_type == "bulk"])') == MAX_DELETE_BY_QUERY + 1
