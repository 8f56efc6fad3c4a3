"""ProductStock and Plan without any store: cells, deltas on every copy, guards, order."""

from __future__ import annotations

from cms_client.mutations import REVISION_LOCK_FIELD
from service.engine.model.stock import Cell, ProductStock
from tests.engine.planning import creates, patches, plan_over, product

SIZED = [
    {"_key": "k-s", "size": "s", "stockQuantity": 3, "reservedQuantity": 1},
    {"_key": "k-m", "size": "M", "stockQuantity": 2},
    {"size": "l", "stockQuantity": 4},
]


def test_products_without_counters_read_as_zero() -> None:
    stock = ProductStock(product(stock=None, reserved=None))
    (cell,) = stock.cells()
    assert (stock.stock(cell), stock.reserved(cell), stock.available(cell)) == (0, 0, 0)


def test_variant_is_found_by_key_or_by_size_in_any_case() -> None:
    stock = ProductStock(product(variants=SIZED))
    by_key = stock.find("k-m", None)
    assert isinstance(by_key, Cell) and by_key.size == "M"
    assert stock.find(None, "m") == by_key
    assert stock.find(None, " S ") == stock.find("k-s", None)
    assert stock.find("k-m", "s") == by_key, "the key wins over the size"
    assert stock.find(None, "xl") == "variant_not_found"
    assert stock.find("nope", None) == "variant_not_found"
    assert stock.find(None, None) == "variant_required"


def test_a_product_without_variants_refuses_a_size() -> None:
    stock = ProductStock(product())
    assert stock.find(None, "m") == "variant_not_found"
    assert isinstance(stock.find(None, ""), Cell), "an empty size means no size"


def test_available_never_goes_below_zero() -> None:
    stock = ProductStock(product(stock=2, reserved=5))
    (cell,) = stock.cells()
    assert stock.available(cell) == 0


def test_same_delta_lands_on_published_draft_and_release_version_each_guarded() -> None:
    published = product(stock=5, reserved=1, rev="pub")
    draft = product("drafts.p1", stock=9, reserved=1, rev="dr")  # editor's pending restock
    version = product("versions.summer.p1", stock=5, reserved=1, rev="ver")
    plan = plan_over(published, draft, version)
    stock = plan.product("p1")
    assert stock is not None
    (cell,) = stock.cells()
    plan.move(stock, cell, entry_type="sale", stock_change=-1, reserved_change=-1)
    by_id = patches(plan)
    assert by_id["p1"] == {
        "id": "p1",
        "ifRevisionID": "pub",
        "set": {"stockQuantity": 4, "reservedQuantity": 0},
    }
    assert by_id["drafts.p1"]["ifRevisionID"] == "dr"
    assert by_id["drafts.p1"]["set"] == {"stockQuantity": 8, "reservedQuantity": 0}
    assert by_id["versions.summer.p1"]["ifRevisionID"] == "ver"
    assert by_id["versions.summer.p1"]["set"] == {"stockQuantity": 4, "reservedQuantity": 0}


def test_variant_patches_use_the_key_or_the_position_of_each_copy() -> None:
    draft_variants = [dict(SIZED[2]), dict(SIZED[1]), dict(SIZED[0])]  # reordered in the draft
    plan = plan_over(product(variants=SIZED), product("drafts.p1", variants=draft_variants))
    stock = plan.product("p1")
    assert stock is not None
    medium, large = stock.find(None, "m"), stock.find(None, "L")
    assert isinstance(medium, Cell) and isinstance(large, Cell)
    plan.move(stock, medium, entry_type="reservation", reserved_change=2)
    plan.move(stock, large, entry_type="reservation", reserved_change=1)
    by_id = patches(plan)
    assert by_id["p1"]["set"] == {
        'variants[_key=="k-m"].reservedQuantity': 2,
        "variants[2].reservedQuantity": 1,
    }
    assert by_id["drafts.p1"]["set"] == {
        'variants[_key=="k-m"].reservedQuantity': 2,
        "variants[0].reservedQuantity": 1,
    }


def test_a_copy_without_the_variant_is_left_alone_and_copies_never_go_negative() -> None:
    draft_variants = [{"_key": "k-s", "size": "s", "stockQuantity": 1}]
    plan = plan_over(product(variants=SIZED), product("drafts.p1", variants=draft_variants))
    stock = plan.product("p1")
    assert stock is not None
    small, medium = stock.find("k-s", None), stock.find("k-m", None)
    assert isinstance(small, Cell) and isinstance(medium, Cell)
    plan.move(stock, small, entry_type="damage", stock_change=-2)
    plan.move(stock, medium, entry_type="sale", stock_change=-1)
    by_id = patches(plan)
    assert by_id["drafts.p1"]["set"] == {'variants[_key=="k-s"].stockQuantity': 0}
    assert by_id["p1"]["set"] == {
        'variants[_key=="k-m"].stockQuantity': 1,
        'variants[_key=="k-s"].stockQuantity': 1,
    }


def test_documents_read_but_not_changed_are_guarded_and_order_is_stable() -> None:
    plan = plan_over(product("b1", rev="rb"), product("a1", rev="ra"), product("c1", rev="rc"))
    stock = plan.product("c1")
    assert stock is not None
    plan.move(stock, stock.cells()[0], entry_type="restock", stock_change=3)
    mutations = plan.mutations()
    ids = [
        next(iter(mut.values())).get("id") or next(iter(mut.values()))["_id"] for mut in mutations
    ]
    assert ids[:3] == ["a1", "b1", "c1"]
    assert mutations[0] == {
        "patch": {"id": "a1", "ifRevisionID": "ra", "unset": [REVISION_LOCK_FIELD]}
    }
    assert [d["_type"] for d in creates(plan)] == ["inventoryTransaction"]


def test_each_move_writes_a_ledger_entry_with_before_and_after() -> None:
    plan = plan_over(product(stock=5, reserved=2))
    stock = plan.product("p1")
    assert stock is not None
    cell = stock.cells()[0]
    plan.move(stock, cell, entry_type="reservation", reserved_change=1, reference="cs_9")
    plan.move(stock, cell, entry_type="sale", stock_change=-3, reserved_change=-3, reference="cs_9")
    first, second = creates(plan, "inventoryTransaction")
    assert first["_id"] == "inventory.tx.tok-0" and second["_id"] == "inventory.tx.tok-1"
    assert (first["type"], first["quantityChange"]) == ("reservation", 1)
    assert (first["previousReservedQuantity"], first["newReservedQuantity"]) == (2, 3)
    assert (second["type"], second["quantityChange"]) == ("sale", -3)
    assert (second["previousStockQuantity"], second["newStockQuantity"]) == (5, 2)
    assert (second["previousReservedQuantity"], second["newReservedQuantity"]) == (3, 0)
    assert second["referenceId"] == "cs_9" and second["actor"] == "system"


def test_a_plan_that_changes_nothing_does_not_write() -> None:
    plan = plan_over(product())
    assert plan.product("p1") is not None
    assert not plan.writes


def test_drafts_and_non_products_are_not_products() -> None:
    plan = plan_over(product("drafts.p1"), {"_id": "x", "_type": "author", "_rev": "r"})
    assert plan.product("drafts.p1") is None
    assert plan.product("x") is None
    assert plan.product("missing") is None


def test_a_snapshot_finds_each_products_drafts_and_versions_also_after_more_are_read() -> None:
    from service.engine.model.snapshot import Snapshot

    snapshot = Snapshot.of(
        [
            {"_id": "p1", "_type": "product"},
            {"_id": "drafts.p1", "_type": "product"},
            {"_id": "p2", "_type": "product"},
        ]
    )
    assert [d["_id"] for d in snapshot.copies_of("p1")] == ["drafts.p1"]
    assert snapshot.copies_of("p2") == []
    snapshot.absorb(
        ["p2"],
        [{"_id": "p2", "_type": "product"}, {"_id": "versions.r1.p2", "_type": "product"}],
    )
    assert [d["_id"] for d in snapshot.copies_of("p2")] == ["versions.r1.p2"]
    view = snapshot.with_docs([{"_id": "drafts.p2", "_type": "product"}])
    assert [d["_id"] for d in view.copies_of("p2")] == ["drafts.p2", "versions.r1.p2"]
    assert [d["_id"] for d in snapshot.copies_of("p2")] == ["versions.r1.p2"]


def test_a_snapshot_lists_its_stock_locations_also_after_more_are_read() -> None:
    from service.engine.model.snapshot import Snapshot

    snapshot = Snapshot.of(
        [{"_id": "p1", "_type": "product"}, {"_id": "loc-a", "_type": "stockLocation"}]
    )
    assert snapshot.location_ids() == ["loc-a"]
    snapshot.absorb(["loc-b"], [{"_id": "loc-b", "_type": "stockLocation"}])
    assert snapshot.location_ids() == ["loc-a", "loc-b"]
    view = snapshot.with_docs([{"_id": "loc-c", "_type": "stockLocation"}])
    assert view.location_ids() == ["loc-a", "loc-b", "loc-c"]
    assert snapshot.location_ids() == ["loc-a", "loc-b"]
