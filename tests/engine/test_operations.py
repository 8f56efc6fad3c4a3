"""Each operation's rules through the facade, against the embedded lake."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from cms_client import mutations as m
from schemas.ids import reservation_id
from service.engine import (
    IdempotencyKeyReused,
    InsufficientStock,
    InvalidAdjustment,
    InvalidRequest,
    Inventory,
    ProductNotFound,
    ReservationConflict,
    ReservationNotActive,
    ReservationNotCommitted,
    ReservationNotFound,
    VariantNotFound,
)
from tests.engine.support import CountingStore, doc, error_logs, ledger, line, variant
from tests.support.clock import ManualClock


async def test_reserve_by_slug_and_size_in_any_case(
    inventory: Inventory, store: CountingStore
) -> None:
    result = await inventory.reserve(
        "cs_1", [line("railcam", 2), line("halloween-tee", 1, "M"), line("prod-tee", 1, "m")]
    )
    assert [(o.product_id, o.resolved_id, o.size, o.requested) for o in result.lines] == [
        ("railcam", "prod-railcam", None, 2),
        ("halloween-tee", "prod-tee", "m", 2),
    ]
    assert (await doc(store, "prod-railcam"))["reservedQuantity"] == 2
    assert variant(await doc(store, "prod-tee"), "m")["reservedQuantity"] == 2
    saved = await inventory.reservation("cs_1")
    assert saved is not None and saved.status == "active"
    assert saved.expires_at == result.expires_at


async def test_over_reserve_is_refused_per_line_and_holds_nothing(
    inventory: Inventory, store: CountingStore
) -> None:
    with pytest.raises(InsufficientStock) as caught:
        await inventory.reserve(
            "cs_1",
            [line("railcam", 2), line("halloween-tee", 3, "m"), line("railways-and-sleepers", 1)],
        )
    details = [(o.product_id, o.code, o.requested, o.available) for o in caught.value.lines]
    assert details == [
        ("railcam", "ok", 2, 5),
        ("halloween-tee", "insufficient_stock", 3, 2),
        ("railways-and-sleepers", "insufficient_stock", 1, 0),
    ]
    assert (await doc(store, "prod-railcam"))["reservedQuantity"] == 0
    assert await inventory.reservation("cs_1") is None
    assert await ledger(store) == []


async def test_a_variant_without_key_or_counters_can_be_reserved(
    inventory: Inventory, store: CountingStore
) -> None:
    with pytest.raises(InsufficientStock):
        await inventory.reserve("cs_1", [line("halloween-tee", 1, "L")])
    await inventory.adjust("halloween-tee", size="l", set_to=2, reason="initial")
    await inventory.reserve("cs_1", [line("halloween-tee", 2, "L")])
    large = variant(await doc(store, "prod-tee"), "l")
    assert (large["stockQuantity"], large["reservedQuantity"]) == (2, 2)


async def test_replay_and_conflict_for_one_session(inventory: Inventory) -> None:
    first = await inventory.reserve("cs_1", [line("railcam", 2)])
    again = await inventory.reserve("cs_1", [line("prod-railcam", 1), line("railcam", 1)])
    assert again.replayed and again.expires_at == first.expires_at
    assert again.lines == first.lines
    with pytest.raises(ReservationConflict) as caught:
        await inventory.reserve("cs_1", [line("railcam", 3)])
    assert caught.value.code == "reservation_conflict"
    await inventory.release("cs_1")
    with pytest.raises(ReservationNotActive):
        await inventory.reserve("cs_1", [line("railcam", 2)])


async def test_ttl_is_bounded_by_the_maximum(inventory: Inventory, clock: ManualClock) -> None:
    result = await inventory.reserve("cs_1", [line("railcam")], ttl=timedelta(hours=5))
    assert result.expires_at == clock.now + inventory.settings.max_ttl


async def test_limits_on_quantity_and_lines(inventory: Inventory) -> None:
    with pytest.raises(InvalidRequest):
        await inventory.reserve("cs_1", [line("railcam", 51)])
    with pytest.raises(InvalidRequest):
        await inventory.reserve("cs_1", [line(f"p{n}") for n in range(101)])
    with pytest.raises(InvalidRequest) as caught:
        await inventory.reserve("", [line("railcam")])
    assert caught.value.field == "sessionId"
    with pytest.raises(InvalidRequest):
        await inventory.reserve("cs_1", [line("railcam")], ttl=timedelta(0))
    with pytest.raises(InvalidRequest):
        await inventory.restore("cs_1", reference="")


async def test_session_ids_outside_the_id_charset_get_a_stable_private_id(
    inventory: Inventory,
) -> None:
    result = await inventory.reserve("checkout/42 by ann@example.com", [line("railcam")])
    assert result.reservation_id.startswith("inventory.reservation.h.")
    assert result.reservation_id == reservation_id("checkout/42 by ann@example.com")
    saved = await inventory.reservation("checkout/42 by ann@example.com")
    assert saved is not None and saved.session_id == "checkout/42 by ann@example.com"


async def test_a_renamed_slug_is_resolved_again(inventory: Inventory, store: CountingStore) -> None:
    await inventory.reserve("cs_1", [line("railcam")])
    railcam = await doc(store, "prod-railcam")
    await store.mutate(
        [
            m.patch("prod-railcam", set={"slug": {"current": "railcam-v1"}}),
            m.create(
                {
                    "_id": "prod-railcam-2",
                    "_type": "product",
                    "title": "Railcam 2",
                    "slug": {"current": "railcam"},
                    "stockQuantity": 1,
                }
            ),
        ]
    )
    assert railcam["slug"]["current"] == "railcam"
    result = await inventory.reserve("cs_2", [line("railcam")])
    assert result.lines[0].resolved_id == "prod-railcam-2"
    await store.mutate([m.delete("prod-railcam-2")])
    with pytest.raises(InsufficientStock) as caught:
        await inventory.reserve("cs_3", [line("railcam")])
    assert caught.value.lines[0].code == "product_not_found"


async def test_an_overdue_hold_is_reclaimed_by_the_next_reserve_without_the_cron(
    inventory: Inventory, store: CountingStore, clock: ManualClock
) -> None:
    await inventory.reserve("cs_old", [line("railcam", 4), line("halloween-tee", 1, "s")])
    clock.advance(minutes=31)
    with pytest.raises(InsufficientStock):
        await inventory.reserve("cs_new", [line("railcam", 3)])  # still within the grace
    clock.advance(minutes=2)
    result = await inventory.reserve("cs_new", [line("railcam", 3)])
    assert result.reclaimed == ["cs_old"]
    old = await inventory.reservation("cs_old")
    assert old is not None and old.status == "expired"
    assert (await doc(store, "prod-railcam"))["reservedQuantity"] == 3
    assert variant(await doc(store, "prod-tee"), "s")["reservedQuantity"] == 0


async def test_a_failed_reserve_still_frees_overdue_holds(
    inventory: Inventory, store: CountingStore, clock: ManualClock
) -> None:
    await inventory.reserve("cs_old", [line("railcam", 4)])
    clock.advance(minutes=40)
    with pytest.raises(InsufficientStock) as caught:
        await inventory.reserve("cs_new", [line("railcam", 6)])
    assert caught.value.lines[0].available == 5
    assert (await doc(store, "prod-railcam"))["reservedQuantity"] == 0


async def test_release_whole_partial_and_only_once(
    inventory: Inventory, store: CountingStore
) -> None:
    await inventory.reserve("cs_1", [line("railcam", 3), line("halloween-tee", 2, "s")])
    partial = await inventory.release("cs_1", [line("railcam", 1)])
    assert partial.status == "active"
    assert (await doc(store, "prod-railcam"))["reservedQuantity"] == 2
    whole = await inventory.release("cs_1")
    assert whole.status == "released"
    assert [(c.product_id, c.quantity) for c in whole.released] == [
        ("prod-railcam", 2),
        ("prod-tee", 2),
    ]
    assert (await doc(store, "prod-railcam"))["reservedQuantity"] == 0
    # Sent again (a lost answer, a double click): the same release, replayed, nothing moved.
    again = await inventory.release("cs_1")
    assert again.replayed and again.released == whole.released
    assert (await doc(store, "prod-railcam"))["reservedQuantity"] == 0
    with pytest.raises(ReservationNotActive):
        await inventory.release("cs_1", [line("railcam", 1)])
    with pytest.raises(ReservationNotFound) as caught:
        await inventory.release("cs_unknown")
    assert caught.value.code == "reservation_not_found"


async def test_commit_then_restore_exactly_once_per_reference(
    inventory: Inventory, store: CountingStore
) -> None:
    await inventory.reserve("cs_1", [line("railcam", 3)])
    with pytest.raises(ReservationNotCommitted):
        await inventory.restore("cs_1", reference="re_0")
    committed = await inventory.commit("cs_1", "pi_1")
    assert committed.status == "committed"
    assert (await doc(store, "prod-railcam"))["stockQuantity"] == 2
    first = await inventory.restore("cs_1", [line("railcam", 1)], reference="re_1")
    repeat = await inventory.restore("cs_1", [line("railcam", 1)], reference="re_1")
    assert repeat.replayed and repeat.restored == first.restored
    assert (await doc(store, "prod-railcam"))["stockQuantity"] == 3
    rest = await inventory.restore("cs_1", reference="re_2", reason="cancellation")
    assert rest.status == "refunded" and rest.restored[0].quantity == 2
    assert (await doc(store, "prod-railcam"))["stockQuantity"] == 5
    types = [e["type"] for e in await ledger(store, productId="prod-railcam")]
    assert sorted(types) == ["cancellation", "refund", "reservation", "sale"]


async def test_late_payment_without_stock_is_recorded_not_refused(
    inventory: Inventory, store: CountingStore, clock: ManualClock
) -> None:
    await inventory.reserve("cs_slow", [line("railcam", 3)])
    clock.advance(minutes=40)
    await inventory.expire()
    await inventory.reserve("cs_fast", [line("railcam", 4)])
    result = await inventory.commit("cs_slow", "pi_slow")
    assert result.late and result.status == "committed"
    assert [(s.requested, s.committed, s.missing) for s in result.shortfall] == [(3, 1, 2)]
    railcam = await doc(store, "prod-railcam")
    assert (railcam["stockQuantity"], railcam["reservedQuantity"]) == (4, 4)
    (log,) = [e for e in await error_logs(store) if e["severity"] == "critical"]
    assert log["type"] == "stock_deduction" and log["sessionId"] == "cs_slow"
    saved = await inventory.reservation("cs_slow")
    assert saved is not None and saved.shortfall[0].missing == 2


async def test_adjust_records_who_and_why(inventory: Inventory, store: CountingStore) -> None:
    result = await inventory.adjust("railcam", delta=7, reason="restock", actor="ann", note="PO 7")
    assert (result.previous_stock, result.new_stock) == (5, 12)
    (entry,) = await ledger(store)
    assert (entry["type"], entry["actor"], entry["reason"], entry["quantityChange"]) == (
        "restock",
        "ann",
        "PO 7",
        7,
    )
    with pytest.raises(InvalidAdjustment) as caught:
        await inventory.adjust("railcam", delta=-13, reason="damage")
    assert caught.value.code == "invalid_adjustment"
    with pytest.raises(ProductNotFound):
        await inventory.adjust("nope", delta=1, reason="restock")
    with pytest.raises(VariantNotFound):
        await inventory.adjust("halloween-tee", size="xxl", delta=1, reason="restock")


async def test_idempotency_keys_replay_the_stored_result(
    inventory: Inventory, store: CountingStore
) -> None:
    first = await inventory.adjust("railcam", delta=2, reason="return", idempotency_keys=["k1"])
    again = await inventory.adjust("railcam", delta=2, reason="return", idempotency_keys=["k1"])
    assert again.replayed and again.model_dump(exclude={"replayed"}) == first.model_dump(
        exclude={"replayed"}
    )
    assert (await doc(store, "prod-railcam"))["stockQuantity"] == 7
    with pytest.raises(IdempotencyKeyReused):
        await inventory.adjust("railcam", delta=3, reason="return", idempotency_keys=["k1"])
    await inventory.reserve("cs_1", [line("railcam")])
    released = await inventory.release("cs_1", idempotency_keys=["evt_1", "cs_1:release"])
    replay = await inventory.release("cs_1", idempotency_keys=["evt_2", "cs_1:release"])
    assert replay.replayed and replay.released == released.released


async def test_payment_intent_keeps_the_hold_past_its_expiry(
    inventory: Inventory, clock: ManualClock
) -> None:
    await inventory.reserve("cs_ach", [line("railcam", 2)])
    recorded = await inventory.record_payment_intent("cs_ach", "pi_ach")
    assert recorded.expires_at == clock.now + inventory.settings.payment_hold
    clock.advance(hours=2)
    assert (await inventory.expire()).expired == []
    assert await inventory.session_paid_with("pi_ach") == "cs_ach"
    assert await inventory.session_paid_with("pi_other") is None
    assert (await inventory.commit("cs_ach", "pi_ach")).late is False
    with pytest.raises(ReservationNotFound):
        await inventory.record_payment_intent("cs_none", "pi_x")


async def test_log_error_with_a_dedupe_key_logs_once(
    inventory: Inventory, store: CountingStore
) -> None:
    ids = {
        await inventory.log_error(
            "webhook_processing", "medium", "unknown session", dedupe_key="evt_1", details={"a": 1}
        )
        for _ in range(3)
    }
    assert len(ids) == 1
    (log,) = await error_logs(store)
    assert json.loads(log["details"]) == {"a": 1} and log["resolved"] is False
