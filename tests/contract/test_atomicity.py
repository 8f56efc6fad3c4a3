"""One mutate call is one transaction: a failing mutation anywhere leaves nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from cms_client import mutations as m
from cms_client.errors import StoreError
from cms_client.store import DocumentStore

IDS = ["p1", "p2", "hold.1", "ledger.1", "p3"]


async def snapshot(store: DocumentStore) -> list[Any]:
    return await store.get_documents(IDS, include_all_versions=True)


@pytest.fixture
async def seeded(store: DocumentStore) -> str:
    result = await store.mutate(
        [
            m.create({"_id": "p1", "_type": "product", "stock": 5, "reserved": 0}),
            m.create({"_id": "p2", "_type": "product", "stock": 2, "reserved": 0}),
            m.create({"_id": "drafts.p1", "_type": "product", "stock": 5, "reserved": 0}),
        ]
    )
    return result.transaction_id


@pytest.mark.parametrize(
    "failing",
    [
        m.create({"_id": "p2", "_type": "product"}),
        m.patch("p2", if_revision_id="stale", inc={"reserved": 1}),
        m.patch("nobody", inc={"reserved": 1}),
        m.patch("p2", inc={"missingCounter": 1}),
        m.create({"_id": "bad id", "_type": "t"}),
        {"delete": {"query": "*[_type == 'product' && stock > $min]"}},
    ],
    ids=["exists", "stale-revision", "missing", "bad-inc", "bad-id", "query-without-param"],
)
async def test_a_failing_last_mutation_undoes_everything_before_it(
    store: DocumentStore, seeded: str, failing: dict[str, Any]
) -> None:
    before = await snapshot(store)
    transaction = [
        m.patch("p1", if_revision_id=seeded, inc={"reserved": 2}),
        m.patch("drafts.p1", inc={"reserved": 2}),
        m.create({"_id": "hold.1", "_type": "stockReservation", "qty": 2}),
        m.create({"_id": "ledger.1", "_type": "inventoryTransaction", "delta": -2}),
        m.delete("p3"),
        {"patch": {"query": "*[_type == 'product']", "set": {"touched": True}}},
        failing,
    ]

    with pytest.raises(StoreError):
        await store.mutate(transaction)

    assert await snapshot(store) == before


async def test_a_failing_first_mutation_stops_the_later_ones(
    store: DocumentStore, seeded: str
) -> None:
    before = await snapshot(store)

    with pytest.raises(StoreError):
        await store.mutate(
            [
                m.create({"_id": "p1", "_type": "product"}),
                m.delete("p2"),
                m.create({"_id": "p3", "_type": "t"}),
            ]
        )

    assert await snapshot(store) == before


async def test_a_failed_transaction_does_not_use_up_its_transaction_id(
    store: DocumentStore, seeded: str
) -> None:
    with pytest.raises(StoreError):
        await store.mutate([m.create({"_id": "p1", "_type": "product"})], transaction_id="tx-retry")

    result = await store.mutate([m.create({"_id": "p3", "_type": "t"})], transaction_id="tx-retry")

    assert result.transaction_id == "tx-retry"


async def test_a_dry_run_that_fails_writes_nothing_either(
    store: DocumentStore, seeded: str
) -> None:
    before = await snapshot(store)

    with pytest.raises(StoreError):
        await store.mutate(
            [m.create({"_id": "p3", "_type": "t"}), m.create({"_id": "p1", "_type": "t"})],
            dry_run=True,
        )

    assert await snapshot(store) == before
