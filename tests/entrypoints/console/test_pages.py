"""What the console's pages show, and that the product list is filtered and paged by the
store (GROQ), not in Python."""

from __future__ import annotations

import re
from datetime import timedelta
from xml.etree import ElementTree

from cms_client import mutations as m
from schemas.operations import LineRequest
from service.entrypoints.console.catalogue import PAGE_SIZE
from tests.entrypoints.console.conftest import MANAGER_KEY, Console, cells
from tests.support.clock import ManualClock


def product_names(html: str) -> list[str]:
    return re.findall(r'<td[^>]* rowspan="\d+"><a href="/console/products/[^"]+">([^<]+)</a>', html)


async def add_products(console: Console, count: int) -> None:
    await console.store.mutate(
        [
            m.create(
                {
                    "_id": f"product-poster-{n:04d}",
                    "_type": "product",
                    "title": f"Poster {n:04d}",
                    "slug": {"_type": "slug", "current": f"poster-{n:04d}"},
                    "stockQuantity": n % 9,
                    "reservedQuantity": 0,
                }
            )
            for n in range(count)
        ]
    )


async def test_the_overview_counts_states_holds_and_open_errors(
    manager: Console, clock: ManualClock
) -> None:
    inventory = manager.inventory
    await inventory.reserve(
        "cs_old", [LineRequest(product_id="railcam", quantity=1)], ttl=timedelta(minutes=30)
    )
    await inventory.reserve(
        "cs_new", [LineRequest(product_id="timetable-zine", quantity=1)], ttl=timedelta(hours=1)
    )
    await inventory.log_error("stock_deduction", "critical", "paid without stock")
    await inventory.log_error("webhook_processing", "low", "odd event")
    clock.advance(minutes=33)  # cs_old: past expiresAt plus the grace a late payment gets
    await inventory.reserve("cs_newer", [LineRequest(product_id="timetable-zine", quantity=1)])

    page = (await manager.get("/console")).text
    tiles = dict(
        (label, int(value))
        for value, label in re.findall(
            r"<strong>(\d+)(?:<small>.*?</small>)?</strong><span>([^<]+)</span>", page
        )
    )
    assert tiles == {
        "in stock": 1,
        "low stock": 2,
        "out of stock": 2,
        "active holds": 3,
        "expired, not yet swept": 1,
        "open errors": 2,
    }
    assert re.search(r"\d+\.\d<small> ms</small></strong><span>lake latency", page)
    assert "1 unresolved critical error log(s)" in page
    assert product_names(page) == [
        "Halloween Tee",
        "Railcam",
        "Railways and Sleepers",
        "Station Hoodie",
    ]


async def test_products_are_filtered_by_their_most_urgent_line(manager: Console) -> None:
    expected = {
        "": [
            "Halloween Tee",
            "Railcam",
            "Railways and Sleepers",
            "Station Hoodie",
            "Timetable Zine",
        ],
        "in_stock": ["Timetable Zine"],
        "low_stock": ["Halloween Tee", "Railcam"],
        "out_of_stock": ["Railways and Sleepers", "Station Hoodie"],
        "attention": ["Halloween Tee", "Railcam", "Railways and Sleepers", "Station Hoodie"],
        "bogus": [
            "Halloween Tee",
            "Railcam",
            "Railways and Sleepers",
            "Station Hoodie",
            "Timetable Zine",
        ],
    }
    for state, names in expected.items():
        page = await manager.get("/console/products", params={"state": state})
        assert product_names(page.text) == names, state


async def test_the_table_shows_each_line_with_its_counters_and_state(manager: Console) -> None:
    await manager.inventory.reserve(
        "cs_1", [LineRequest(product_id="station-hoodie", size="s", quantity=2)]
    )
    page = await manager.get("/console/products", params={"q": "station"})
    rows = [row for row in cells(page.text) if row and row[0] != "Product"]
    assert [row[-5:] for row in rows] == [
        ["s HOOD-STATION-S", "8", "2", "6", "In stock"],
        ["m HOOD-STATION-M", "0", "0", "0", "Out of stock"],
        ["l HOOD-STATION-L", "4", "0", "4", "Low stock"],
    ]
    assert "station-hoodie · SKU HOOD-STATION · threshold 5" in rows[0][0]


async def test_search_matches_the_start_of_title_or_slug_in_any_case(manager: Console) -> None:
    for query, names in {
        "RAIL": ["Railcam", "Railways and Sleepers"],
        "railways-and": ["Railways and Sleepers"],
        "product-railcam": ["Railcam"],
        "tee": [],
    }.items():
        page = await manager.get("/console/products", params={"q": query})
        assert product_names(page.text) == names, query


async def test_thousands_of_products_are_paged_by_the_store(manager: Console) -> None:
    await add_products(manager, 1200)
    manager.store.row_counts.clear()
    page = await manager.get("/console/products", params={"state": "in_stock", "page": "3"})
    names = product_names(page.text)
    # Posters with 6..8 units are in stock (threshold 5): 399 of them, plus the zine.
    assert "400 products match · page 3 of 16" in page.text
    assert len(names) == PAGE_SIZE
    assert names[0] == "Poster 0152" and names[-1] == "Poster 0224"
    assert max(manager.store.row_counts) <= PAGE_SIZE
    assert 'href="/console/products?state=in_stock&amp;page=4"' in page.text
    assert 'href="/console/products?state=in_stock&amp;page=2"' in page.text

    last = await manager.get("/console/products", params={"state": "in_stock", "page": "99"})
    assert "page 16 of 16" in last.text and len(product_names(last.text)) == 400 - 15 * 25


async def test_a_product_page_shows_counters_chart_and_ledger(manager: Console) -> None:
    page = await manager.get("/console/products/halloween-tee")
    assert page.status_code == 200
    counters = [row for row in cells(page.text) if row and row[0] in ("s", "m", "All sizes")]
    assert [row[2:6] for row in counters] == [
        ["3", "0", "3", "Low stock"],
        ["2", "0", "2", "Low stock"],
        ["5", "0", "5", "Low stock"],
    ]
    svg = re.search(r"<svg.*?</svg>", page.text, re.S)
    assert svg
    tree = ElementTree.fromstring(svg.group(0))
    paths = tree.findall("{http://www.w3.org/2000/svg}path")
    assert {p.get("class") for p in paths} == {"series-stock", "series-reserved"}
    assert "initial" in page.text and "demo" in page.text


async def test_the_ledger_filters_by_type_and_date_and_pages_back(
    manager: Console, clock: ManualClock
) -> None:
    clock.advance(days=1)
    for n in range(30):
        clock.advance(seconds=1)
        await manager.inventory.adjust(
            "railcam", delta=1, reason="restock", actor="mona", note=f"box {n}"
        )
    clock.advance(days=1)
    await manager.inventory.adjust("railcam", delta=-1, reason="damage", actor="mona")
    await manager.sign_in(MANAGER_KEY)  # the first session expired meanwhile

    damage = await manager.get("/console/products/railcam", params={"type": "damage"})
    types = re.findall(r'<span class="type type-(\w+)">', damage.text)
    assert types == ["damage"]

    day_two = await manager.get(
        "/console/products/railcam", params={"from": "2026-11-22", "to": "2026-11-22"}
    )
    types = re.findall(r'<span class="type type-(\w+)">', day_two.text)
    assert types == ["restock"] * 25  # the first page of that day's 30
    older = re.search(r'href="([^"]+)" rel="next">Older entries', day_two.text)
    assert older
    rest = await manager.get(older.group(1).replace("&amp;", "&"))
    assert re.findall(r'<span class="type type-(\w+)">', rest.text) == ["restock"] * 5
    assert "box 0" in rest.text and "← Newest" in rest.text


async def test_an_unknown_product_is_a_404_page(manager: Console) -> None:
    response = await manager.get("/console/products/no-such-thing")
    assert response.status_code == 404
    assert "There is no product" in response.text


async def test_reservations_show_items_expiry_and_filter_by_status(
    manager: Console, clock: ManualClock
) -> None:
    await manager.inventory.reserve(
        "cs_a",
        [
            LineRequest(product_id="halloween-tee", size="M", quantity=1),
            LineRequest(product_id="railcam", quantity=2),
        ],
        ttl=timedelta(minutes=30),
    )
    await manager.inventory.reserve("cs_b", [LineRequest(product_id="railcam", quantity=1)])
    await manager.inventory.release("cs_b")
    clock.advance(minutes=45)

    page = (await manager.get("/console/reservations")).text
    assert "cs_a" in page and "cs_b" in page
    assert "1 × " in page and "Halloween Tee</a> (m)" in page and "2 × " in page
    assert "expired, not swept" in page
    assert "2026-11-21 12:30 UTC" in page  # cs_a's expiry

    active = (await manager.get("/console/reservations", params={"status": "active"})).text
    assert "cs_a" in active and "cs_b" not in active


async def test_the_error_log_filters_by_severity_and_resolution(manager: Console) -> None:
    await manager.inventory.log_error("stock_deduction", "critical", "paid without stock")
    await manager.inventory.log_error("webhook_processing", "low", "odd event")
    critical = (await manager.get("/console/errors", params={"severity": "critical"})).text
    assert "paid without stock" in critical and "odd event" not in critical
    resolved = (await manager.get("/console/errors", params={"show": "resolved"})).text
    assert "No error logs match." in resolved


async def test_titles_are_escaped(manager: Console) -> None:
    await manager.store.mutate(
        [
            m.create(
                {
                    "_id": "product-xss",
                    "_type": "product",
                    "title": "<script>alert(1)</script>",
                    "slug": {"_type": "slug", "current": "xss"},
                    "stockQuantity": 1,
                }
            )
        ]
    )
    page = (await manager.get("/console/products", params={"q": "xss"})).text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_a_store_outage_is_a_503_page(manager: Console) -> None:
    from cms_client.errors import StoreUnavailable

    manager.store.failure = StoreUnavailable("lake down")
    response = await manager.get("/console/products")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "Try again in a moment" in response.text


async def test_the_stylesheet_is_served_and_nothing_else_from_static(console: Console) -> None:
    css = await console.get("/console/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "@media (max-width: 600px)" in css.text
    for name in ("../routes.py", "nope.css", "%2e%2e%2fconfig.py"):
        assert (await console.get(f"/console/static/{name}")).status_code == 404
