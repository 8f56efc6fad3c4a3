"""The console's product page for a product stocked by location: figures per location
(escaped) and the transfer form, through the engine with the staff name."""

from __future__ import annotations

from cms_client import mutations as m
from tests.entrypoints.console.conftest import Console, alert, cells, flash

NAUGHTY = '<script>alert("x")</script>'
PLACES = [
    {
        "_id": "loc-w",
        "_type": "stockLocation",
        "name": "Warehouse " + NAUGHTY,
        "slug": {"current": "warehouse"},
        "priority": 1,
    },
    {"_id": "loc-s", "_type": "stockLocation", "name": "Shop", "slug": {"current": "shop"}},
    {
        "_id": "loc-p",
        "_type": "stockLocation",
        "name": "Pop-up",
        "slug": {"current": "popup"},
        "priority": 0,
        "active": False,
    },
]
LAMP = {
    "_id": "product-lamp",
    "_type": "product",
    "title": "Lamp",
    "slug": {"current": "lamp"},
    "stockQuantity": 9,
    "locationStock": [
        {"_key": "w", "location": {"_type": "reference", "_ref": "loc-w"}, "stock": 3},
        {"_key": "s", "location": {"_type": "reference", "_ref": "loc-s"}, "stock": 4},
        {"_key": "p", "location": {"_type": "reference", "_ref": "loc-p"}, "stock": 2},
    ],
}


async def seed(console: Console) -> None:
    await console.store.mutate([m.create(doc) for doc in (*PLACES, LAMP)])


async def test_the_product_page_shows_stock_per_location_escaped(manager: Console) -> None:
    await seed(manager)
    page = await manager.get("/console/products/lamp")
    assert page.status_code == 200
    assert NAUGHTY not in page.text
    assert "&lt;script&gt;" in page.text
    rows = [row for row in cells(page.text) if len(row) == 6 and row[0] == "—"]
    by_place = {row[1].split(" ")[0]: row[2:] for row in rows}
    assert by_place["Warehouse"] == ["3", "0", "3", "yes"]
    assert by_place["Shop"] == ["4", "0", "4", "yes"]
    assert by_place["Pop-up"] == ["2", "0", "0", "no (inactive)"]


async def test_a_transfer_from_the_console_moves_stock_with_the_staff_name(
    manager: Console,
) -> None:
    await seed(manager)
    response = await manager.post(
        "/console/products/lamp/transfer",
        {"from": "shop", "to": "warehouse", "quantity": "3", "note": "restock front"},
        csrf_from="/console/products/lamp",
    )
    assert response.status_code == 303, response.text
    page = await manager.get("/console/products/lamp")
    assert flash(page.text) == "Moved 3 from shop (now 1) to warehouse (now 6)."
    rows = await manager.store.query(
        '*[_type == "inventoryTransaction" && type == "transfer"]{actor, location}', {}
    )
    assert sorted((r["actor"], r["location"]) for r in rows) == [
        ("mona", "loc-s"),
        ("mona", "loc-w"),
    ]


async def test_a_refused_transfer_shows_why(manager: Console) -> None:
    await seed(manager)
    response = await manager.post(
        "/console/products/lamp/transfer",
        {"from": "warehouse", "to": "shop", "quantity": "5"},
        csrf_from="/console/products/lamp",
    )
    assert response.status_code == 409
    assert "3 available to move, 5 asked" in (alert(response.text) or "")


async def test_an_adjustment_names_its_location(manager: Console) -> None:
    await seed(manager)
    response = await manager.post(
        "/console/products/lamp/adjust",
        {"mode": "delta", "amount": "2", "reason": "restock", "location": "popup"},
        csrf_from="/console/products/lamp",
    )
    assert response.status_code == 303, response.text
    page = await manager.get("/console/products/lamp")
    assert flash(page.text) == "Stock at popup 9 → 11 (restock); available 7."
