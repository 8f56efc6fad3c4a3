"""Backorders and pre-orders (issue 17 A): selling beyond stock up to a limit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cms_client import mutations as m
from service.engine import InsufficientStock, Inventory
from tests.engine.support import CountingStore, doc, error_logs, ledger, line, seed
from tests.support.clock import ManualClock

KETTLE = {
    "_id": "prod-kettle",
    "_type": "product",
    "title": "Kettle",
    "slug": {"current": "kettle"},
    "stockQuantity": 2,
    "inventoryPolicy": "backorder",
    "backorderLimit": 5,
}


def counters(product: dict[str, Any]) -> tuple[int, int, int, int]:
    return (
        product.get("stockQuantity", 0),
        product.get("reservedQuantity", 0),
        product.get("backorderedQuantity", 0),
        product.get("backorderReservedQuantity", 0),
    )


@pytest.fixture
async def kettle(store: CountingStore) -> dict[str, Any]:
    await seed(store, KETTLE)
    return KETTLE


async def test_a_line_beyond_stock_is_held_up_to_the_limit(
    inventory: Inventory, store: CountingStore, kettle: Any
) -> None:
    result = await inventory.reserve("cs_1", [line("kettle", 4)])
    (answer,) = result.lines
    assert (answer.backordered, answer.fulfilment) == (2, "backorder")
    # Counters never go below zero: 2 from stock, 2 held beyond it.
    assert counters(await doc(store, "prod-kettle")) == (2, 2, 0, 2)
    # The limit (5) counts the 2 held beyond stock: 3 more can be owed, not 4.
    with pytest.raises(InsufficientStock) as refused:
        await inventory.reserve("cs_2", [line("kettle", 4)])
    (short,) = refused.value.lines
    assert short.code == "insufficient_stock" and short.available == 0
    assert "3 more on backorder" in short.message
    held = await inventory.reserve("cs_3", [line("kettle", 3)])
    assert held.lines[0].backordered == 3
    assert counters(await doc(store, "prod-kettle")) == (2, 2, 0, 5)


async def test_a_line_partly_covered_by_stock_is_a_backorder_and_stock_only_lines_say_stock(
    inventory: Inventory, kettle: Any
) -> None:
    first = await inventory.reserve("cs_1", [line("kettle", 1)])
    assert (first.lines[0].backordered, first.lines[0].fulfilment) == (0, "stock")
    second = await inventory.reserve("cs_2", [line("kettle", 3)])
    assert (second.lines[0].backordered, second.lines[0].fulfilment) == (2, "backorder")


async def test_release_and_expiry_give_held_backorder_units_back(
    inventory: Inventory, store: CountingStore, clock: ManualClock, kettle: Any
) -> None:
    await inventory.reserve("cs_1", [line("kettle", 6)])
    assert counters(await doc(store, "prod-kettle")) == (2, 2, 0, 4)
    await inventory.release("cs_1", [line("kettle", 3)])
    # Units beyond stock go first: the customer keeps what stock covers.
    assert counters(await doc(store, "prod-kettle")) == (2, 2, 0, 1)
    await inventory.release("cs_1")
    assert counters(await doc(store, "prod-kettle")) == (2, 0, 0, 0)
    await inventory.reserve("cs_2", [line("kettle", 7)], ttl=timedelta(minutes=5))
    clock.advance(minutes=30)
    expired = await inventory.expire()
    assert expired.expired == ["cs_2"]
    assert counters(await doc(store, "prod-kettle")) == (2, 0, 0, 0)


async def test_payment_records_the_backorder_and_a_restock_fills_it_oldest_first(
    inventory: Inventory, store: CountingStore, clock: ManualClock, kettle: Any
) -> None:
    await inventory.reserve("cs_old", [line("kettle", 3)])
    await inventory.reserve("cs_new", [line("kettle", 2)])
    paid_old = await inventory.commit("cs_old", "pi_old")
    clock.advance(minutes=1)
    paid_new = await inventory.commit("cs_new", "pi_new")
    assert [c.quantity for c in paid_old.committed] == [2]
    assert [c.quantity for c in paid_old.backordered or []] == [1]
    assert paid_new.committed == [] and [c.quantity for c in paid_new.backordered or []] == [2]
    assert not paid_old.shortfall and not paid_new.shortfall
    # Stock 0 plus 3 owed, never negative stock; no critical errorLog: the policy sells.
    assert counters(await doc(store, "prod-kettle")) == (0, 0, 3, 0)
    assert not [e for e in await error_logs(store) if e["severity"] == "critical"]
    (entry,) = await ledger(store, type="backorder", referenceId="cs_new")
    assert (entry["quantityChange"], entry["newBackorderedQuantity"]) == (2, 3)

    # R = 2 against B = 3: all of it fills backorders, the oldest (cs_old's 1) first.
    first = await inventory.adjust("kettle", reason="restock", delta=2, actor="mona")
    assert (first.backorder_filled, first.new_stock, first.backordered) == (2, 0, 1)
    assert counters(await doc(store, "prod-kettle")) == (0, 0, 1, 0)
    old = await inventory.reservation("cs_old")
    new = await inventory.reservation("cs_new")
    assert old is not None and new is not None
    assert old.items[0].open_backorder == 0 and old.open_backorder is False
    assert new.items[0].open_backorder == 1 and new.open_backorder is True

    # R = 5 against B = 1: 1 fills, 4 become available.
    second = await inventory.adjust("kettle", reason="restock", delta=5, actor="mona")
    assert (second.backorder_filled, second.new_stock, second.backordered) == (1, 4, 0)
    assert counters(await doc(store, "prod-kettle")) == (4, 0, 0, 0)
    fills = await ledger(store, type="backorder_fill")
    assert sorted(e["quantityChange"] for e in fills) == [-2, -1]


async def test_refund_of_backordered_units_cancels_the_backorder_instead_of_adding_stock(
    inventory: Inventory, store: CountingStore, kettle: Any
) -> None:
    await inventory.reserve("cs_1", [line("kettle", 5)])
    await inventory.commit("cs_1", "pi_1")
    assert counters(await doc(store, "prod-kettle")) == (0, 0, 3, 0)
    # Refund 2 units: both are still owed, so the backorder shrinks and stock stays 0.
    part = await inventory.restore("cs_1", [line("kettle", 2)], reference="re_1")
    assert [c.quantity for c in part.restored] == [2]
    assert counters(await doc(store, "prod-kettle")) == (0, 0, 1, 0)
    # The rest: 1 still owed is cancelled, the 2 that left stock come back.
    await inventory.restore("cs_1", reference="re_2")
    assert counters(await doc(store, "prod-kettle")) == (2, 0, 0, 0)
    saved = await inventory.reservation("cs_1")
    assert saved is not None and saved.status == "refunded" and saved.open_backorder is False


async def test_preorders_until_their_date_then_backorders(
    inventory: Inventory, store: CountingStore, clock: ManualClock
) -> None:
    today = clock().date()
    await seed(
        store,
        {
            "_id": "prod-book",
            "_type": "product",
            "title": "Book",
            "inventoryPolicy": "preorder",
            "availableFrom": (today + timedelta(days=10)).isoformat(),
        },
    )
    status = await inventory.status(["prod-book"])
    (book,) = status.products
    assert (book.state, book.inventory_policy, book.backorder_available) == (
        "preorder",
        "preorder",
        None,
    )
    held = await inventory.reserve("cs_1", [line("prod-book", 2)])
    assert (held.lines[0].fulfilment, held.lines[0].backordered) == ("preorder", 2)
    clock.advance(days=11)
    later = await inventory.reserve("cs_2", [line("prod-book", 1)])
    assert later.lines[0].fulfilment == "backorder"


async def test_stock_status_shows_policy_and_what_can_still_be_backordered(
    inventory: Inventory, store: CountingStore, kettle: Any
) -> None:
    (before,) = (await inventory.status(["kettle"])).products
    assert (before.state, before.backorder_available, before.available) == ("low_stock", 5, 2)
    await inventory.reserve("cs_1", [line("kettle", 3)])
    (after,) = (await inventory.status(["kettle"])).products
    assert (after.state, after.backorder_available, after.available) == ("backorder", 4, 0)
    await inventory.reserve("cs_2", [line("kettle", 4)])
    (full,) = (await inventory.status(["kettle"])).products
    # Nothing left to sell at all: out of stock again.
    assert (full.state, full.backorder_available) == ("out_of_stock", 0)


async def test_variants_take_their_own_policy_else_the_products(
    inventory: Inventory, store: CountingStore
) -> None:
    await seed(
        store,
        {
            "_id": "prod-hoodie",
            "_type": "product",
            "title": "Hoodie",
            "inventoryPolicy": "backorder",
            "variants": [
                {"_key": "v-s", "size": "s", "stockQuantity": 1},
                {"_key": "v-m", "size": "m", "stockQuantity": 1, "inventoryPolicy": "deny"},
            ],
        },
    )
    held = await inventory.reserve("cs_1", [line("prod-hoodie", 3, "s")])
    assert held.lines[0].backordered == 2
    with pytest.raises(InsufficientStock):
        await inventory.reserve("cs_2", [line("prod-hoodie", 2, "m")])
    hoodie = await doc(store, "prod-hoodie")
    assert counters(hoodie["variants"][0]) == (1, 1, 0, 2)


async def test_a_late_payment_beyond_stock_is_a_backorder_within_the_limit_else_a_shortfall(
    inventory: Inventory, store: CountingStore, kettle: Any
) -> None:
    await inventory.reserve("cs_1", [line("kettle", 2)])
    await inventory.release("cs_1")
    await inventory.reserve("cs_2", [line("kettle", 2)])
    await inventory.commit("cs_2", "pi_2")
    await store.mutate([m.patch("prod-kettle", set={"backorderLimit": 1})])
    late = await inventory.commit("cs_1", "pi_1")
    assert late.late and [c.quantity for c in late.backordered or []] == [1]
    assert [(s.missing, s.committed) for s in late.shortfall] == [(1, 1)]
    assert counters(await doc(store, "prod-kettle")) == (0, 0, 1, 0)


async def test_a_product_without_policy_fields_answers_exactly_as_before(
    inventory: Inventory, store: CountingStore
) -> None:
    held = await inventory.reserve("cs_1", [line("railcam", 2)])
    dumped = held.lines[0].to_json_dict()
    assert "backordered" not in dumped and "fulfilment" not in dumped
    (status,) = (await inventory.status(["railcam"])).products
    assert "inventoryPolicy" not in status.to_json_dict()
    railcam = await doc(store, "prod-railcam")
    assert "backorderedQuantity" not in railcam and "backorderReservedQuantity" not in railcam
    saved = await inventory.reservation("cs_1")
    assert saved is not None and "backordered" not in saved.to_document()["items"][0]
