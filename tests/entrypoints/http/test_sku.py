"""Products carry an optional product-level `sku` beside `variants[].sku`; the demo's have
both, and stock status answers them."""

from __future__ import annotations

import httpx

from schemas.product import PRODUCT_STOCK_FIELDS
from service.integrations.sanity.studio_schema import render_studio_schema


async def test_stock_status_names_product_and_size_skus(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/stock-status", params={"productIds": "railcam,halloween-tee"})
    rows = {row["productId"]: row for row in answer.json()["stockStatus"]}
    assert rows["railcam"]["sku"] == "CAM-RAIL"
    assert rows["halloween-tee"]["sku"] == "TEE-HALLOWEEN"
    assert [v["sku"] for v in rows["halloween-tee"]["variants"]] == [
        "TEE-HALLOWEEN-S",
        "TEE-HALLOWEEN-M",
    ]


def test_the_studio_schema_offers_a_product_sku_and_variant_skus() -> None:
    assert "sku" in PRODUCT_STOCK_FIELDS
    product_file = render_studio_schema()["productInventory.ts"]
    top_level, _, variants = product_file.partition("name: 'variants'")
    assert "name: 'sku'" in top_level and "name: 'sku'" in variants
