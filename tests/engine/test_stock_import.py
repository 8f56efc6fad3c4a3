"""Bulk import through the engine: checked together, applied all or nothing, once per key."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from random import Random
from typing import Any

import pytest

from cms_client import mutations as m
from cms_client.errors import DocumentExists, StoreUnavailable
from cms_client.store import Mutation, MutationResult
from schemas.stock_csv import parse_import
from service.engine import ImportInProgress, ImportRejected, Inventory
from service.engine.operations import stock_import
from tests.engine.conftest import no_wait
from tests.engine.support import CountingStore, doc, error_logs, ledger, line, variant


def rows(text: str, reason: str | None = None) -> Any:
    return parse_import(text, default_reason=reason).rows


async def test_a_dry_run_reports_every_row_and_writes_nothing(
    inventory: Inventory, store: CountingStore
) -> None:
    result = await inventory.import_stock(
        rows(
            "productId,size,delta\nrailcam,,+4\nhalloween-tee,M,-1\nhalloween-tee,m,-1\n", "restock"
        ),
        actor="ann",
        dry_run=True,
    )
    assert result.dry_run and not result.applied
    assert [
        (r.row, r.document_id, r.size, r.before, r.after, r.change, r.error) for r in result.rows
    ] == [
        (2, "prod-railcam", None, 5, 9, 4, None),
        (3, "prod-tee", "m", 2, 1, -1, None),
        # A second row for the same line starts where the first one left it.
        (4, "prod-tee", "m", 1, 0, -1, None),
    ]
    assert (result.valid, result.invalid) == (3, 0)
    assert await ledger(store) == []
    assert (await doc(store, "prod-railcam"))["stockQuantity"] == 5


async def test_every_bad_row_is_listed_and_nothing_is_written(
    inventory: Inventory, store: CountingStore
) -> None:
    await inventory.reserve("cs_1", [line("railcam", 3)])
    text = (
        "productId,size,setTo,delta,reason\n"
        "railcam,,,+1,restock\n"  # fine on its own
        "nope,,3,,restock\n"  # unknown product
        "halloween-tee,xl,3,,restock\n"  # unknown size
        "halloween-tee,,3,,restock\n"  # size needed
        "railways-and-sleepers,,,-1,damage\n"  # below zero
        "railcam,,2,,correction\n"  # below the 3 held by a checkout
        "railcam,,x,,correction\n"  # bad number
    )
    with pytest.raises(ImportRejected) as caught:
        await inventory.import_stock(rows(text), actor="ann")
    result = caught.value.result
    errors = {r.row: r.error for r in result.rows}
    assert errors[2] is None
    assert "'nope' not found" in (errors[3] or "")
    assert "no size 'xl'" in (errors[4] or "")
    assert "give size or variantKey" in (errors[5] or "")
    assert "below zero: 0 -> -1" in (errors[6] or "")
    assert "below what checkouts hold: 6 -> 2, 3 reserved" in (errors[7] or "")
    assert "not a whole number" in (errors[8] or "")
    assert (result.valid, result.invalid) == (1, 6)
    assert [e["type"] for e in await ledger(store)] == ["reservation"]
    assert (await doc(store, "prod-railcam"))["stockQuantity"] == 5


async def test_rows_apply_in_order_with_one_ledger_entry_each_and_none_for_no_change(
    inventory: Inventory, store: CountingStore
) -> None:
    await store.mutate([m.create({**(await doc(store, "prod-tee")), "_id": "drafts.prod-tee"})])
    result = await inventory.import_stock(
        rows(
            "productId,size,delta,setTo,reason,note,reference\n"
            "halloween-tee,s,+2,,restock,box 1,PO-7\n"
            "halloween-tee,s,+3,,restock,box 2,PO-7\n"
            "railcam,,,5,correction,,\n"  # already 5: no entry
            "railcam,,-1,,damage,dropped,\n"
        ),
        actor="ann",
        reference="import-test",
    )
    assert result.applied and result.ledger_entries == 3 and result.transactions == 1
    assert [(r.before, r.after, r.change) for r in result.rows] == [
        (3, 5, 2),
        (5, 8, 3),
        (5, 5, 0),
        (5, 4, -1),
    ]
    entries = await ledger(store)
    assert [
        (e["type"], e["quantityChange"], e["reason"], e["referenceId"], e["actor"]) for e in entries
    ] == [
        ("restock", 2, "box 1", "PO-7", "ann"),
        ("restock", 3, "box 2", "PO-7", "ann"),
        ("damage", -1, "dropped", "import-test", "ann"),
    ]
    assert variant(await doc(store, "prod-tee"), "s")["stockQuantity"] == 8
    # The open draft got the same change, so publishing it keeps the import.
    assert variant(await doc(store, "drafts.prod-tee"), "s")["stockQuantity"] == 8
    assert (await doc(store, "prod-railcam"))["stockQuantity"] == 4


async def test_the_same_idempotency_key_replays_and_never_applies_twice(
    inventory: Inventory, store: CountingStore
) -> None:
    text = rows("productId,delta,reason\nrailcam,+2,restock\n")
    first = await inventory.import_stock(text, actor="ann", idempotency_key="k1")
    again = await inventory.import_stock(text, actor="ann", idempotency_key="k1")
    assert again.replayed and not first.replayed
    assert again.rows == first.rows and again.reference == first.reference
    assert (await doc(store, "prod-railcam"))["stockQuantity"] == 7
    # Another staff member's key is their own.
    await inventory.import_stock(text, actor="bob", idempotency_key="k1")
    assert (await doc(store, "prod-railcam"))["stockQuantity"] == 9


async def test_concurrent_imports_with_one_key_apply_once(
    inventory: Inventory, store: CountingStore
) -> None:
    text = rows(
        "productId,delta,reason\nrailcam,+2,restock\nhalloween-tee,+1,restock\n".replace(
            "halloween-tee,", "railways-and-sleepers,"
        )
    )
    outcomes = await asyncio.gather(
        *(inventory.import_stock(text, actor="ann", idempotency_key="same") for _ in range(4)),
        return_exceptions=True,
    )
    applied = [o for o in outcomes if not isinstance(o, BaseException) and not o.replayed]
    assert len(applied) == 1
    assert all(
        isinstance(o, ImportInProgress) or (not isinstance(o, BaseException)) for o in outcomes
    )
    assert (await doc(store, "prod-railcam"))["stockQuantity"] == 7
    assert len(await ledger(store)) == 2


class FailingStore(CountingStore):
    """Fails the n-th mutate (1-based) with a store outage; the rest pass."""

    def __init__(self, inner: Any, fail_at: int) -> None:
        super().__init__(inner)
        self.fail_at = fail_at
        self.mutates = 0

    async def mutate(self, mutations: Sequence[Mutation], **kwargs: Any) -> MutationResult:
        self.mutates += 1
        if self.mutates == self.fail_at:
            raise StoreUnavailable("store down for the test")
        return await super().mutate(mutations, **kwargs)


async def test_a_failure_midway_undoes_the_chunks_already_written(
    store: CountingStore, clock: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stock_import, "PRODUCTS_PER_TRANSACTION", 1)
    failing = FailingStore(store.inner, fail_at=3)
    inventory = Inventory(failing, clock=clock, settings=settings, sleep=no_wait, rng=Random(1))
    text = rows(
        "productId,size,delta,reason\n"
        "railcam,,+2,restock\n"
        "halloween-tee,s,+1,restock\n"
        "railways-and-sleepers,,+4,restock\n"
    )
    with pytest.raises(StoreUnavailable):
        await inventory.import_stock(text, actor="ann", reference="imp-1", idempotency_key="k")
    assert (await doc(store, "prod-railcam"))["stockQuantity"] == 5
    assert variant(await doc(store, "prod-tee"), "s")["stockQuantity"] == 3
    assert (await doc(store, "prod-sleepers"))["stockQuantity"] == 0
    entries = await ledger(store, referenceId="imp-1")
    assert sorted((e["productId"], e["type"], e["quantityChange"]) for e in entries) == [
        ("prod-railcam", "correction", -2),
        ("prod-railcam", "restock", 2),
        ("prod-tee", "correction", -1),
        ("prod-tee", "restock", 1),
    ]
    assert await error_logs(store) == []
    # The journal is gone: the same request with the same key can be sent again.
    result = await inventory.import_stock(text, actor="ann", reference="imp-1", idempotency_key="k")
    assert result.applied and result.transactions == 3
    assert (await doc(store, "prod-sleepers"))["stockQuantity"] == 4


class EditingStore(CountingStore):
    """Before the n-th mutate, someone else sets a product's stock (a Studio edit)."""

    def __init__(self, inner: Any, at: int, product: str, stock: int) -> None:
        super().__init__(inner)
        self.at, self.product, self.stock = at, product, stock
        self.mutates = 0

    async def mutate(self, mutations: Sequence[Mutation], **kwargs: Any) -> MutationResult:
        self.mutates += 1
        if self.mutates == self.at:
            await self.inner.mutate([m.patch(self.product, set={"stockQuantity": self.stock})])
        return await super().mutate(mutations, **kwargs)


async def test_a_row_that_turns_invalid_while_applying_undoes_the_import(
    store: CountingStore, clock: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stock_import, "PRODUCTS_PER_TRANSACTION", 1)
    await store.mutate([m.patch("prod-sleepers", set={"stockQuantity": 1})])
    editing = EditingStore(store.inner, at=2, product="prod-sleepers", stock=0)
    inventory = Inventory(editing, clock=clock, settings=settings, sleep=no_wait, rng=Random(1))
    text = rows("productId,delta,reason\nrailcam,+2,restock\nrailways-and-sleepers,-1,damage\n")
    with pytest.raises(ImportRejected) as caught:
        await inventory.import_stock(text, actor="ann", reference="imp-2")
    bad = [r for r in caught.value.result.rows if r.error]
    assert [(r.row, r.before, r.after) for r in bad] == [(3, 0, -1)]
    assert "undone" in caught.value.message
    assert (await doc(store, "prod-railcam"))["stockQuantity"] == 5
    assert sorted(
        (e["type"], e["quantityChange"]) for e in await ledger(store, productId="prod-railcam")
    ) == [("correction", -2), ("restock", 2)]


class LostAnswerStore(CountingStore):
    """The n-th mutate commits, but its answer is lost and the store's own retry of it is
    refused as a conflict (the journal it creates exists by then), as a store that retries
    a lost response answers."""

    def __init__(self, inner: Any, at: int) -> None:
        super().__init__(inner)
        self.at = at
        self.mutates = 0

    async def mutate(self, mutations: Sequence[Mutation], **kwargs: Any) -> MutationResult:
        self.mutates += 1
        result = await super().mutate(mutations, **kwargs)
        if self.mutates == self.at:
            raise DocumentExists(
                "the retried request found its own document", index=0, document_id="journal"
            )
        return result


async def test_a_first_chunk_whose_answer_was_lost_is_recognised_and_the_import_goes_on(
    store: CountingStore, clock: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stock_import, "PRODUCTS_PER_TRANSACTION", 1)
    lossy = LostAnswerStore(store.inner, at=1)
    inventory = Inventory(lossy, clock=clock, settings=settings, sleep=no_wait, rng=Random(1))
    # The first chunk changes nothing (no ledger entry to recognise it by): only the
    # journal it created says it committed.
    text = rows("productId,size,setTo,reason\nrailcam,,5,correction\nhalloween-tee,s,4,restock\n")
    result = await inventory.import_stock(
        text, actor="ann", reference="imp-3", idempotency_key="k3"
    )
    assert result.applied and not result.replayed
    assert [(r.row, r.change) for r in result.rows] == [(2, 0), (3, 1)]
    assert variant(await doc(store, "prod-tee"), "s")["stockQuantity"] == 4
    assert [e["quantityChange"] for e in await ledger(store, referenceId="imp-3")] == [1]
    again = await inventory.import_stock(text, actor="ann", reference="imp-3", idempotency_key="k3")
    assert again.replayed
