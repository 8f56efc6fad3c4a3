"""What the console's forms do: adjust through the engine, resolve, reconcile; by role."""

from __future__ import annotations

import re

import pytest

from cms_client import mutations as m
from schemas.ledger import LEDGER_TYPE
from schemas.operations import LineRequest
from tests.entrypoints.console.conftest import ADMIN_KEY, SUPPORT_KEY, Console, alert, flash
from tests.support.clock import ManualClock


async def ledger(console: Console, product_id: str) -> list[dict[str, object]]:
    rows = await console.store.query(
        f'*[_type == "{LEDGER_TYPE}" && productId == $p] | order(createdAt desc, _id desc)',
        {"p": product_id},
    )
    assert isinstance(rows, list)
    return rows


async def test_an_adjustment_goes_through_the_engine_with_the_staff_name(
    manager: Console, clock: ManualClock
) -> None:
    clock.advance(seconds=1)
    response = await manager.post(
        "/console/products/halloween-tee/adjust",
        {"line": "key:size-m", "mode": "set", "amount": "7", "reason": "restock", "note": "PO 9"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console/products/halloween-tee"
    page = await manager.get("/console/products/halloween-tee")
    assert flash(page.text) == "Stock (m) 2 → 7 (restock); available 7."
    newest = (await ledger(manager, "product-halloween-tee"))[0]
    assert (newest["type"], newest["actor"], newest["reason"]) == ("restock", "mona", "PO 9")
    assert (newest["size"], newest["quantityChange"]) == ("m", 5)
    # The message is shown once.
    assert flash((await manager.get("/console/products/halloween-tee")).text) is None


async def test_a_delta_on_a_product_without_sizes(manager: Console) -> None:
    await manager.post(
        "/console/products/railcam/adjust", {"mode": "delta", "amount": "-2", "reason": "damage"}
    )
    status = await manager.inventory.status(["railcam"])
    assert status.products[0].total == 3


async def test_a_refused_adjustment_shows_the_engines_message_and_keeps_the_form(
    manager: Console,
) -> None:
    response = await manager.post(
        "/console/products/railcam/adjust",
        {"mode": "delta", "amount": "-9", "reason": "damage", "note": "dropped"},
    )
    assert response.status_code == 409
    assert alert(response.text) == ("Refused: stock of Railcam would go below zero: 5 -&gt; -4.")
    assert 'value="-9"' in response.text and 'value="dropped"' in response.text
    assert (await manager.inventory.status(["railcam"])).products[0].total == 5
    assert len(await ledger(manager, "product-railcam")) == 1  # the initial entry only


async def test_staff_set_stock_below_open_holds_only_with_the_override(manager: Console) -> None:
    await manager.inventory.reserve("cs_held", [LineRequest(product_id="railcam", quantity=3)])
    form = {"mode": "set", "amount": "1", "reason": "damage"}
    refused = await manager.post("/console/products/railcam/adjust", form)
    assert refused.status_code == 409
    assert "below the 3 units reserved" in (alert(refused.text) or "")
    forced = await manager.post(
        "/console/products/railcam/adjust", {**form, "below_reserved": "yes"}
    )
    assert forced.status_code in (200, 303), forced.text
    assert (await manager.inventory.status(["railcam"])).products[0].total == 1


async def test_a_sized_product_needs_a_size(manager: Console) -> None:
    response = await manager.post(
        "/console/products/halloween-tee/adjust",
        {"mode": "delta", "amount": "1", "reason": "restock"},
    )
    assert response.status_code == 404
    assert "needs a variant" in (alert(response.text) or "")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"mode": "delta", "amount": "3"}, "Choose a reason"),
        ({"mode": "delta", "amount": "3", "reason": "theft"}, "Choose a reason"),
        ({"mode": "delta", "amount": "three", "reason": "restock"}, "whole number"),
        ({"mode": "set", "amount": "", "reason": "restock"}, "Enter the new stock"),
        ({"mode": "set", "amount": "99999999", "reason": "restock"}, "at most"),
    ],
)
async def test_an_incomplete_form_is_shown_again_and_nothing_is_sent(
    manager: Console, fields: dict[str, str], problem: str
) -> None:
    response = await manager.post("/console/products/railcam/adjust", fields)
    assert response.status_code == 400
    assert problem in (alert(response.text) or "")
    assert len(await ledger(manager, "product-railcam")) == 1


async def test_customer_service_sees_no_forms_and_its_posts_are_refused(
    console: Console,
) -> None:
    await console.inventory.log_error("stock_deduction", "critical", "paid without stock")
    await console.sign_in(SUPPORT_KEY)
    product = (await console.get("/console/products/railcam")).text
    assert "Adjust stock" not in product and "/adjust" not in product
    errors = (await console.get("/console/errors")).text
    assert "paid without stock" in errors and ">Resolve</button>" not in errors
    overview = (await console.get("/console")).text
    assert "Reconcile now" not in overview

    log_id = await console.store.query('*[_type == "errorLog"][0]._id')
    for path, data in (
        ("/console/products/railcam/adjust", {"mode": "set", "amount": "0", "reason": "damage"}),
        (f"/console/errors/{log_id}/resolve", {"note": "x"}),
        ("/console/reconcile", {}),
    ):
        response = await console.post(path, data)
        assert response.status_code == 403, path
        assert "sam has the role customer_service" in response.text
    assert (await console.inventory.status(["railcam"])).products[0].total == 5
    (log,) = await console.store.get_documents([log_id])
    assert log is not None and not log.get("resolved")


async def test_a_manager_adjusts_but_does_not_resolve(manager: Console) -> None:
    await manager.inventory.log_error("stock_deduction", "critical", "paid without stock")
    errors = (await manager.get("/console/errors")).text
    assert "paid without stock" in errors and ">Resolve</button>" not in errors
    log_id = await manager.store.query('*[_type == "errorLog"][0]._id')
    response = await manager.post(f"/console/errors/{log_id}/resolve", {"note": "done"})
    assert response.status_code == 403


async def test_an_admin_resolves_with_a_note_that_the_api_shows_too(console: Console) -> None:
    log_id = await console.inventory.log_error("stock_deduction", "critical", "paid w/o stock")
    await console.sign_in(ADMIN_KEY)
    response = await console.post(
        f"/console/errors/{log_id}/resolve",
        {"note": "refunded", "back": "/console/errors?severity=critical"},
        csrf_from="/console/errors",
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console/errors?severity=critical"
    page = await console.get("/console/errors?severity=critical")
    assert flash(page.text) == "Resolved: paid w/o stock"
    assert "No error logs match." in page.text
    resolved = (await console.get("/console/errors?show=resolved")).text
    assert re.search(r"Resolved by alice on 2026-11-21 12:00 UTC: “refunded”", resolved)

    api = await console.client.get(
        "/api/inventory/errors", params={"resolved": "true"}, headers={"X-API-Key": ADMIN_KEY}
    )
    (log,) = api.json()["errorLogs"]
    assert (log["resolvedBy"], log["resolutionNote"]) == ("alice", "refunded")

    again = await console.post(f"/console/errors/{log_id}/resolve", {"note": "twice"})
    assert again.status_code == 303
    assert "Already resolved by alice" in (flash((await console.get("/console/errors")).text) or "")


async def test_resolving_an_unknown_log_is_a_404_page(console: Console) -> None:
    await console.sign_in(ADMIN_KEY)
    response = await console.post("/console/errors/inventory.error.nope/resolve", {})
    assert response.status_code == 404


async def test_an_admin_reconciles_from_the_overview(console: Console) -> None:
    # A stale Studio publish bent railcam's reserved counter; reconcile repairs it.
    await console.store.mutate([m.patch("product-railcam", set={"reservedQuantity": 3})])
    await console.sign_in(ADMIN_KEY)
    assert "Reconcile now" in (await console.get("/console")).text
    response = await console.post("/console/reconcile", {})
    assert response.status_code == 303
    text = flash((await console.get("/console")).text) or ""
    assert text.startswith("Reconcile checked 5 product(s):")
    assert "1 counter(s) repaired" in text or "left for the next run" in text
