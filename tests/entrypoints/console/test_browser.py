"""The console in a real headless Chromium (Playwright, the system's Chromium): one
browser for the module, a fresh context per test, the app served by uvicorn on 127.0.0.1.

Every run saves screenshots of the overview and a product page into `.artifacts/screenshots/`
(ignored by git, so a test run never dirties the checkout). To refresh the copies the README
shows:
`STOCKSYNC_SCREENSHOT_DIR=docs/screenshots uv run pytest tests/entrypoints/console/test_browser.py`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.entrypoints.console.live_server import (
    ADMIN_KEY,
    MANAGER_KEY,
    SUPPORT_KEY,
    ZINE_STOCK,
    live_server,
    seed_file,
)
from tests.integrations.alerts.receiver import Receiver, running_receiver

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = Path(
    os.environ.get("STOCKSYNC_SCREENSHOT_DIR") or ROOT / ".artifacts" / "screenshots"
).resolve()
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists() and os.environ.get("CI") != "true":
    pytest.skip(
        "the browser tests need the system Chromium at /usr/bin/chromium "
        "(apt-get install chromium; .ci/run installs it)",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[str]:
    data = tmp_path_factory.mktemp("console") / "lake.sqlite3"
    seed_file(data)
    with live_server(data, low_stock_webhook_url=receiver.url) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("CI=true but /usr/bin/chromium is missing: the browser tests must run")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1100, "height": 820})
    context.set_default_timeout(5000)
    opened = context.new_page()
    yield opened
    context.close()


def sign_in(page: Page, key: str) -> None:
    page.goto("/console")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next=/console$"))
    page.get_by_label("Staff key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def zine_stock(page: Page) -> str:
    row = page.locator("table.counters tbody tr").first
    return row.locator("td").nth(2).inner_text()


def test_a_manager_finds_a_product_adjusts_it_and_signs_out(page: Page, receiver: Receiver) -> None:
    sign_in(page, MANAGER_KEY)
    expect(page.locator(".who")).to_contain_text("mona (inventory_manager)")
    page.screenshot(path=str(SCREENSHOTS / "console-overview.png"), full_page=True)

    page.get_by_role("link", name="Products", exact=True).click()
    page.get_by_label("State").select_option("low_stock")
    page.get_by_role("button", name="Filter").click()
    table = page.locator("table.products")
    expect(table).to_contain_text("Railcam")
    expect(table).to_contain_text("Halloween Tee")
    expect(table).not_to_contain_text("Timetable Zine")
    expect(table).not_to_contain_text("Sticker")

    page.get_by_label("State").select_option("")
    page.get_by_label("Search").fill("time")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.products tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Timetable Zine").click()

    expect(page.get_by_role("heading", name="Timetable Zine")).to_be_visible()
    assert zine_stock(page) == str(ZINE_STOCK)
    expect(page.locator("svg.chart path.series-stock")).to_have_count(1)

    form = page.locator("form.adjust")
    form.get_by_label("add or remove").check()
    form.get_by_label("Units").fill("-43")
    form.get_by_label("Reason").select_option("damage")
    form.get_by_label("Note").fill("flooded stock room")
    form.get_by_role("button", name="Apply").click()

    expect(page.get_by_role("status")).to_have_text(
        f"Stock {ZINE_STOCK} → {ZINE_STOCK - 43} (damage); available {ZINE_STOCK - 43}."
    )
    assert zine_stock(page) == str(ZINE_STOCK - 43)
    newest = page.locator("table.ledger tbody tr").first
    expect(newest).to_contain_text("damage")
    expect(newest).to_contain_text("-43")
    expect(newest).to_contain_text("mona")
    expect(newest).to_contain_text("flooded stock room")
    page.screenshot(path=str(SCREENSHOTS / "console-product.png"), full_page=True)

    # 52 -> 9 available crosses the zine's threshold of 10: one alert, after the response.
    assert receiver.alerts() == [("product-timetable-zine", None, "low_stock")]

    form.get_by_label("Units").fill("-100")
    form.get_by_label("Reason").select_option("correction")
    form.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Refused: stock of Timetable Zine would go below zero: {ZINE_STOCK - 43} -> "
    )
    assert zine_stock(page) == str(ZINE_STOCK - 43)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("Signed out.")
    page.goto("/console/products")
    expect(page).to_have_url(re.compile(r"/console/sign-in"))


def test_an_admin_resolves_an_error_with_a_note(page: Page) -> None:
    sign_in(page, ADMIN_KEY)
    page.get_by_role("link", name="Error log").click()
    page.get_by_label("Severity").select_option("critical")
    page.get_by_role("button", name="Filter").click()
    entry = page.locator("li.error-log").filter(has_text="taken without stock")
    entry.get_by_label("Note").fill("refunded the customer")
    entry.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_contain_text("Resolved: Payment for cs_seed_late")
    expect(page.locator("li.error-log")).to_have_count(0)  # no open critical errors left

    page.get_by_label("Show").select_option("resolved")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("li.error-log").first).to_contain_text("Resolved by alice on")
    expect(page.locator("li.error-log").first).to_contain_text("refunded the customer")


def test_customer_service_reads_but_cannot_adjust_or_resolve(page: Page) -> None:
    sign_in(page, SUPPORT_KEY)
    page.goto("/console/products/railcam")
    expect(page.get_by_role("heading", name="Railcam")).to_be_visible()
    expect(page.locator("table.ledger")).to_be_visible()
    expect(page.locator("form.adjust")).to_have_count(0)
    expect(page.get_by_role("heading", name="Adjust stock")).to_have_count(0)
    page.goto("/console/errors")
    expect(page.locator("li.error-log").first).to_be_visible()
    expect(page.get_by_role("button", name="Resolve")).to_have_count(0)

    # Even with a valid token the role decides: 403, nothing changes.
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    refused = page.request.post(
        "/console/products/railcam/adjust",
        form={"csrf": token or "", "mode": "set", "amount": "99", "reason": "restock"},
        max_redirects=0,
    )
    assert refused.status == 403
    page.goto("/console/products/railcam")
    assert page.locator("table.counters tbody tr").first.locator("td").nth(2).inner_text() == "5"


def test_forged_form_posts_are_refused_and_change_nothing(page: Page, base_url: str) -> None:
    sign_in(page, MANAGER_KEY)
    target = "/console/products/railcam/adjust"
    fields: dict[str, str | float | bool] = {"mode": "set", "amount": "0", "reason": "damage"}
    for csrf in (None, "forged-token"):
        form = dict(fields) if csrf is None else {**fields, "csrf": csrf}
        response = page.request.post(target, form=form, max_redirects=0)
        assert response.status == 403
        assert "nothing was changed" in response.text()

    # A page on another site posting to the console: the session cookie stays home.
    page.goto("about:blank")
    page.set_content(
        f'<form method="post" action="{base_url}{target}">'
        '<input name="mode" value="set"><input name="amount" value="0">'
        '<input name="reason" value="damage"><button>win a prize</button></form>'
    )
    page.get_by_role("button", name="win a prize").click()
    expect(page).to_have_url(re.compile(r"/console/sign-in"))

    page.goto("/console/products/railcam")
    assert page.locator("table.counters tbody tr").first.locator("td").nth(2).inner_text() == "5"


PHONE = {"width": 390, "height": 844}


def within_screen(locator: Any) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def test_pages_fit_a_phone_screen(browser: Browser, base_url: str) -> None:
    context = browser.new_context(base_url=base_url, viewport=PHONE, is_mobile=True)
    try:
        page = context.new_page()
        sign_in(page, SUPPORT_KEY)
        for path in ("/console", "/console/products", "/console/products/halloween-tee"):
            page.goto(path)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways on a phone"
    finally:
        context.close()


def test_stock_tables_reflow_on_a_phone_with_skus_and_wide_tables_say_they_scroll(
    browser: Browser, base_url: str
) -> None:
    """At 390 px the product list and a product's stock become one card per line: every
    line's Available and State are on screen, names take at most two lines, SKUs show. The
    ledger keeps its columns in a sideways-scrolling box, with a hint that says so."""
    context = browser.new_context(base_url=base_url, viewport=PHONE, is_mobile=True)
    try:
        page = context.new_page()
        sign_in(page, SUPPORT_KEY)
        page.goto("/console/products")
        rows = page.locator("table.products tbody tr")
        assert rows.count() >= 5
        for index in range(rows.count()):
            row = rows.nth(index)
            for label in ("Available", "State"):
                cell = row.locator(f'td[data-label="{label}"]')
                expect(cell).to_be_visible()
                assert within_screen(cell), (index, label)
        tee = page.locator("td.product", has_text="Halloween Tee")
        expect(tee).to_contain_text("SKU TEE-HALLOWEEN")
        link = tee.get_by_role("link", name="Halloween Tee")
        line_height = float(link.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
        assert (link.bounding_box() or {"height": 999})["height"] <= 2 * line_height + 1
        expect(page.locator("table.products .sku", has_text="TEE-HALLOWEEN-M")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "console-products-phone.png"), full_page=True)

        page.goto("/console/products/halloween-tee")
        expect(page.locator("p.muted .sku")).to_have_text("TEE-HALLOWEEN")
        counters = page.locator("table.counters tbody tr")
        for index in range(counters.count()):
            sku = counters.nth(index).locator("td.sku")
            expect(sku).to_be_visible()
            assert within_screen(sku)
            assert within_screen(counters.nth(index).locator("td.state"))
        expect(counters.first.locator("td.sku")).to_have_text("TEE-HALLOWEEN-S")

        ledger_box = page.locator("div.scroll", has=page.locator("table.ledger"))
        assert ledger_box.evaluate("e => e.scrollWidth > e.clientWidth"), "ledger fits; no hint"
        hint = page.locator(".scroll-hint").first
        expect(hint).to_be_visible()
        expect(hint).to_contain_text("sideways")
        tick = page.locator("svg.chart text.tick").first
        assert (tick.bounding_box() or {"height": 0})["height"] >= 9, "chart labels too small"
        page.screenshot(path=str(SCREENSHOTS / "console-product-phone.png"), full_page=True)

        # On a wide screen the tables stay tables and the hint stays hidden.
        page.set_viewport_size({"width": 1100, "height": 820})
        expect(page.locator(".scroll-hint").first).to_be_hidden()
        expect(page.locator("table.counters thead")).to_be_visible()
    finally:
        context.close()


def test_the_api_docs_render_with_the_network_off(browser: Browser, base_url: str) -> None:
    """Swagger UI and ReDoc draw the API from the app's own assets; every request to any
    other host is refused, as on a machine with no network."""
    context = browser.new_context(base_url=base_url)
    context.set_default_timeout(10000)
    outside: list[str] = []

    def only_the_app(route: Any) -> None:
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_app)
    page = context.new_page()
    try:
        page.goto("/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("stocksync")
        expect(page.locator(".opblock-summary-path", has_text="/api/reserve-stock")).to_be_visible()
        page.goto("/redoc")
        expect(page.locator("h1", has_text="stocksync")).to_be_visible()
        expect(page.get_by_text("/api/reserve-stock").first).to_be_attached()
    finally:
        context.close()
    assert outside == []
