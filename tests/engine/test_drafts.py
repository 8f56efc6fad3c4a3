"""Design rule 7: Studio drafts and release versions get the same deltas, publish keeps them."""

from __future__ import annotations

from cms_client import mutations as m
from service.engine import Inventory
from tests.engine import studio
from tests.engine.support import CountingStore, doc, error_logs, ledger, line, variant


async def test_every_operation_carries_its_delta_to_drafts_and_versions(
    inventory: Inventory, store: CountingStore
) -> None:
    await studio.start_draft(store, "prod-tee")
    await studio.edit_draft(store, "prod-tee", {"title": "Spooky tee"})
    release = await doc(store, "prod-tee") | {"_id": "versions.autumn.prod-tee"}
    await store.mutate([m.create({k: v for k, v in release.items() if k != "_rev"})])
    await inventory.reserve("cs_1", [line("halloween-tee", 2, "s")])
    await inventory.commit("cs_1", "pi")
    await inventory.adjust("halloween-tee", size="m", delta=4, reason="restock")
    for doc_id in ("prod-tee", "drafts.prod-tee", "versions.autumn.prod-tee"):
        copy = await doc(store, doc_id)
        small, medium = variant(copy, "s"), variant(copy, "m")
        assert (small["stockQuantity"], small["reservedQuantity"]) == (1, 0), doc_id
        assert medium["stockQuantity"] == 6, doc_id
    assert (await doc(store, "drafts.prod-tee"))["title"] == "Spooky tee", "edits are kept"


async def test_publishing_a_draft_after_service_writes_loses_nothing(
    inventory: Inventory, store: CountingStore
) -> None:
    await studio.start_draft(store, "prod-railcam")
    await inventory.reserve("cs_1", [line("railcam", 2)])
    await studio.edit_draft(store, "prod-railcam", {"stockQuantity": 9})  # editor's restock: +4
    await inventory.commit("cs_1", "pi")
    await studio.publish(store, "prod-railcam")
    railcam = await doc(store, "prod-railcam")
    assert (railcam["stockQuantity"], railcam["reservedQuantity"]) == (7, 0)
    result = await inventory.reconcile()
    assert result.repaired == [] and result.products_checked == 3


async def test_a_stale_publish_is_repaired_by_reconcile(
    inventory: Inventory, store: CountingStore
) -> None:
    before = await doc(store, "prod-railcam")
    await inventory.reserve("cs_1", [line("railcam", 3)])
    # Studio copied the document just before the reserve landed, then published it.
    await studio.start_draft(store, "prod-railcam", from_doc=before)
    await studio.publish(store, "prod-railcam")
    assert (await doc(store, "prod-railcam"))["reservedQuantity"] == 0
    result = await inventory.reconcile()
    assert [(d.product_id, d.recorded, d.expected) for d in result.repaired] == [
        ("prod-railcam", 0, 3)
    ]
    assert (await doc(store, "prod-railcam"))["reservedQuantity"] == 3
    (entry,) = await ledger(store, type="reconcile")
    assert (entry["previousReservedQuantity"], entry["newReservedQuantity"]) == (0, 3)
    (log,) = await error_logs(store)
    assert log["type"] == "reconciliation" and "0 -> 3" in log["message"]
    await inventory.release("cs_1")
    assert (await doc(store, "prod-railcam"))["reservedQuantity"] == 0


async def test_reconcile_of_named_products_only(inventory: Inventory, store: CountingStore) -> None:
    await store.mutate(
        [
            m.patch("prod-railcam", set={"reservedQuantity": 2}),
            m.patch("prod-sleepers", set={"reservedQuantity": 2}),
        ]
    )
    result = await inventory.reconcile(["railcam", "ghost"])
    assert result.products_checked == 1
    assert [d.product_id for d in result.repaired] == ["prod-railcam"]
    assert (await doc(store, "prod-sleepers"))["reservedQuantity"] == 2
