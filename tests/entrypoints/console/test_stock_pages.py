"""The console's reorder list (with the purchase order), stock import (upload, preview,
apply) and analytics (chart, table, CSV): what staff see and what the forms change."""

from __future__ import annotations

import csv
import html as html_module
import io
import re

from cms_client import mutations as m
from schemas.ledger import LEDGER_TYPE
from schemas.operations import LineRequest
from tests.entrypoints.console.conftest import (
    SUPPORT_KEY,
    Console,
    cells,
    flash,
)
from tests.support.clock import ManualClock

HOSTILE = '<script>alert("x")</script>'
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([a-z]+)" value="([^"]*)">')


async def upload(
    console: Console, text: str, *, reason: str = "", reference: str = "", name: str = "s.csv"
) -> str:
    """Preview `text` through the upload form; the preview page's HTML."""
    token = await console.csrf("/console/import")
    page = await console.client.post(
        "/console/import",
        data={"csrf": token, "step": "preview", "reason": reason, "reference": reference},
        files={"file": (name, text.encode(), "text/csv")},
    )
    assert page.status_code in (200, 400), page.text
    return page.text


def apply_form(html: str) -> dict[str, str]:
    """The hidden fields of the preview's apply form, unescaped as a browser sends them."""
    start = html.index('value="apply"')
    form = html[html.rindex("<form", 0, start) : html.index("</form>", start)]
    return {name: html_module.unescape(value) for name, value in HIDDEN.findall(form)}


async def stock(console: Console, product: str) -> int:
    status = await console.inventory.status([product])
    return status.products[0].total


async def entries(console: Console) -> list[dict[str, object]]:
    rows = await console.store.query(f'*[_type == "{LEDGER_TYPE}"]')
    assert isinstance(rows, list)
    return rows


async def test_preview_changes_nothing_then_apply_writes_once(
    manager: Console, clock: ManualClock
) -> None:
    before = len(await entries(manager))
    html = await upload(
        manager,
        "productId,size,delta,note\nrailcam,,4,box 1\nhalloween-tee,M,3,\n",
        reason="restock",
        reference="PO-7",
        name="delivery.csv",
    )
    rows = cells(html)
    assert ["2", "railcam", "—", "5", "9", "+4", ""] in rows
    assert ["3", "halloween-tee", "m", "2", "5", "+3", ""] in rows
    assert "2 valid rows, 0 invalid" in html
    assert await stock(manager, "railcam") == 5  # a preview writes nothing
    assert len(await entries(manager)) == before

    form = apply_form(html)
    assert form["key"] and form["reference"] == "PO-7"
    applied = await manager.client.post("/console/import", data=form)
    assert applied.status_code == 303
    page = await manager.get("/console/import")
    assert flash(page.text) == "Imported delivery.csv: 2 rows, 2 stock changes (reference PO-7)."
    assert await stock(manager, "railcam") == 9
    new = [e for e in await entries(manager) if e.get("referenceId") == "PO-7"]
    assert sorted((e["productId"], e["actor"], e["type"], e["quantityChange"]) for e in new) == [
        ("product-halloween-tee", "mona", "restock", 3),
        ("product-railcam", "mona", "restock", 4),
    ]

    # A double click / re-post with the same one-time key applies nothing again.
    again = await manager.client.post("/console/import", data=form)
    assert again.status_code == 303
    page = await manager.get("/console/import")
    assert "already applied (reference PO-7)" in (flash(page.text) or "")
    assert await stock(manager, "railcam") == 9

    # The same key with another file is refused, and nothing is written.
    tampered = {**form, "csv": "productId,delta,reason\nrailcam,50,restock\n"}
    refused = await manager.client.post("/console/import", data=tampered)
    assert refused.status_code == 303
    page = await manager.get("/console/import")
    assert "different import" in (flash(page.text) or "")
    assert await stock(manager, "railcam") == 9


async def test_invalid_rows_are_listed_and_there_is_nothing_to_apply(manager: Console) -> None:
    html = await upload(
        manager,
        "productId,setTo,reason\nrailcam,-1,correction\nnope,3,correction\ntimetable-zine,12,oops\n",
    )
    assert "0 valid rows, 3 invalid" in html
    problems = re.findall(r"<li>Row (\d) \(", html)
    assert problems == ["2", "3", "4"]
    assert 'value="apply"' not in html
    assert await stock(manager, "railcam") == 5


async def test_uploaded_text_is_escaped_on_the_preview(manager: Console) -> None:
    html = await upload(manager, f"productId,delta,reason\n{HOSTILE},1,restock\n", name=HOSTILE)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


async def test_importing_needs_a_manager_and_the_forms_token(console: Console) -> None:
    assert (await console.sign_in(SUPPORT_KEY)).status_code == 303
    page = await console.get("/console/import")
    assert page.status_code == 200
    assert "needs the role admin or inventory_manager" in page.text
    token = CSRF.search(page.text)
    assert token is not None
    refused = await console.client.post(
        "/console/import",
        data={"csrf": token.group(1), "step": "preview"},
        files={"file": ("a.csv", b"productId,delta,reason\nrailcam,1,restock\n", "text/csv")},
    )
    assert refused.status_code == 403
    forged = await console.client.post(
        "/console/import",
        data={"csrf": "forged", "step": "preview"},
        files={"file": ("a.csv", b"productId,delta,reason\nrailcam,1,restock\n", "text/csv")},
    )
    assert forged.status_code == 403
    assert await stock(console, "railcam") == 5


async def test_the_reorder_list_and_its_purchase_order_import_back(
    manager: Console, clock: ManualClock
) -> None:
    await manager.store.mutate(
        [
            m.patch(
                "product-timetable-zine",
                set={"title": HOSTILE, "reorderPoint": 45, "reorderQuantity": 60},
            )
        ]
    )
    page = await manager.get("/console/reorder")
    assert page.status_code == 200
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    row = next(r for r in cells(page.text) if r and r[0].startswith("&lt;script"))
    assert row[3:7] == ["40", "45", "60", "60"]

    order = await manager.get("/console/reorder.csv")
    assert order.status_code == 200
    assert order.headers["content-type"].startswith("text/csv")
    assert "attachment" in order.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(order.text)))
    zine = next(line for line in lines if line["productId"] == "timetable-zine")
    assert (zine["delta"], zine["reason"]) == ("60", "restock")
    assert zine["reference"].startswith("PO-")

    # The goods arrive: the order imports back as restock with its reference.
    html = await upload(manager, order.text, name="po.csv")
    assert ["2", "timetable-zine", "—", "40", "100", "+60", ""] in cells(html)
    assert (await manager.client.post("/console/import", data=apply_form(html))).status_code == 303
    assert await stock(manager, "timetable-zine") == 100
    arrived = [e for e in await entries(manager) if e.get("referenceId") == zine["reference"]]
    assert [(e["type"], e["quantityChange"]) for e in arrived] == [("restock", 60)]


async def test_analytics_chart_table_and_csv_from_sales_made_here(
    manager: Console, clock: ManualClock
) -> None:
    inventory = manager.inventory
    await inventory.reserve("cs_1", [LineRequest(product_id="timetable-zine", quantity=6)])
    await inventory.commit("cs_1", "pi_1")
    await inventory.reserve("cs_2", [LineRequest(product_id="halloween-tee", quantity=2, size="s")])
    await inventory.commit("cs_2", "pi_2")
    clock.advance(minutes=5)

    page = await manager.get("/console/analytics?days=10")
    assert page.status_code == 200
    assert '<svg class="chart sales"' in page.text
    bars = re.findall(r"<title>([^<]+): (\d+) sold</title>", page.text)
    assert [(label.split(" ")[0], n) for label, n in bars] == [
        ("Timetable", "6"),
        ("Halloween", "2"),
    ]
    zine = next(r for r in cells(page.text) if r and r[0].startswith("Timetable"))
    assert zine[2:6] == ["6", "0", "6", "0.6"]

    download = await manager.get("/console/analytics.csv?days=10")
    assert download.headers["content-type"].startswith("text/csv")
    rows = {(r["productId"], r["size"]): r for r in csv.DictReader(io.StringIO(download.text))}
    assert rows[("timetable-zine", "")]["unitsSold"] == "6"
    assert rows[("halloween-tee", "s")]["unitsSold"] == "2"


async def test_pages_need_a_session(console: Console) -> None:
    for path in (
        "/console/reorder",
        "/console/analytics",
        "/console/import",
        "/console/reorder.csv",
    ):
        answer = await console.get(path)
        assert answer.status_code == 303, path
        assert "/console/sign-in" in answer.headers["location"]
