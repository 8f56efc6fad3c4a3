"""Issue 12 item 1, design rule 10: one product with stock fields stocksync cannot read is
quarantined (listed with field and reason, skipped, logged once, refused for writes) while
every other product keeps working. Before, each of these answered 500 for everything."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cms_client import mutations as m
from service.engine.operations.housekeeping import EXIT_OK, EXIT_QUARANTINED, ReconcileReport
from tests.entrypoints.http.conftest import ADMIN, STOREFRONT, assert_error_shape
from tests.entrypoints.http.fakes import SwitchableStore
from tests.support.clock import ManualClock

ODD = "product-odd-hat"
ODD_DOCS: dict[str, dict[str, Any]] = {
    "fraction": {"stockQuantity": 5.5},
    "text": {"stockQuantity": "5"},
    "variants-object": {"variants": {"s": {"stockQuantity": 1}}},
    "variant-not-object": {"variants": ["s", "m"]},
}
FIELDS = {
    "fraction": "stockQuantity",
    "text": "stockQuantity",
    "variants-object": "variants",
    "variant-not-object": "variants[0]",
}


async def add_odd(store: SwitchableStore, kind: str) -> None:
    doc = {
        "_id": ODD,
        "_type": "product",
        "title": {"_type": "localeString", "en": "Odd Hat", "de": "Seltsamer Hut"},
        "slug": {"_type": "slug", "current": "odd-hat"},
        **ODD_DOCS[kind],
    }
    await store.mutate([m.create_or_replace(doc)])


@pytest.fixture(params=list(ODD_DOCS))
async def odd(request: pytest.FixtureRequest, store: SwitchableStore, catalogue: None) -> str:
    kind: str = request.param
    await add_odd(store, kind)
    return kind


async def test_stock_status_answers_every_other_product_and_lists_the_odd_one(
    client: httpx.AsyncClient, odd: str
) -> None:
    response = await client.get(
        "/api/stock-status", params={"productIds": "railcam,odd-hat,halloween-tee,nothing"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [p["productId"] for p in body["stockStatus"]] == ["railcam", "halloween-tee"]
    assert body["stockStatus"][0]["availableStock"] == 5
    assert body["notFound"] == ["nothing"]
    (entry,) = body["quarantined"]
    assert (entry["productId"], entry["id"], entry["title"], entry["field"]) == (
        "odd-hat",
        ODD,
        "Odd Hat",
        FIELDS[odd],
    )
    assert entry["reason"]


async def test_cart_check_says_the_odd_line_cannot_be_sold(
    client: httpx.AsyncClient, odd: str
) -> None:
    response = await client.post(
        "/api/stock-status",
        json={
            "items": [
                {"productId": "odd-hat", "quantity": 1},
                {"productId": "railcam", "quantity": 1},
            ]
        },
        headers=STOREFRONT,
    )
    assert response.status_code == 200, response.text
    checks = response.json()["stockChecks"]
    assert checks[0]["code"] == "product_quarantined" and checks[0]["inStock"] is False
    assert FIELDS[odd] in checks[0]["error"]
    assert checks[1]["inStock"] is True


async def test_writes_to_the_odd_product_are_refused_naming_the_field(
    client: httpx.AsyncClient, odd: str
) -> None:
    reserve = await client.post(
        "/api/reserve-stock",
        json={"sessionId": "cs_odd", "operations": [{"productId": "odd-hat", "quantity": 1}]},
        headers=STOREFRONT,
    )
    body = assert_error_shape(reserve, 409, "product_quarantined")
    assert FIELDS[odd] in body["message"] and f"field: {FIELDS[odd]}" in body["details"]
    adjust = await client.post(
        "/api/inventory/adjust",
        json={"productId": "odd-hat", "delta": 1, "reason": "restock"},
        headers=ADMIN,
    )
    assert_error_shape(adjust, 409, "product_quarantined")
    # The others still sell.
    ok = await client.post(
        "/api/reserve-stock",
        json={"sessionId": "cs_ok", "operations": [{"productId": "railcam", "quantity": 1}]},
        headers=STOREFRONT,
    )
    assert ok.status_code == 200, ok.text


async def test_reconcile_reports_and_skips_it_and_logs_it_once(
    client: httpx.AsyncClient, store: SwitchableStore, clock: ManualClock, odd: str
) -> None:
    await store.mutate([m.patch("product-railcam", set={"reservedQuantity": 4})])
    clock.advance(minutes=5)

    first = await client.post("/api/inventory/reconcile", headers=ADMIN)
    second = await client.post("/api/inventory/reconcile", headers=ADMIN)

    assert first.status_code == second.status_code == 200, first.text
    result = first.json()["reconcile"]
    assert [(q["productId"], q["field"]) for q in result["quarantined"]] == [(ODD, FIELDS[odd])]
    assert [r["productId"] for r in result["repaired"]] == ["product-railcam"]
    logs = await store.query(
        '*[_type == "errorLog" && productId == $p]', {"p": ODD}, perspective="raw"
    )
    assert isinstance(logs, list) and len(logs) == 1, logs
    assert FIELDS[odd] in logs[0]["message"]
    report = ReconcileReport.model_validate(first.json())
    assert report.exit_code == EXIT_QUARANTINED
    # Health names it.
    health = (await client.get("/api/inventory-health")).json()
    assert health["metrics"]["quarantined"] == [ODD]
    assert any(ODD in issue and "quarantined" in issue for issue in health["issues"])
    assert health["healthy"] is False


async def test_a_clean_reconcile_exits_zero(client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(minutes=5)
    response = await client.post("/api/inventory/reconcile", headers=ADMIN)
    assert ReconcileReport.model_validate(response.json()).exit_code == EXIT_OK


async def test_a_fixed_product_leaves_health_and_a_relapse_is_named_again(
    client: httpx.AsyncClient, store: SwitchableStore, clock: ManualClock, catalogue: None
) -> None:
    """The quarantine log is resolved by the first reconcile that reads the product again
    (health stops naming it, nobody has to resolve it by hand); the same cause coming back
    reopens that one log."""
    await add_odd(store, "fraction")
    clock.advance(minutes=5)
    await client.post("/api/inventory/reconcile", headers=ADMIN)
    assert (await client.get("/api/inventory-health")).json()["metrics"]["quarantined"] == [ODD]

    await store.mutate([m.patch(ODD, set={"stockQuantity": 5})])  # an editor fixes it
    clock.advance(minutes=5)
    fixed = (await client.post("/api/inventory/reconcile", headers=ADMIN)).json()
    assert fixed["reconcile"]["unquarantined"] == [ODD]
    assert fixed["reconcile"]["quarantined"] == []
    assert ReconcileReport.model_validate(fixed).exit_code == EXIT_OK
    health = (await client.get("/api/inventory-health")).json()
    assert health["metrics"]["quarantined"] == []
    (log,) = await store.query(
        '*[_type == "errorLog" && productId == $p]', {"p": ODD}, perspective="raw"
    )
    assert log["resolved"] is True and log["resolvedBy"] == "stocksync"
    again = (await client.post("/api/inventory/reconcile", headers=ADMIN)).json()
    assert again["reconcile"]["unquarantined"] == []

    await store.mutate([m.patch(ODD, set={"stockQuantity": 5.5})])  # and breaks it again
    clock.advance(minutes=5)
    relapse = (await client.post("/api/inventory/reconcile", headers=ADMIN)).json()
    assert [q["productId"] for q in relapse["reconcile"]["quarantined"]] == [ODD]
    assert (await client.get("/api/inventory-health")).json()["metrics"]["quarantined"] == [ODD]
    logs = await store.query(
        '*[_type == "errorLog" && productId == $p]', {"p": ODD}, perspective="raw"
    )
    assert isinstance(logs, list) and len(logs) == 1 and logs[0]["resolved"] is False
