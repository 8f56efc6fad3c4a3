"""Stock status: figures per product and variant, states, one store read."""

from __future__ import annotations

import pytest

from cms_client import mutations as m
from service.engine import InvalidRequest, Inventory
from tests.engine.support import CountingStore, line


async def test_status_of_simple_sized_and_sold_out_products(
    inventory: Inventory, store: CountingStore
) -> None:
    await inventory.reserve("cs_1", [line("railcam", 4), line("halloween-tee", 1, "s")])
    result = await inventory.status(["railcam", "prod-tee", "railways-and-sleepers", "ghost"])
    railcam, tee, sleepers = result.products
    assert (railcam.product_id, railcam.id, railcam.total, railcam.reserved) == (
        "railcam",
        "prod-railcam",
        5,
        4,
    )
    assert (railcam.available, railcam.state, railcam.variants) == (1, "low_stock", None)
    assert (tee.total, tee.reserved, tee.available, tee.state) == (5, 1, 4, "in_stock")
    assert tee.variants is not None
    assert [(v.size, v.available, v.state) for v in tee.variants] == [
        ("s", 2, "in_stock"),
        ("m", 2, "in_stock"),
        ("l", 0, "out_of_stock"),
    ]
    assert (sleepers.available, sleepers.state) == (0, "out_of_stock")
    assert result.not_found == ["ghost"]


async def test_available_never_shows_below_zero(inventory: Inventory, store: CountingStore) -> None:
    await store.mutate([m.patch("prod-railcam", set={"reservedQuantity": 9})])
    (railcam,) = (await inventory.status(["railcam"])).products
    assert (railcam.reserved, railcam.available, railcam.state) == (9, 0, "out_of_stock")


async def test_status_of_100_products_is_one_store_read(
    inventory: Inventory, store: CountingStore
) -> None:
    await store.mutate(
        [
            m.create(
                {
                    "_id": f"bulk-{n}",
                    "_type": "product",
                    "slug": {"current": f"bulk-{n}-slug"},
                    "stockQuantity": n,
                }
            )
            for n in range(100)
        ]
    )
    names = [f"bulk-{n}-slug" if n % 2 else f"bulk-{n}" for n in range(100)]
    store.reset()
    cold = await inventory.status(names)
    assert store.total == 1 and len(cold.products) == 100
    store.reset()
    warm = await inventory.status(names)
    assert store.calls == {"read": 1} and warm.products == cold.products
    with pytest.raises(InvalidRequest):
        await inventory.status([*names, "one-more"])
