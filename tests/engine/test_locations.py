"""Multiple stock locations (issue 17 B) through the engine: allocation, lifecycle, transfer."""

from __future__ import annotations

from random import Random
from typing import Any

import pytest

from cms_client import mutations as m
from cms_client.errors import StoreUnavailable
from schemas.refunds import RefundFact, RefundFacts, RefundStatus
from schemas.stock_csv import parse_import
from service.engine import (
    ImportRejected,
    InsufficientStock,
    InvalidRequest,
    Inventory,
    LocationNotFound,
    LocationStockShort,
)
from service.engine.operations import stock_import
from tests.engine.conftest import no_wait
from tests.engine.support import CountingStore, doc, ledger, line, seed
from tests.engine.test_stock_import import FailingStore
from tests.support.clock import ManualClock

WAREHOUSE = {
    "_id": "loc-warehouse",
    "_type": "stockLocation",
    "name": "Warehouse",
    "slug": {"current": "warehouse"},
    "priority": 1,
    "active": True,
}
SHOP = {
    "_id": "loc-shop",
    "_type": "stockLocation",
    "name": "Shop",
    "slug": {"current": "shop"},
    "priority": 2,
}
POPUP = {
    "_id": "loc-popup",
    "_type": "stockLocation",
    "name": "Pop-up",
    "slug": {"current": "popup"},
    "priority": 0,
    "active": False,
}


def rows(*stock: tuple[str, int]) -> list[dict[str, Any]]:
    return [
        {
            "_key": f"k-{ref}",
            "_type": "locationStock",
            "location": {"_type": "reference", "_ref": ref},
            "stock": n,
            "reserved": 0,
        }
        for ref, n in stock
    ]


LAMP = {
    "_id": "prod-lamp",
    "_type": "product",
    "title": "Lamp",
    "slug": {"current": "lamp"},
    "stockQuantity": 9,
    "locationStock": rows(("loc-warehouse", 3), ("loc-shop", 4), ("loc-popup", 2)),
}


def at(product: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {
        r["location"]["_ref"]: (r.get("stock", 0), r.get("reserved", 0))
        for r in product["locationStock"]
    }


def totals(product: dict[str, Any]) -> tuple[int, int]:
    return product.get("stockQuantity", 0), product.get("reservedQuantity", 0)


@pytest.fixture
async def lamp(store: CountingStore) -> None:
    await seed(store, WAREHOUSE, SHOP, POPUP, LAMP)


async def assert_totals_are_sums(store: CountingStore) -> dict[str, tuple[int, int]]:
    product = await doc(store, "prod-lamp")
    places = at(product)
    assert totals(product) == (
        sum(s for s, _ in places.values()),
        sum(r for _, r in places.values()),
    )
    assert all(s >= 0 and r >= 0 for s, r in places.values())
    return places


async def test_reserve_takes_active_locations_in_priority_order_splitting_a_line(
    inventory: Inventory, store: CountingStore, lamp: None
) -> None:
    # Available counts active locations only: 3 + 4, not the pop-up's 2.
    with pytest.raises(InsufficientStock) as short:
        await inventory.reserve("cs_big", [line("lamp", 8)])
    assert short.value.lines[0].available == 7
    await inventory.reserve("cs_1", [line("lamp", 5)])
    places = await assert_totals_are_sums(store)
    assert places == {"loc-warehouse": (3, 3), "loc-shop": (4, 2), "loc-popup": (2, 0)}
    saved = await inventory.reservation("cs_1")
    assert saved is not None
    allocations = saved.items[0].allocations or []
    assert [(a.location, a.quantity) for a in allocations] == [
        ("loc-warehouse", 3),
        ("loc-shop", 2),
    ]


async def test_release_expiry_commit_and_refund_act_on_the_same_locations(
    inventory: Inventory, store: CountingStore, clock: ManualClock, lamp: None
) -> None:
    await inventory.reserve("cs_1", [line("lamp", 5)])
    # A partial release gives back the lowest-priority units first (the shop's).
    await inventory.release("cs_1", [line("lamp", 1)])
    assert (await assert_totals_are_sums(store))["loc-shop"] == (4, 1)
    await inventory.commit("cs_1", "pi_1")
    assert await assert_totals_are_sums(store) == {
        "loc-warehouse": (0, 0),
        "loc-shop": (3, 0),
        "loc-popup": (2, 0),
    }
    await inventory.restore("cs_1", [line("lamp", 1)], reference="re_1")
    # Refunded units go back where they were taken from (the warehouse first).
    assert (await assert_totals_are_sums(store))["loc-warehouse"] == (1, 0)
    await inventory.reserve("cs_2", [line("lamp", 2)])
    clock.advance(hours=2)
    await inventory.expire()
    assert await assert_totals_are_sums(store) == {
        "loc-warehouse": (1, 0),
        "loc-shop": (3, 0),
        "loc-popup": (2, 0),
    }
    sale = [e for e in await ledger(store, type="sale") if e["productId"] == "prod-lamp"]
    assert {c["location"] for e in sale for c in e["locationChanges"]} == {
        "loc-warehouse",
        "loc-shop",
    }


async def test_adjust_needs_a_location_and_changes_it_and_the_total(
    inventory: Inventory, store: CountingStore, lamp: None
) -> None:
    with pytest.raises(InvalidRequest) as missing:
        await inventory.adjust("lamp", reason="restock", delta=2)
    assert missing.value.field == "location"
    with pytest.raises(LocationNotFound):
        await inventory.adjust("lamp", reason="restock", delta=2, location="attic")
    result = await inventory.adjust("lamp", reason="restock", delta=2, location="shop")
    assert (result.previous_stock, result.new_stock, result.location) == (9, 11, "shop")
    assert (await assert_totals_are_sums(store))["loc-shop"] == (6, 0)
    await inventory.adjust("lamp", reason="correction", set_to=0, location="popup")
    assert totals(await doc(store, "prod-lamp")) == (9, 0)


async def test_transfer_moves_available_units_atomically_with_entries_on_both_sides(
    inventory: Inventory, store: CountingStore, lamp: None
) -> None:
    await inventory.reserve("cs_1", [line("lamp", 2)])  # 2 held at the warehouse
    with pytest.raises(LocationStockShort):
        await inventory.transfer("lamp", source="warehouse", target="shop", quantity=2)
    assert await assert_totals_are_sums(store) == {
        "loc-warehouse": (3, 2),
        "loc-shop": (4, 0),
        "loc-popup": (2, 0),
    }
    moved = await inventory.transfer(
        "lamp", source="shop", target="popup", quantity=3, actor="mona", note="display"
    )
    assert (moved.from_stock, moved.to_stock) == (1, 5)
    assert await assert_totals_are_sums(store) == {
        "loc-warehouse": (3, 2),
        "loc-shop": (1, 0),
        "loc-popup": (5, 0),
    }
    entries = await ledger(store, type="transfer")
    assert sorted((e["location"], e["quantityChange"]) for e in entries) == [
        ("loc-popup", 3),
        ("loc-shop", -3),
    ]
    assert all(e["actor"] == "mona" for e in entries)


async def test_transfer_to_a_location_the_product_has_no_row_for_adds_one(
    inventory: Inventory, store: CountingStore
) -> None:
    await seed(store, WAREHOUSE, SHOP, LAMP | {"locationStock": rows(("loc-warehouse", 3))})
    await store.mutate([m.patch("prod-lamp", set={"stockQuantity": 3})])
    await inventory.transfer("lamp", source="warehouse", target="shop", quantity=1)
    places = await assert_totals_are_sums(store)
    assert places == {"loc-warehouse": (2, 0), "loc-shop": (1, 0)}


async def test_status_for_one_location_and_per_location_figures(
    inventory: Inventory, store: CountingStore, lamp: None
) -> None:
    await inventory.reserve("cs_1", [line("lamp", 4)])
    (overall,) = (await inventory.status(["lamp"])).products
    assert (overall.total, overall.reserved, overall.available) == (9, 4, 3)
    figures = {f.location: (f.stock, f.reserved, f.available) for f in overall.locations or []}
    assert figures == {"warehouse": (3, 3, 0), "shop": (4, 1, 3), "popup": (2, 0, 0)}
    (shop,) = (await inventory.status(["lamp"], location="shop")).products
    assert (shop.total, shop.reserved, shop.available, shop.location) == (4, 1, 3, "shop")
    (popup,) = (await inventory.status(["lamp"], location="popup")).products
    assert (popup.total, popup.available, popup.state) == (2, 0, "out_of_stock")
    with pytest.raises(LocationNotFound):
        await inventory.status(["lamp"], location="attic")


async def test_reconcile_rebuilds_totals_and_per_location_reserved(
    inventory: Inventory, store: CountingStore, lamp: None
) -> None:
    await inventory.reserve("cs_1", [line("lamp", 4)])
    product = await doc(store, "prod-lamp")
    drifted = [dict(r) for r in product["locationStock"]]
    drifted[0]["reserved"] = 0  # the warehouse forgot its 3 held units
    await store.mutate([m.patch("prod-lamp", set={"stockQuantity": 20, "locationStock": drifted})])
    result = await inventory.reconcile()
    assert {(d.counter or "reservedQuantity", d.location) for d in result.repaired} >= {
        ("stockQuantity", None),
        ("reserved", "loc-warehouse"),
    }
    assert await assert_totals_are_sums(store) == {
        "loc-warehouse": (3, 3),
        "loc-shop": (4, 1),
        "loc-popup": (2, 0),
    }
    again = await inventory.reconcile()
    assert not again.repaired


async def test_an_import_row_with_a_location_counts_there_with_the_adjust_rules(
    inventory: Inventory, store: CountingStore, lamp: None
) -> None:
    await inventory.reserve("cs_1", [line("lamp", 4)])  # warehouse 3, shop 1 held
    text = (
        "productId,location,setTo,delta,reason\n"
        "lamp,shop,,+2,restock\n"
        "lamp,popup,0,,correction\n"
        "lamp,warehouse,2,,correction\n"  # below the 3 held there
        "lamp,attic,,+1,restock\n"  # no such location
        "railcam,shop,,+1,restock\n"  # not stocked by location
    )
    with pytest.raises(ImportRejected) as refused:
        await inventory.import_stock(parse_import(text).rows, actor="ann")
    errors = {r.row: r.error for r in refused.value.result.rows}
    assert errors[2] is None and errors[3] is None
    assert "Lamp at warehouse would go below what checkouts hold: 3 -> 2" in (errors[4] or "")
    assert "location 'attic' not found" in (errors[5] or "")
    assert "not stocked by location" in (errors[6] or "")
    assert await assert_totals_are_sums(store) == {
        "loc-warehouse": (3, 3),
        "loc-shop": (4, 1),
        "loc-popup": (2, 0),
    }

    good = (
        "productId,location,setTo,delta,reason\nlamp,shop,,+2,restock\nlamp,popup,0,,correction\n"
    )
    result = await inventory.import_stock(parse_import(good).rows, actor="ann")
    assert [(r.location, r.before, r.after) for r in result.rows] == [
        ("shop", 4, 6),
        ("popup", 2, 0),
    ]
    assert await assert_totals_are_sums(store) == {
        "loc-warehouse": (3, 3),
        "loc-shop": (6, 1),
        "loc-popup": (0, 0),
    }
    entries = await ledger(store, type="restock")
    assert [c["location"] for e in entries for c in e["locationChanges"]] == ["loc-shop"]


async def test_an_import_undone_midway_takes_stock_back_at_the_same_locations(
    store: CountingStore, clock: ManualClock, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(store, WAREHOUSE, SHOP, POPUP, LAMP)
    monkeypatch.setattr(stock_import, "PRODUCTS_PER_TRANSACTION", 1)
    failing = FailingStore(store.inner, fail_at=2)
    inventory = Inventory(failing, clock=clock, settings=settings, sleep=no_wait, rng=Random(1))
    text = "productId,location,delta,reason\nlamp,warehouse,+5,restock\nrailcam,,+1,restock\n"
    with pytest.raises(StoreUnavailable):
        await inventory.import_stock(parse_import(text).rows, actor="ann", reference="imp-l")
    # The warehouse got its 5 and gave exactly those back (a fall of the total alone would
    # come from the lowest-priority location, the shop).
    assert await assert_totals_are_sums(store) == {
        "loc-warehouse": (3, 0),
        "loc-shop": (4, 0),
        "loc-popup": (2, 0),
    }
    undo = await ledger(store, type="correction")
    assert [(c["location"], c["stockChange"]) for e in undo for c in e["locationChanges"]] == [
        ("loc-warehouse", -5)
    ]


async def test_a_refund_that_fails_takes_units_back_where_it_returned_them(
    inventory: Inventory, store: CountingStore, lamp: None
) -> None:
    # 5 sold: 3 from the warehouse, 2 from the shop (which keeps 2).
    await inventory.reserve("cs_1", [line("lamp", 5)])
    await inventory.commit("cs_1", "pi_1")

    def facts(status: RefundStatus) -> RefundFacts:
        return RefundFacts(
            payment_intent_id="pi_1",
            session_id="cs_1",
            refunds=[RefundFact(refund_id="re_1", status=status, lines=[line("lamp", 2)])],
        )

    pending = await inventory.settle_refunds(facts("pending"))
    assert sum(c.quantity for c in pending.restored) == 2
    # Restored where they were taken from: the warehouse first.
    assert (await assert_totals_are_sums(store))["loc-warehouse"] == (2, 0)
    failed = await inventory.settle_refunds(facts("failed"))
    assert sum(c.quantity for c in failed.reversed) == 2
    # The sale stands: the same 2 leave the warehouse again, the shop keeps its stock.
    assert await assert_totals_are_sums(store) == {
        "loc-warehouse": (0, 0),
        "loc-shop": (2, 0),
        "loc-popup": (2, 0),
    }
    saved = await inventory.reservation("cs_1")
    assert saved is not None
    assert all(not a.restored for a in saved.items[0].allocations or [])
