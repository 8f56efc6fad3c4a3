"""Each mutation type through `Lake.mutate`: ids, system fields, operations reported."""

from __future__ import annotations

import re

import pytest

from cms_client import mutations as m
from cms_client.errors import BadRequest, DocumentExists
from cms_client.lake import Lake
from tests.support.clock import ManualClock

T0 = "2026-11-21T12:00:00.000Z"
T1 = "2026-11-21T12:00:05.250Z"
BASE62 = re.compile(r"^[0-9A-Za-z]{22}$")


async def create(lake: Lake, doc_id: str = "p1", **fields: object) -> str:
    result = await lake.mutate([m.create({"_id": doc_id, "_type": "product", **fields})])
    return result.transaction_id


class TestCreate:
    async def test_sets_system_fields_from_the_clock(self, lake: Lake):
        result = await lake.mutate([m.create({"_id": "p1", "_type": "product", "stock": 3})])
        (item,) = result.results
        assert (item.id, item.operation) == ("p1", "create")
        assert BASE62.match(result.transaction_id)
        assert item.document == {
            "_id": "p1",
            "_type": "product",
            "stock": 3,
            "_rev": result.transaction_id,
            "_createdAt": T0,
            "_updatedAt": T0,
        }
        assert (await lake.get_documents(["p1"])) == [item.document]

    async def test_client_rev_and_updated_at_are_replaced_created_at_kept(self, lake: Lake):
        body = {
            "_id": "p1",
            "_type": "t",
            "_rev": "mine",
            "_updatedAt": "2000-01-01T00:00:00Z",
            "_createdAt": "2020-02-02T00:00:00Z",
        }
        result = await lake.mutate([m.create(body)])
        (doc,) = await lake.get_documents(["p1"])
        assert doc is not None
        assert doc["_rev"] == result.transaction_id != "mine"
        assert doc["_updatedAt"] == T0
        assert doc["_createdAt"] == "2020-02-02T00:00:00Z"

    async def test_without_id_gets_a_random_id(self, lake: Lake):
        result = await lake.mutate([m.create({"_type": "t"}), m.create({"_type": "t"})])
        first, second = (item.id for item in result.results)
        assert BASE62.match(first) and BASE62.match(second) and first != second

    async def test_id_ending_in_a_dot_is_a_prefix(self, lake: Lake):
        result = await lake.mutate([m.create({"_id": "inventory.log.", "_type": "t"})])
        (item,) = result.results
        assert item.id.startswith("inventory.log.")
        assert BASE62.match(item.id.removeprefix("inventory.log."))
        assert (await lake.get_documents([item.id]))[0] is not None

    async def test_existing_id_fails(self, lake: Lake):
        await create(lake)
        with pytest.raises(DocumentExists):
            await create(lake)

    async def test_drafts_and_versions_ids_are_documents_too(self, lake: Lake):
        await create(lake, "drafts.p1")
        await create(lake, "versions.summer.p1")
        assert [d and d["_id"] for d in await lake.get_documents(["drafts.p1"])] == ["drafts.p1"]

    @pytest.mark.parametrize(
        "bad_id",
        ["-lead", "a..b", "a.-b", "has space", "ü", "x" * 129, "versions.only", "a.versions.b"],
    )
    async def test_invalid_ids_are_bad_requests(self, lake: Lake, bad_id: str):
        with pytest.raises(BadRequest) as caught:
            await lake.mutate([m.create({"_id": bad_id, "_type": "t"})])
        assert caught.value.body is not None
        item = caught.value.body["error"]["items"][0]["error"]
        assert item["type"] == "invalidDocumentIdError"
        assert item["description"].startswith("Malformed document ID: ")

    @pytest.mark.parametrize(
        "body", [{"_id": "x"}, {"_id": "x", "_type": ""}, {"_id": "x", "_type": 3}]
    )
    async def test_type_is_required(self, lake: Lake, body: dict[str, object]):
        for mutation in (m.create(body), m.create_or_replace(body), m.create_if_not_exists(body)):
            with pytest.raises(BadRequest, match='"_type"'):
                await lake.mutate([mutation])
        assert await lake.get_documents(["x"]) == [None]


class TestCreateIfNotExists:
    async def test_creates_when_missing(self, lake: Lake):
        result = await lake.mutate([m.create_if_not_exists({"_id": "p1", "_type": "t", "a": 1})])
        assert [(i.id, i.operation) for i in result.results] == [("p1", "create")]

    async def test_reports_none_and_leaves_an_existing_document_alone(
        self, lake: Lake, clock: ManualClock
    ):
        rev = await create(lake, a=1)
        clock.advance(5.25)
        result = await lake.mutate([m.create_if_not_exists({"_id": "p1", "_type": "t", "a": 2})])
        (item,) = result.results
        assert item.operation == "none"
        assert item.document is not None
        assert (item.document["a"], item.document["_rev"], item.document["_updatedAt"]) == (
            1,
            rev,
            T0,
        )

    async def test_needs_an_id(self, lake: Lake):
        with pytest.raises(BadRequest, match="non-empty string"):
            await lake.mutate([m.create_if_not_exists({"_type": "t"})])


class TestCreateOrReplace:
    async def test_replaces_the_whole_document_and_keeps_created_at(
        self, lake: Lake, clock: ManualClock
    ):
        await create(lake, a=1, b=2)
        clock.advance(5.25)
        result = await lake.mutate([m.create_or_replace({"_id": "p1", "_type": "product", "c": 3})])
        (item,) = result.results
        assert item.operation == "update"
        assert item.document == {
            "_id": "p1",
            "_type": "product",
            "c": 3,
            "_rev": result.transaction_id,
            "_createdAt": T0,
            "_updatedAt": T1,
        }

    async def test_another_type_is_a_new_creation(self, lake: Lake, clock: ManualClock):
        await create(lake)
        clock.advance(5.25)
        result = await lake.mutate([m.create_or_replace({"_id": "p1", "_type": "other"})])
        assert result.results[0].document is not None
        assert result.results[0].document["_createdAt"] == T1

    async def test_creates_when_missing(self, lake: Lake):
        result = await lake.mutate([m.create_or_replace({"_id": "p1", "_type": "t"})])
        assert result.results[0].operation == "create"


class TestDelete:
    async def test_deletes_and_reports_delete(self, lake: Lake):
        await create(lake)
        result = await lake.mutate([m.delete("p1")])
        assert [(i.id, i.operation, i.document) for i in result.results] == [("p1", "delete", None)]
        assert await lake.get_documents(["p1"]) == [None]

    async def test_a_missing_id_succeeds_with_operation_none(self, lake: Lake):
        result = await lake.mutate([m.delete("ghost")])
        assert [(i.id, i.operation) for i in result.results] == [("ghost", "none")]

    async def test_delete_then_create_in_one_transaction(self, lake: Lake):
        await create(lake, a=1)
        result = await lake.mutate(
            [m.delete("p1"), m.create({"_id": "p1", "_type": "product", "a": 2})]
        )
        assert [i.operation for i in result.results] == ["delete", "create"]
        (doc,) = await lake.get_documents(["p1"])
        assert doc is not None and doc["a"] == 2


class TestPatch:
    async def test_patches_and_stamps(self, lake: Lake, clock: ManualClock):
        rev = await create(lake, stock=5)
        clock.advance(5.25)
        result = await lake.mutate([m.patch("p1", if_revision_id=rev, dec={"stock": 2})])
        (item,) = result.results
        assert item.operation == "update"
        assert item.document is not None
        assert (item.document["stock"], item.document["_updatedAt"]) == (3, T1)
        assert item.document["_rev"] == result.transaction_id != rev
        assert item.document["_createdAt"] == T0

    async def test_a_patch_that_changes_nothing_still_takes_a_new_revision(self, lake: Lake):
        # Sanity stamps every document a transaction touches; a revision guard is a write.
        rev = await create(lake)
        result = await lake.mutate([m.revision_guard("p1", rev)])
        (doc,) = await lake.get_documents(["p1"])
        assert doc is not None and doc["_rev"] == result.transaction_id != rev
        assert "_revision_lock_pseudo_field_" not in doc

    async def test_mutations_see_each_other_in_array_order(self, lake: Lake):
        result = await lake.mutate(
            [
                m.create({"_id": "p1", "_type": "t", "n": 1}),
                m.patch("p1", inc={"n": 1}),
                m.patch("p1", set={"n2": 0}),
                m.patch("p1", inc={"n2": 5}),
            ]
        )
        assert [i.operation for i in result.results] == ["create", "update", "update", "update"]
        # Every result carries the document as the transaction left it.
        for item in result.results:
            assert item.document is not None
            assert (item.document["n"], item.document["n2"]) == (2, 5)

    async def test_type_can_change_but_not_disappear(self, lake: Lake):
        await create(lake)
        await lake.mutate([m.patch("p1", set={"_type": "renamed"})])
        (doc,) = await lake.get_documents(["p1"])
        assert doc is not None and doc["_type"] == "renamed"
        with pytest.raises(BadRequest, match="_type"):
            await lake.mutate([m.patch("p1", unset=["_type"])])

    async def test_return_documents_false_leaves_them_out(self, lake: Lake):
        result = await lake.mutate(
            [m.create({"_id": "p1", "_type": "t"}), m.patch("p1", set={"a": 1})],
            return_documents=False,
        )
        assert [(i.id, i.operation, i.document) for i in result.results] == [
            ("p1", "create", None),
            ("p1", "update", None),
        ]

    async def test_returned_documents_are_copies(self, lake: Lake):
        result = await lake.mutate([m.create({"_id": "p1", "_type": "t", "a": [1]})])
        assert result.results[0].document is not None
        result.results[0].document["a"].append(2)
        (doc,) = await lake.get_documents(["p1"])
        assert doc is not None and doc["a"] == [1]


class TestMalformedMutations:
    @pytest.mark.parametrize(
        ("mutation", "problem"),
        [
            ({"upsert": {}}, "Unknown mutation type 'upsert'"),
            ({"create": {"_id": "a", "_type": "t"}, "delete": {"id": "a"}}, "one key"),
            ({"patch": {"set": {"a": 1}}}, "exactly one of 'id' or 'query'"),
            ({"patch": {"id": "a", "query": "*"}}, "exactly one of 'id' or 'query'"),
            ({"patch": {"id": "a", "bogus": 1}}, "Unknown key 'bogus'"),
            ({"patch": {"id": "a", "ifRevisionID": 3}}, "'ifRevisionID' must be a string"),
            ({"delete": "a"}, "takes an object"),
            ({"create": ["a"]}, "JSON object"),
            ({"create": {"_id": "a", "_type": "t", "x": float("nan")}}, "not valid JSON"),
            ({"create": {"_id": "a", "_type": "t", "x": object()}}, "not valid JSON"),
        ],
    )
    async def test_are_bad_requests_at_their_index(self, lake: Lake, mutation, problem):
        ok = m.create({"_id": "ok", "_type": "t"})
        with pytest.raises(BadRequest, match=re.escape(problem)) as caught:
            await lake.mutate([ok, mutation])
        assert caught.value.body is not None
        assert caught.value.body["error"]["items"][0]["index"] == 1
        assert await lake.get_documents(["ok"]) == [None]


async def test_operations_in_one_patch_apply_in_sanitys_order(lake: Lake):
    await lake.mutate([m.create({"_id": "p1", "_type": "t"})])
    # Written in reverse; applied setIfMissing, set, unset, inc, dec, insert.
    patch = {
        "id": "p1",
        "insert": {"after": "log[-1]", "items": ["end"]},
        "dec": {"n": 1},
        "inc": {"n": 10},
        "unset": ["tmp"],
        "set": {"tmp": 1, "n": 5},
        "setIfMissing": {"n": 100, "log": []},
    }
    result = await lake.mutate([{"patch": patch}])
    document = result.results[0].document
    assert document is not None
    assert (document["n"], document["log"], "tmp" in document) == (14, ["end"], False)


async def test_the_lake_is_a_document_store(lake: Lake):
    from cms_client.store import DocumentStore

    assert isinstance(lake, DocumentStore)
    assert lake.kind == "lake"


async def test_datasets_in_one_file_are_separate(tmp_path):
    path = tmp_path / "lake.db"
    async with Lake(path, dataset="production") as prod, Lake(path, dataset="staging") as stage:
        await prod.mutate(
            [m.create({"_id": "p1", "_type": "t", "env": "prod"})], transaction_id="t1"
        )
        # Transaction ids are unique per dataset, as in Sanity.
        await stage.mutate(
            [m.create({"_id": "p1", "_type": "t", "env": "stage"})], transaction_id="t1"
        )
        (in_prod,) = await prod.get_documents(["p1"])
        (in_stage,) = await stage.get_documents(["p1"])
        assert in_prod is not None and in_stage is not None
        assert (in_prod["env"], in_stage["env"]) == ("prod", "stage")
        assert await stage.query("count(*)") == 1
