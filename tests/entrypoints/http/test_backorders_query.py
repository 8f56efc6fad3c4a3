"""Issue 12 item 3 on the backorders list: a repeated or malformed productId is a 400 naming
it, not a 200 for whichever value the framework kept (found by the schemathesis run)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.entrypoints.http.conftest import ADMIN, KEYS, assert_error_shape


@pytest.mark.parametrize(
    "query", ["productId=a&productId=b", "productId=", "productId=%17%05", "productId=a..b"]
)
async def test_a_repeated_or_malformed_product_id_is_refused(
    open_client: Callable[..., Any], catalogue: None, query: str
) -> None:
    async with open_client(**KEYS) as client:
        answer = await client.get(f"/api/inventory/backorders?{query}", headers=ADMIN)
        body = assert_error_shape(answer, 400, "invalid_request")
        assert "productId" in body["message"]
        fine = await client.get(
            "/api/inventory/backorders?productId=product-railcam", headers=ADMIN
        )
        assert fine.status_code == 200, fine.text
