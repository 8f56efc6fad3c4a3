"""Export, import, reorder list and analytics over HTTP, on the demo catalogue."""

from __future__ import annotations

import csv
import io

import httpx

from cms_client import mutations as m
from schemas.operations import LineRequest
from service.engine.inventory import Inventory
from tests.entrypoints.http.conftest import ADMIN, MANAGER, SUPPORT, assert_error_shape
from tests.entrypoints.http.fakes import SwitchableStore
from tests.support.clock import ManualClock

CSV = {"Content-Type": "text/csv"}


def table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


async def import_csv(
    client: httpx.AsyncClient, text: str, query: str = "", **headers: str
) -> httpx.Response:
    return await client.post(
        f"/api/inventory/import{query}",
        content=text.encode(),
        headers={**MANAGER, **CSV, **headers},
    )


async def ledger(store: SwitchableStore) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = await store.query(
        '*[_type == "inventoryTransaction"] | order(_id asc)', {}
    )
    return rows


async def test_export_lists_every_line_and_reimports_after_an_edit(
    client: httpx.AsyncClient, store: SwitchableStore
) -> None:
    await store.mutate([m.patch("product-railcam", set={"title": "=Railcam", "sku": "RC-1"})])
    exported = await client.get("/api/inventory/export", headers=SUPPORT)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = table(exported.text)
    assert list(rows[0]) == [
        "productId",
        "documentId",
        "title",
        "sku",
        "size",
        "variantKey",
        "stock",
        "reserved",
        "available",
        "state",
        "reorderPoint",
        "location",
    ]
    by_line = {(r["productId"], r["size"]): r for r in rows}
    # 3 products without variants, tee s/m and hoodie s/m/l.
    assert len(rows) == 8
    railcam = by_line[("railcam", "")]
    assert (railcam["title"], railcam["sku"], railcam["stock"]) == ("'=Railcam", "RC-1", "5")
    assert by_line[("station-hoodie", "m")]["state"] == "out_of_stock"

    # Unchanged, the export imports as a no-op: every row change 0, no ledger entry.
    before = len(await ledger(store))
    same = await import_csv(client, exported.text, "?reason=correction")
    assert same.status_code == 200, same.text
    assert {r["change"] for r in same.json()["rows"]} == {0}
    assert same.json()["ledgerEntries"] == 0 and len(await ledger(store)) == before

    railcam["stock"] = "9"
    by_line[("halloween-tee", "m")]["stock"] = "0"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    edited = await import_csv(client, out.getvalue(), "?reason=correction")
    assert edited.status_code == 200, edited.text
    changed = [
        (r["productId"], r["size"], r["before"], r["after"])
        for r in edited.json()["rows"]
        if r["change"]
    ]
    assert sorted(changed) == [("halloween-tee", "m", 2, 0), ("railcam", None, 5, 9)]
    status = await client.get("/api/stock-status?productIds=railcam")
    assert status.json()["stockStatus"][0]["totalStock"] == 9


async def test_a_dry_run_writes_nothing_and_numbers_rows_by_file_line(
    client: httpx.AsyncClient, store: SwitchableStore
) -> None:
    before = await ledger(store)
    answer = await import_csv(
        client,
        "productId,size,delta,reason\nrailcam,,2,restock\n\nhalloween-tee,s,-9,damage\n",
        "?dryRun=true",
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["dryRun"], body["applied"], body["valid"], body["invalid"]) == (True, False, 1, 1)
    assert [(r["row"], r["before"], r["after"], r["change"]) for r in body["rows"]] == [
        (2, 5, 7, 2),
        (4, 3, -6, -9),
    ]
    assert "below zero" in body["rows"][1]["error"]
    assert await ledger(store) == before


async def test_any_invalid_row_refuses_the_whole_import_listing_every_bad_row(
    client: httpx.AsyncClient, store: SwitchableStore
) -> None:
    before = await ledger(store)
    answer = await import_csv(
        client,
        "productId,size,setTo,reason\nrailcam,,8,restock\nnope,,1,restock\n"
        "halloween-tee,xl,1,restock\ntimetable-zine,,lots,restock\nstation-hoodie,s,3,stolen\n",
    )
    body = assert_error_shape(answer, 422, "import_invalid")
    assert [e["row"] for e in body["errors"]] == [3, 4, 5, 6]
    assert body["invalid"] == 4 and body["valid"] == 1
    assert await ledger(store) == before
    status = await client.get("/api/stock-status?productIds=railcam")
    assert status.json()["stockStatus"][0]["totalStock"] == 5


async def test_import_replays_with_the_same_idempotency_key(client: httpx.AsyncClient) -> None:
    text = "productId,delta,reason\nrailcam,3,restock\n"
    first = await import_csv(client, text, **{"Idempotency-Key": "po-77"})
    again = await import_csv(client, text, **{"Idempotency-Key": "po-77"})
    assert first.status_code == again.status_code == 200, again.text
    assert (first.json()["replayed"], again.json()["replayed"]) == (False, True)
    assert again.json()["reference"] == first.json()["reference"]
    status = await client.get("/api/stock-status?productIds=railcam")
    assert status.json()["stockStatus"][0]["totalStock"] == 8


async def test_the_same_idempotency_key_with_another_file_is_refused(
    client: httpx.AsyncClient,
) -> None:
    first = await import_csv(
        client, "productId,delta,reason\nrailcam,3,restock\n", **{"Idempotency-Key": "po-78"}
    )
    assert first.status_code == 200, first.text
    other = await import_csv(
        client, "productId,delta,reason\nrailcam,30,restock\n", **{"Idempotency-Key": "po-78"}
    )
    body = assert_error_shape(other, 409, "idempotency_key_reused")
    assert "different import" in body["message"]
    # Another reference is another request too.
    again = await import_csv(
        client,
        "productId,delta,reason\nrailcam,3,restock\n",
        "?reference=PO-9",
        **{"Idempotency-Key": "po-78"},
    )
    assert_error_shape(again, 409, "idempotency_key_reused")
    status = await client.get("/api/stock-status?productIds=railcam")
    assert status.json()["stockStatus"][0]["totalStock"] == 8  # only the first applied


async def test_import_is_for_managers_with_csv_and_a_reason(client: httpx.AsyncClient) -> None:
    text = "productId,delta\nrailcam,1\n"
    assert_error_shape(
        await client.post("/api/inventory/import", content=text, headers={**SUPPORT, **CSV}), 403
    )
    assert_error_shape(
        await client.post(
            "/api/inventory/import",
            content=text,
            headers={**ADMIN, "Content-Type": "application/json"},
        ),
        415,
        "unsupported_media_type",
    )
    no_reason = await import_csv(client, text)
    assert "reason is empty" in assert_error_shape(no_reason, 422, "import_invalid")["message"]
    assert_error_shape(await import_csv(client, "sku\n1\n"), 400, "invalid_request")
    bad_bytes = await client.post(
        "/api/inventory/import", content=b"productId\xff", headers={**MANAGER, **CSV}
    )
    assert_error_shape(bad_bytes, 400, "invalid_request")


async def sell(
    store: SwitchableStore,
    clock: ManualClock,
    session: str,
    product: str,
    n: int,
    size: str | None = None,
) -> None:
    inventory = Inventory(store, clock=clock)
    await inventory.reserve(session, [LineRequest(product_id=product, quantity=n, size=size)])
    await inventory.commit(session, f"pi_{session}")


async def test_analytics_count_the_sales_and_refunds_made(
    client: httpx.AsyncClient, store: SwitchableStore, clock: ManualClock
) -> None:
    await sell(store, clock, "cs_a", "timetable-zine", 6)
    await sell(store, clock, "cs_b", "timetable-zine", 4)
    await sell(store, clock, "cs_c", "halloween-tee", 2, "s")
    await Inventory(store, clock=clock).restore("cs_b", reference="re_1")
    clock.advance(seconds=60)

    answer = await client.get("/api/inventory/analytics?days=10", headers=SUPPORT)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    items = {(i["productId"], i["size"]): i for i in body["items"]}
    zine = items[("timetable-zine", None)]
    assert (zine["unitsSold"], zine["unitsRefunded"], zine["netUnits"]) == (10, 4, 6)
    assert zine["velocityPerDay"] == 0.6 and zine["availableStock"] == 34
    assert zine["daysOfCover"] == round(34 / 0.6, 2)
    assert zine["sellThrough"] == round(10 / 44, 4)
    tee_s = items[("halloween-tee", "s")]
    assert (tee_s["unitsSold"], tee_s["availableStock"], tee_s["sellThrough"]) == (
        2,
        1,
        round(2 / 3, 4),
    )
    idle = items[("station-hoodie", "m")]
    assert (idle["velocityPerDay"], idle["daysOfCover"], idle["sellThrough"]) == (0, None, None)
    assert body["items"][0]["productId"] == "timetable-zine"  # best seller first

    # Sales older than the window are left out.
    clock.advance(days=2)
    later = (await client.get("/api/inventory/analytics?days=1", headers=SUPPORT)).json()
    assert all(i["unitsSold"] == 0 for i in later["items"])

    download = await client.get("/api/inventory/analytics?days=10&format=csv", headers=SUPPORT)
    assert download.headers["content-type"].startswith("text/csv")
    zine_row = next(r for r in table(download.text) if r["productId"] == "timetable-zine")
    assert (zine_row["unitsSold"], zine_row["daysOfCover"]) == ("10", str(round(34 / 0.6, 2)))


async def test_reorder_lists_lines_at_or_below_their_point_with_suggestions(
    client: httpx.AsyncClient, store: SwitchableStore, clock: ManualClock
) -> None:
    await store.mutate(
        [
            m.patch("product-timetable-zine", set={"reorderPoint": 40}),
            m.patch("product-railcam", set={"reorderPoint": 2, "reorderQuantity": 12}),
            m.patch("product-station-hoodie", set={"reorderPoint": 4}),
        ]
    )
    await sell(store, clock, "cs_z", "timetable-zine", 15)
    answer = await client.get("/api/inventory/reorder?days=5", headers=SUPPORT)
    assert answer.status_code == 200, answer.text
    items = {(i["productId"], i["size"]): i for i in answer.json()["items"]}
    # railcam has 5 > 2; hoodie s has 8 > 4; hoodie m (0) and l (4) are at or below 4.
    assert set(items) == {
        ("timetable-zine", None),
        ("station-hoodie", "m"),
        ("station-hoodie", "l"),
    }
    zine = items[("timetable-zine", None)]
    assert (zine["availableStock"], zine["reorderPoint"], zine["velocityPerDay"]) == (25, 40, 3.0)
    # 30 days at 3 a day is 90; 25 are there.
    assert (zine["suggestedQuantity"], zine["daysOfCover"]) == (65, round(25 / 3, 2))
    hoodie_m = items[("station-hoodie", "m")]
    assert (
        hoodie_m["suggestedQuantity"],
        hoodie_m["daysOfCover"],
        hoodie_m["reorderQuantity"],
    ) == (0, None, None)

    await store.mutate([m.patch("product-station-hoodie", set={"reorderQuantity": 6})])
    po = await client.get("/api/inventory/reorder?days=5&format=csv", headers=SUPPORT)
    assert po.headers["content-type"].startswith("text/csv")
    lines = table(po.text)
    ref = "PO-" + clock().strftime("%Y%m%d-%H%M")
    assert sorted(
        (r["productId"], r["size"], r["delta"], r["reason"], r["reference"]) for r in lines
    ) == [
        ("station-hoodie", "l", "6", "restock", ref),
        ("station-hoodie", "m", "6", "restock", ref),
        ("timetable-zine", "", "65", "restock", ref),
    ]

    # The goods arrive: the purchase order imports back as a restock with its reference.
    arrived = await import_csv(client, po.text)
    assert arrived.status_code == 200, arrived.text
    entries = [e for e in await ledger(store) if e.get("referenceId") == ref]
    assert sorted((e["productId"], e["type"], e["quantityChange"]) for e in entries) == [
        ("product-station-hoodie", "restock", 6),
        ("product-station-hoodie", "restock", 6),
        ("product-timetable-zine", "restock", 65),
    ]
