"""One mutate call = one transaction: atomicity, the shared revision, dry runs, ids."""

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
from cms_client.lake import Lake
from cms_client.store import Mutation


async def seed(lake: Lake) -> str:
    result = await lake.mutate(
        [
            m.create({"_id": "a", "_type": "t", "n": 1}),
            m.create({"_id": "b", "_type": "t", "n": 1}),
        ]
    )
    return result.transaction_id


FAILING_THIRD: list[tuple[Mutation, type[Exception]]] = [
    (m.create({"_id": "a", "_type": "t"}), DocumentExists),
    (m.patch("ghost", set={"x": 1}), DocumentMissing),
    (m.patch("a", if_revision_id="stale", set={"x": 1}), RevisionConflict),
    (m.patch("a", inc={"missing": 1}), BadRequest),
    (m.create({"_id": "-bad", "_type": "t"}), BadRequest),
]


@pytest.mark.parametrize(("third", "error"), FAILING_THIRD)
async def test_a_failure_at_index_2_leaves_indexes_0_and_1_unwritten(lake: Lake, third, error):
    rev = await seed(lake)
    before = await lake.get_documents(["a", "b", "c"])
    with pytest.raises(error):
        await lake.mutate(
            [
                m.patch("a", inc={"n": 1}),  # 0: a change to an existing document
                m.create({"_id": "c", "_type": "t"}),  # 1: a new document
                third,
                m.delete("b"),  # after the failure: never reached
            ]
        )
    assert await lake.get_documents(["a", "b", "c"]) == before
    assert before[0] is not None and before[0]["_rev"] == rev


async def test_documents_written_together_share_the_revision(lake: Lake):
    rev = await seed(lake)
    result = await lake.mutate(
        [
            m.patch("a", inc={"n": 1}),
            m.create({"_id": "c", "_type": "t"}),
            m.create_or_replace({"_id": "b", "_type": "t"}),
        ]
    )
    docs = await lake.get_documents(["a", "b", "c"])
    assert {d["_rev"] for d in docs if d} == {result.transaction_id}
    assert result.transaction_id != rev
    assert all(
        item.document and item.document["_rev"] == result.transaction_id for item in result.results
    )


async def test_only_touched_documents_change_revision(lake: Lake):
    rev = await seed(lake)
    await lake.mutate(
        [m.patch("a", inc={"n": 1}), m.create_if_not_exists({"_id": "b", "_type": "t"})]
    )
    a, b = await lake.get_documents(["a", "b"])
    assert a is not None and b is not None
    assert a["_rev"] != rev
    assert b["_rev"] == rev, "createIfNotExists of an existing document writes nothing"


async def test_each_transaction_gets_a_new_revision(lake: Lake):
    revisions = {await seed(lake)}
    for _ in range(5):
        revisions.add((await lake.mutate([m.patch("a", inc={"n": 1})])).transaction_id)
    assert len(revisions) == 6


async def test_guards_compare_with_the_revision_read_before_the_transaction(lake: Lake):
    # Two guarded patches of one document in one transaction both carry what was read.
    rev = await seed(lake)
    await lake.mutate(
        [
            m.patch("a", if_revision_id=rev, inc={"n": 1}),
            m.patch("a", if_revision_id=rev, inc={"n": 2}),
        ]
    )
    (a,) = await lake.get_documents(["a"])
    assert a is not None and a["n"] == 4


async def test_a_guard_sees_the_replaced_documents_old_revision(lake: Lake):
    # Studio's legacy publish: guard the published document, then replace it.
    rev = await seed(lake)
    await lake.mutate(
        [m.revision_guard("a", rev), m.create_or_replace({"_id": "a", "_type": "t", "n": 9})]
    )
    with pytest.raises(RevisionConflict):
        await lake.mutate(
            [m.revision_guard("a", rev), m.create_or_replace({"_id": "a", "_type": "t"})]
        )


class TestDryRun:
    async def test_returns_the_full_result_and_writes_nothing(self, lake: Lake):
        rev = await seed(lake)
        result = await lake.mutate(
            [
                m.patch("a", if_revision_id=rev, inc={"n": 1}),
                m.create({"_id": "c", "_type": "t"}),
                m.delete("b"),
            ],
            dry_run=True,
        )
        assert [(i.id, i.operation) for i in result.results] == [
            ("a", "update"),
            ("c", "create"),
            ("b", "delete"),
        ]
        a_after = result.results[0].document
        assert (
            a_after is not None and a_after["n"] == 2 and a_after["_rev"] == result.transaction_id
        )
        a, b, c = await lake.get_documents(["a", "b", "c"])
        assert a is not None and a["n"] == 1 and a["_rev"] == rev
        assert b is not None and c is None

    async def test_reports_the_same_errors(self, lake: Lake):
        await seed(lake)
        with pytest.raises(RevisionConflict) as caught:
            await lake.mutate([m.patch("a", if_revision_id="old", set={"x": 1})], dry_run=True)
        assert caught.value.body is not None

    async def test_does_not_use_up_the_transaction_id(self, lake: Lake):
        await seed(lake)
        dry = await lake.mutate([m.patch("a", set={"x": 1})], transaction_id="tx-1", dry_run=True)
        real = await lake.mutate([m.patch("a", set={"x": 1})], transaction_id="tx-1")
        assert dry.transaction_id == real.transaction_id == "tx-1"


class TestTransactionId:
    async def test_a_chosen_id_becomes_the_revision(self, lake: Lake):
        await seed(lake)
        result = await lake.mutate([m.patch("a", inc={"n": 1})], transaction_id="order-42-reserve")
        assert result.transaction_id == "order-42-reserve"
        (a,) = await lake.get_documents(["a"])
        assert a is not None and a["_rev"] == "order-42-reserve"

    async def test_reusing_an_id_refuses_the_transaction(self, lake: Lake):
        rev = await seed(lake)
        with pytest.raises(MutationError) as caught:
            await lake.mutate([m.patch("a", inc={"n": 1})], transaction_id=rev)
        assert type(caught.value) is MutationError
        assert (caught.value.index, caught.value.document_id) == (0, None)
        description = f'Transaction ID "{rev}" has already been used'
        assert caught.value.body == {
            "error": {
                "type": "mutationError",
                "description": f"Mutation failed: {description}",
                "items": [
                    {
                        "index": 0,
                        "error": {
                            "type": "transactionIdConflictError",
                            "description": description,
                            "transactionId": rev,
                        },
                    }
                ],
            }
        }
        (a,) = await lake.get_documents(["a"])
        assert a is not None and a["n"] == 1
        with pytest.raises(MutationError):
            await lake.mutate([m.patch("a", inc={"n": 1})], transaction_id=rev, dry_run=True)

    async def test_a_failed_transaction_does_not_use_up_its_id(self, lake: Lake):
        await seed(lake)
        with pytest.raises(DocumentExists):
            await lake.mutate([m.create({"_id": "a", "_type": "t"})], transaction_id="retry-me")
        result = await lake.mutate(
            [m.create({"_id": "c", "_type": "t"})], transaction_id="retry-me"
        )
        assert result.transaction_id == "retry-me"

    @pytest.mark.parametrize("bad", ["", "has space", "x" * 129, "tab\there"])
    async def test_malformed_ids_are_bad_requests(self, lake: Lake, bad: str):
        with pytest.raises(BadRequest, match="Invalid transaction ID"):
            await lake.mutate([m.create({"_id": "c", "_type": "t"})], transaction_id=bad)


async def test_an_empty_transaction_writes_nothing(lake: Lake):
    result = await lake.mutate([])
    assert result.results == [] and len(result.transaction_id) == 22


@pytest.mark.parametrize("visibility", ["sync", "async", "deferred"])
async def test_visibility_is_accepted_and_the_write_is_visible_at_once(lake: Lake, visibility):
    await lake.mutate([m.create({"_id": "c", "_type": "t"})], visibility=visibility)
    assert await lake.query('*[_id == "c"][0]._id') == "c"


async def test_a_closed_lake_refuses_work(clock):
    from cms_client.errors import StoreUnavailable

    lake = Lake(None, clock=clock)
    await lake.aclose()
    await lake.aclose()
    with pytest.raises(StoreUnavailable):
        await lake.get_documents(["a"])
