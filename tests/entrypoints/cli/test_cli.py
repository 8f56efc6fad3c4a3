"""`stocksync cleanup`, `stocksync reconcile`, and what `serve --demo` seeds."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cms_client import mutations as m
from cms_client.lake import Lake
from schemas.operations import LineRequest
from schemas.refunds import RefundFacts
from service.engine.inventory import Inventory
from service.engine.operations.housekeeping import EXIT_QUARANTINED, EXIT_UNSETTLED
from service.entrypoints.cli.demo import CATALOGUE, seed_catalogue
from service.entrypoints.cli.main import main
from tests.integrations.stripe import stripe_fixtures as sf
from tests.support.clock import ManualClock
from tests.support.stripe.fake import FakeStripe
from tests.support.stripe.server import serve


def prepare(path: Path) -> None:
    """A lake file with the demo catalogue and one hold that expired an hour ago."""

    async def run() -> None:
        past = ManualClock(datetime.now(UTC) - timedelta(hours=2))
        async with Lake(path, clock=past) as lake:
            inventory = Inventory(lake, clock=past)
            await seed_catalogue(lake, inventory)
            await inventory.reserve("cs_abandoned", [LineRequest(product_id="railcam", quantity=2)])

    asyncio.run(run())


def test_cleanup_expires_overdue_holds_and_reports_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    data = tmp_path / "lake.sqlite3"
    prepare(data)

    assert main(["cleanup", "--data", str(data)]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["cleanup", "--data", str(data)]) == 0
    second = json.loads(capsys.readouterr().out)

    assert first["expired"] == ["cs_abandoned"] and first["failed"] == []
    assert first["purged"] == {"idempotencyRecords": 0, "errorLogs": 0}
    assert second["expired"] == []


def hold_a_refund_then_pay(path: Path) -> None:
    """A refund that arrived before its payment (held), then the payment, recorded by a path
    that does not look for held refunds: the refund waits for a reconcile."""

    async def run() -> None:
        past = ManualClock(datetime.now(UTC) - timedelta(hours=1))
        async with Lake(path, clock=past) as lake:
            inventory = Inventory(lake, clock=past)
            await inventory.reserve("cs_paid", [LineRequest(product_id="railcam", quantity=2)])
            held = await inventory.settle_refunds(
                RefundFacts(
                    payment_intent_id="pi_1",
                    charge_id="ch_1",
                    charge_amount=5000,
                    fully_refunded=True,
                )
            )
            assert held.state == "held"
            await inventory.commit("cs_paid", "pi_1")
            assert (await inventory.status(["railcam"])).products[0].total == 3

    asyncio.run(run())


def railcam_stock(path: Path) -> int:
    async def run() -> int:
        async with Lake(path) as lake:
            return (await Inventory(lake).status(["railcam"])).products[0].total

    return asyncio.run(run())


def test_reconcile_reports_json_and_applies_held_refunds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
):
    data = tmp_path / "lake.sqlite3"
    prepare(data)
    hold_a_refund_then_pay(data)
    monkeypatch.setenv("STOCKSYNC_DATA", str(data))

    assert main(["reconcile"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["reconcile"]["productsChecked"] == len(CATALOGUE)
    assert report["reconcile"]["failed"] == []
    assert report["heldRefunds"] == {"applied": ["pi_1"], "held": [], "resolved": []}
    assert railcam_stock(data) == 5

    # The refund just changed railcam: it is left settling for the next run, and the exit
    # code says so (a cron wrapper can tell).
    assert main(["reconcile"]) == EXIT_UNSETTLED
    second = json.loads(capsys.readouterr().out)
    assert second["heldRefunds"]["applied"] == []
    assert second["reconcile"]["settling"] == ["product-railcam"]
    assert railcam_stock(data) == 5


def test_reconcile_exits_3_when_a_product_is_quarantined(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
):
    data = tmp_path / "lake.sqlite3"
    prepare(data)

    async def add_odd() -> None:
        past = ManualClock(datetime.now(UTC) - timedelta(hours=1))
        async with Lake(data, clock=past) as lake:
            odd = {"_id": "product-odd", "_type": "product", "stockQuantity": "five"}
            await lake.mutate([m.create(odd)])

    asyncio.run(add_odd())
    monkeypatch.setenv("STOCKSYNC_DATA", str(data))

    assert main(["reconcile"]) == EXIT_QUARANTINED
    report = json.loads(capsys.readouterr().out)
    (odd,) = report["reconcile"]["quarantined"]
    assert (odd["productId"], odd["field"]) == ("product-odd", "stockQuantity")
    assert "Traceback" not in capsys.readouterr().err


def test_demo_refuses_to_seed_a_sanity_dataset(monkeypatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("SANITY_PROJECT_ID", "abc123")
    assert main(["serve", "--demo"]) == 2
    assert "SANITY_PROJECT_ID" in capsys.readouterr().err


def test_invalid_configuration_is_reported_by_name(monkeypatch):
    monkeypatch.setenv("STOCKSYNC_MAX_LINES", "0")
    with pytest.raises(SystemExit) as exit_info:
        main(["cleanup", "--data", "unused.sqlite3"])
    assert "STOCKSYNC_MAX_LINES" in str(exit_info.value)


async def test_the_demo_catalogue_is_seeded_on_first_run_only(clock: ManualClock):
    async with Lake(None, clock=clock) as lake:
        inventory = Inventory(lake, clock=clock)
        assert await seed_catalogue(lake, inventory) is True
        await inventory.adjust("railcam", set_to=1, reason="correction")

        assert await seed_catalogue(lake, inventory) is False
        status = await inventory.status(["railcam", "halloween-tee", "railways-and-sleepers"])

    figures = {p.product_id: p for p in status.products}
    assert figures["railcam"].total == 1
    tee = figures["halloween-tee"].variants or []
    assert {(v.size, v.total) for v in tee} == {("s", 3), ("m", 2)}
    assert figures["railways-and-sleepers"].state == "out_of_stock"


async def test_the_demo_never_seeds_a_dataset_that_has_products(clock: ManualClock):
    async with Lake(None, clock=clock) as lake:
        await lake.mutate([{"create": {"_id": "mine", "_type": "product", "title": "Mine"}}])
        assert await seed_catalogue(lake, Inventory(lake, clock=clock)) is False
        assert await lake.query('count(*[_type == "product"])') == 1


def test_cleanup_expires_the_checkout_sessions_of_the_holds_it_expires(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    fake = FakeStripe(api_key=sf.STRIPE_KEY)
    fake.create_session("cs_abandoned")
    data = tmp_path / "lake.sqlite3"
    prepare(data)
    with serve(fake) as base:
        monkeypatch.setenv("STRIPE_SECRET_KEY", sf.STRIPE_KEY)
        monkeypatch.setenv("STRIPE_API_BASE", base)
        assert main(["cleanup", "--data", str(data)]) == 0

    report = json.loads(capsys.readouterr().out)
    assert report["expired"] == ["cs_abandoned"]
    assert report["checkoutSessions"] == {
        "expired": ["cs_abandoned"],
        "alreadyEnded": [],
        "failed": [],
    }
    assert fake.sessions["cs_abandoned"]["status"] == "expired"
    assert [c.path for c in fake.calls("POST")] == ["/v1/checkout/sessions/cs_abandoned/expire"]
