"""Issue 12 item 2: the adjust form carries a one-time key, so sending it twice (a double
click, a resend after a lost answer, the browser's "resubmit") adjusts once."""

from __future__ import annotations

import re

from tests.entrypoints.console.conftest import Console, flash


def form_key(html: str) -> str:
    found = re.search(r'name="once" value="([A-Za-z0-9_-]+)"', html)
    assert found is not None, "the adjust form has no one-time key"
    return found.group(1)


async def test_the_same_form_sent_twice_adjusts_once(manager: Console) -> None:
    page = await manager.get("/console/products/railcam")
    fields = {"mode": "delta", "amount": "2", "reason": "restock", "once": form_key(page.text)}

    first = await manager.post("/console/products/railcam/adjust", fields)
    again = await manager.post("/console/products/railcam/adjust", fields)

    assert first.status_code == again.status_code == 303
    assert (await manager.inventory.status(["railcam"])).products[0].total == 7
    shown = flash((await manager.get("/console/products/railcam")).text) or ""
    assert "applied before" in shown and "not applied again" in shown


async def test_each_rendering_has_its_own_key(manager: Console) -> None:
    first = form_key((await manager.get("/console/products/railcam")).text)
    second = form_key((await manager.get("/console/products/railcam")).text)
    assert first != second
    for key in (first, second):
        await manager.post(
            "/console/products/railcam/adjust",
            {"mode": "delta", "amount": "1", "reason": "restock", "once": key},
        )
    assert (await manager.inventory.status(["railcam"])).products[0].total == 7


async def test_a_refused_form_keeps_its_key(manager: Console) -> None:
    key = form_key((await manager.get("/console/products/railcam")).text)
    refused = await manager.post(
        "/console/products/railcam/adjust",
        {"mode": "delta", "amount": "x", "reason": "restock", "once": key},
    )
    assert refused.status_code == 400
    assert form_key(refused.text) == key
