"""The GROQ state filters file every product exactly where the engine's own figures do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from cms_client import mutations as m
from cms_client.lake import Lake
from service.entrypoints.console.catalogue import STATE_FILTERS, list_products
from tests.support.clock import ManualClock

THRESHOLD = 5


def product(pid: str, **fields: Any) -> dict[str, Any]:
    return {"_id": pid, "_type": "product", "title": pid, **fields}


def variant(key: str | None, size: str, stock: Any, reserved: Any = 0) -> dict[str, Any]:
    doc: dict[str, Any] = {"size": size, "stockQuantity": stock, "reservedQuantity": reserved}
    if key:
        doc["_key"] = key
    return doc


CATALOGUE = [
    product("no-counters"),  # counters missing: 0, out of stock
    product("plenty", stockQuantity=50),
    product("at-threshold", stockQuantity=5),
    product("above-threshold", stockQuantity=6),
    product("own-threshold", stockQuantity=9, lowStockThreshold=10),
    product("zero-threshold", stockQuantity=1, lowStockThreshold=0),
    product("held-out", stockQuantity=3, reservedQuantity=3),
    product("oversold", stockQuantity=2, reservedQuantity=5),
    product("float-counters", stockQuantity=7.0, reservedQuantity=1.0),
    product("empty-variants", stockQuantity=12, variants=[]),
    product("sizes-fine", variants=[variant("a", "s", 8), variant("b", "m", 9)]),
    product("size-low", variants=[variant("a", "s", 8), variant("b", "m", 2)]),
    product("size-out", variants=[variant("a", "s", 80), variant("b", "m", 4, 4)]),
    product("no-keys", variants=[variant(None, "s", 3), variant(None, "m", 30)]),
    product("sizes-own-threshold", lowStockThreshold=1, variants=[variant("a", "s", 2)]),
]


@pytest.fixture
async def lake(clock: ManualClock) -> AsyncIterator[Lake]:
    opened = Lake(None, clock=clock)
    await opened.mutate([m.create(doc) for doc in CATALOGUE])
    # A draft-only product is not in the catalogue yet.
    await opened.mutate([m.create(product("drafts.unpublished", stockQuantity=0))])
    yield opened
    await opened.aclose()


async def test_the_filters_partition_the_catalogue_as_the_engine_sees_it(lake: Lake) -> None:
    everything = await list_products(lake, default_threshold=THRESHOLD, page_size=100)
    assert everything.total == len(CATALOGUE)
    engine_state = {row.id: row.state for row in everything.rows}
    assert engine_state == {
        "no-counters": "out_of_stock",
        "plenty": "in_stock",
        "at-threshold": "low_stock",
        "above-threshold": "in_stock",
        "own-threshold": "low_stock",
        "zero-threshold": "in_stock",
        "held-out": "out_of_stock",
        "oversold": "out_of_stock",
        "float-counters": "in_stock",
        "empty-variants": "in_stock",
        "sizes-fine": "in_stock",
        "size-low": "low_stock",
        "size-out": "out_of_stock",
        "no-keys": "low_stock",
        "sizes-own-threshold": "in_stock",
    }
    filed: dict[str, str] = {}
    for state in ("in_stock", "low_stock", "out_of_stock"):
        listed = await list_products(lake, default_threshold=THRESHOLD, state=state)
        for row in listed.rows:
            assert row.id not in filed, f"{row.id} filed twice"
            filed[row.id] = state
    assert filed == engine_state

    attention = await list_products(lake, default_threshold=THRESHOLD, state="attention")
    assert {row.id for row in attention.rows} == {
        pid for pid, state in engine_state.items() if state != "in_stock"
    }
    assert set(STATE_FILTERS) == {"attention", "in_stock", "low_stock", "out_of_stock"}


async def test_the_default_threshold_is_a_parameter(lake: Lake) -> None:
    strict = await list_products(lake, default_threshold=10, state="low_stock", page_size=100)
    assert {"plenty", "above-threshold"} & {row.id for row in strict.rows} == {"above-threshold"}
