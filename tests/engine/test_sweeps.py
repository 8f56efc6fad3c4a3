"""Expire, reconcile and purge: the scheduled housekeeping."""

from __future__ import annotations

from datetime import timedelta

from cms_client import mutations as m
from service.engine import EngineSettings, Inventory
from tests.engine.conftest import no_wait
from tests.engine.support import CountingStore, doc, error_logs, line, variant
from tests.support.clock import ManualClock


async def test_expire_releases_overdue_holds_only(
    inventory: Inventory, store: CountingStore, clock: ManualClock
) -> None:
    await inventory.reserve("cs_old", [line("railcam", 2), line("halloween-tee", 1, "m")])
    clock.advance(minutes=20)
    await inventory.reserve("cs_new", [line("railcam", 1)])
    clock.advance(minutes=12)  # cs_old: 32 min old, in its grace period
    assert (await inventory.expire()).expired == []
    clock.advance(minutes=1)
    assert (await inventory.expire()).expired == ["cs_old"]
    assert (await doc(store, "prod-railcam"))["reservedQuantity"] == 1
    assert variant(await doc(store, "prod-tee"), "m")["reservedQuantity"] == 0
    assert (await inventory.expire()).expired == []
    old = await inventory.reservation("cs_old")
    assert old is not None and old.status == "expired" and old.expired_at == clock.now


async def test_expire_walks_more_than_one_page(store: CountingStore, clock: ManualClock) -> None:
    settings = EngineSettings(sweep_batch_size=2, reconcile_settle=0)
    inventory = Inventory(store, clock=clock, settings=settings, sleep=no_wait)
    await inventory.adjust("railcam", set_to=20, reason="initial")
    for n in range(5):
        await inventory.reserve(f"cs_{n}", [line("railcam", 2)])
    clock.advance(hours=1)
    result = await inventory.expire()
    assert sorted(result.expired) == [f"cs_{n}" for n in range(5)]
    assert (await doc(store, "prod-railcam"))["reservedQuantity"] == 0


async def test_reconcile_repairs_hand_edited_counters_and_reports_negative_stock(
    inventory: Inventory, store: CountingStore
) -> None:
    await inventory.reserve("cs_1", [line("halloween-tee", 2, "s"), line("railcam", 1)])
    await store.mutate(
        [
            m.patch("prod-tee", set={'variants[_key=="v-s"].reservedQuantity': 7}),
            m.patch("prod-sleepers", set={"stockQuantity": -2, "reservedQuantity": 4}),
        ]
    )
    result = await inventory.reconcile()
    assert sorted((d.product_id, d.size, d.recorded, d.expected) for d in result.repaired) == [
        ("prod-sleepers", None, 4, 0),
        ("prod-tee", "s", 7, 2),
    ]
    assert [(d.product_id, d.recorded) for d in result.negative_stock] == [("prod-sleepers", -2)]
    assert variant(await doc(store, "prod-tee"), "s")["reservedQuantity"] == 2
    sleepers = await doc(store, "prod-sleepers")
    assert (sleepers["stockQuantity"], sleepers["reservedQuantity"]) == (-2, 0)
    severities = sorted(log["severity"] for log in await error_logs(store))
    assert severities == ["critical", "high", "high"]
    again = await inventory.reconcile()
    assert again.repaired == [] and len(await error_logs(store)) == 3, "reported once"


async def test_reconcile_leaves_products_changed_within_the_settle_window(
    store: CountingStore, clock: ManualClock
) -> None:
    inventory = Inventory(store, clock=clock, settings=EngineSettings(), sleep=no_wait)
    await store.mutate([m.patch("prod-railcam", set={"reservedQuantity": 3})])
    result = await inventory.reconcile()
    assert "prod-railcam" in result.settling and result.repaired == []
    clock.advance(seconds=11)
    result = await inventory.reconcile()
    assert [d.product_id for d in result.repaired] == ["prod-railcam"]


async def test_purge_removes_expired_records_and_old_resolved_logs(
    inventory: Inventory, store: CountingStore, clock: ManualClock
) -> None:
    await inventory.adjust("railcam", delta=1, reason="restock", idempotency_keys=["a", "b"])
    open_log = await inventory.log_error("webhook_processing", "low", "still open")
    done_log = await inventory.log_error("webhook_processing", "low", "handled")
    await store.mutate([m.patch(done_log, set={"resolved": True})])
    assert await inventory.purge() == type(await inventory.purge())()
    clock.advance(timedelta(days=31).total_seconds())
    result = await inventory.purge()
    assert (result.idempotency_records, result.error_logs) == (2, 1)
    assert [log["_id"] for log in await error_logs(store)] == [open_log]
