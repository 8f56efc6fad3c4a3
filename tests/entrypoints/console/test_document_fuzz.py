"""Issue 12 item 1's proof: a product document as any Studio could save it (Hypothesis,
`tests.support.documents`) never gets a 5xx from any route that reads it, and never changes
what the good products answer.

One app (console signed in, every key set) over the demo catalogue; each example replaces
one product document with a generated one and walks the routes that read products: stock
status (GET and POST), reserve and adjust of it, reconcile, the Sanity webhook (signed), the
staff reads (reorder, export, analytics, backorders, history, health), the console overview,
list and product page.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings

from cms_client import mutations as m
from service.integrations.sanity.signature import sign
from tests.entrypoints.console.conftest import ADMIN_KEY, Console
from tests.support.clock import ManualClock
from tests.support.documents import product_documents

ODD = "product-fuzzed"
SANITY_SECRET = "sanity-fuzz-secret"
STOREFRONT_KEY = "sf-fuzz"
GOOD = "railcam,halloween-tee,station-hoodie"

SETTINGS: dict[str, Any] = {
    "storefront_api_key": STOREFRONT_KEY,
    "cron_secret": "cron-fuzz",
    "sanity_webhook_secret": SANITY_SECRET,
}


async def good_figures(console: Console) -> Any:
    response = await console.get("/api/stock-status", params={"productIds": GOOD})
    assert response.status_code == 200, response.text
    return [
        (p["productId"], p["availableStock"], p.get("variants"))
        for p in response.json()["stockStatus"]
    ]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=product_documents(doc_id=ODD))
async def test_no_document_a_studio_can_save_gets_a_5xx_anywhere(
    open_console: Any, clock: ManualClock, document: dict[str, Any]
) -> None:
    async with open_console(**SETTINGS) as console:
        assert (await console.sign_in(ADMIN_KEY)).status_code == 303
        before = await good_figures(console)
        await console.store.mutate([m.create_or_replace(document)])
        storefront = {"Authorization": f"Bearer {STOREFRONT_KEY}"}
        staff = {"X-API-Key": ADMIN_KEY}
        body = json.dumps(document).encode()
        stamp = int(clock().timestamp() * 1000)
        answers = [
            await console.get("/api/stock-status", params={"productIds": f"{GOOD},{ODD}"}),
            await console.client.post(
                "/api/stock-status",
                json={"items": [{"productId": ODD, "quantity": 1}]},
                headers=storefront,
            ),
            await console.client.post(
                "/api/reserve-stock",
                json={"sessionId": "cs_fuzz", "operations": [{"productId": ODD, "quantity": 1}]},
                headers=storefront,
            ),
            await console.client.post(
                "/api/inventory/adjust",
                json={"productId": ODD, "delta": 1, "reason": "restock"},
                headers=staff,
            ),
            await console.client.post("/api/inventory/reconcile", headers=staff),
            await console.client.post(
                "/api/webhooks/sanity",
                content=body,
                headers={
                    "content-type": "application/json",
                    "sanity-webhook-signature": sign(body, SANITY_SECRET, stamp),
                    "idempotency-key": f"fuzz-{stamp}",
                },
            ),
            # Reads added since (reorder, export, analytics, backorders, history, health):
            # the odd document is skipped or shown as text, never a 5xx.
            await console.client.get("/api/inventory/reorder", headers=staff),
            await console.client.get("/api/inventory/export", headers=staff),
            await console.client.get("/api/inventory/analytics", headers=staff),
            await console.client.get("/api/inventory/backorders", headers=staff),
            await console.client.get(f"/api/inventory/history/{ODD}", headers=staff),
            await console.client.get("/api/inventory-health"),
            await console.get("/console"),
            await console.get("/console/products"),
            await console.get(f"/console/products/{ODD}"),
        ]
        for answer in answers:
            assert "Traceback" not in answer.text
            if answer.status_code == 503 and answer.json().get("code") == "repair_pending":
                # By design: reserved counters that no reservation explains (a generated
                # reservedQuantity) are repaired once the product has settled; the 503 asks
                # Sanity to deliver again then. Not a failure.
                continue
            assert answer.status_code < 500, (answer.request.url, answer.text)
        # The good products answer exactly as before.
        assert await good_figures(console) == before
        clock.advance(seconds=1)
