"""Reorder-point alerts: once per crossing, re-armed above the point, one sender among many."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cms_client import mutations as m
from service.entrypoints.cli.demo import seed_catalogue
from service.integrations.alerts.reorder import ReorderCrossing, claim
from service.read_models.stock_lines import product_lines
from tests.integrations.alerts.conftest import AlertingEngine
from tests.integrations.alerts.receiver import Receiver
from tests.integrations.alerts.test_alerts_over_http import serving
from tests.support.clock import ManualClock

REORDER = "inventory.reorder_point"


async def test_one_alert_per_crossing_and_again_after_rising_above(
    engine: AlertingEngine, receiver: Receiver, clock: ManualClock
) -> None:
    await engine.lake.mutate(
        [m.patch("product-timetable-zine", set={"reorderPoint": 30, "reorderQuantity": 50})]
    )
    inventory = engine.inventory
    await inventory.adjust("timetable-zine", delta=-15, reason="damage")  # 40 -> 25
    await inventory.adjust("timetable-zine", delta=-1, reason="damage")  # 24: still below
    await engine.settle()
    (first,) = receiver.events(REORDER)
    assert first["productId"] == "product-timetable-zine"
    assert first["slug"] == "timetable-zine" and first["title"]
    assert (first["available"], first["reorderPoint"], first["suggestedQuantity"]) == (25, 30, 50)
    assert first["size"] is None
    assert "Reorder point reached" in first["text"]

    await inventory.adjust("timetable-zine", delta=2, reason="restock")  # 26: still below
    await inventory.adjust("timetable-zine", delta=10, reason="restock")  # 36: re-armed
    await inventory.adjust("timetable-zine", set_to=30, reason="correction")  # at the point
    await engine.settle()
    assert [e["available"] for e in receiver.events(REORDER)] == [25, 30]


async def test_a_variant_uses_its_own_point_else_the_products(
    engine: AlertingEngine, receiver: Receiver
) -> None:
    doc = (await engine.lake.get_documents(["product-station-hoodie"]))[0]
    assert doc is not None
    await engine.lake.mutate([m.patch("product-station-hoodie", set={"reorderPoint": 6})])
    await engine.inventory.adjust("station-hoodie", size="s", delta=-3, reason="damage")  # 8 -> 5
    await engine.inventory.adjust("station-hoodie", size="l", delta=-1, reason="damage")  # 4 -> 3
    await engine.settle()
    sent = sorted((e["size"], e["available"]) for e in receiver.events(REORDER))
    # l was already below 6 and fell further: due too (it had not been announced).
    assert sent == [("l", 3), ("s", 5)]


async def test_of_many_processes_seeing_one_crossing_exactly_one_claims_it(
    open_engine: Callable[..., Any], receiver: Receiver, tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "shared.sqlite3"
    async with open_engine(receiver.url, path=path) as a, open_engine(receiver.url, path=path) as b:
        await a.lake.mutate(
            [
                m.create(
                    {
                        "_id": "p1",
                        "_type": "product",
                        "title": "P",
                        "stockQuantity": 3,
                        "reorderPoint": 5,
                    }
                )
            ]
        )
        (line,) = product_lines((await a.lake.get_documents(["p1"]))[0] or {}, 5)
        crossing = ReorderCrossing(line, before=6, after=3, at=clock())
        claims = await asyncio.gather(
            *(claim(store, crossing) for store in (a.lake, b.lake, a.lake, b.lake))
        )
        assert sorted(claims) == [False, False, False, True]
        # The same crossing seen again later changes nothing.
        assert await claim(b.lake, crossing) is False


async def test_the_daily_digest_lists_every_line_at_or_below_its_point_once_a_day(
    clock: ManualClock, receiver: Receiver
) -> None:
    cron = {"Authorization": "Bearer cron-secret-123456789"}
    async with serving(
        clock, low_stock_webhook_url=receiver.url, cron_secret="cron-secret-123456789"
    ) as (client, lake):
        await lake.mutate([m.patch("product-station-hoodie", set={"reorderPoint": 4})])
        answer = await client.get("/api/cron/reorder-digest", headers=cron)
        assert answer.status_code == 200, answer.text
        assert (answer.json()["count"], answer.json()["delivered"]) == (2, True)
        assert answer.json()["alreadySent"] is False

        # Vercel may run a cron twice; an operator may call it by hand: once a day.
        clock.advance(hours=5)
        again = await client.get("/api/cron/reorder-digest", headers=cron)
        assert again.status_code == 200, again.text
        assert (again.json()["delivered"], again.json()["alreadySent"]) == (False, True)
        assert "already sent" in again.json()["message"]
        assert len(receiver.events("inventory.reorder_digest")) == 1

        clock.advance(days=1)
        tomorrow = await client.get("/api/cron/reorder-digest", headers=cron)
        assert tomorrow.json()["delivered"] is True
    first, second = receiver.events("inventory.reorder_digest")
    assert sorted(item["size"] for item in first["items"]) == ["l", "m"]
    assert "2 line(s)" in first["text"]
    assert second["time"][:10] != first["time"][:10]


async def test_a_digest_the_channel_refused_is_sent_by_the_next_run(
    engine: AlertingEngine, receiver: Receiver, clock: ManualClock
) -> None:
    assert engine.reorder is not None
    receiver.statuses = [500] * 20  # every retry of the first run is refused
    failed = await engine.reorder.digest(now=clock())
    assert (failed["delivered"], failed["already"]) == (False, None)
    assert engine.sleeps  # it did retry (on the injected sleep)
    receiver.statuses = []
    clock.advance(minutes=1)
    retried = await engine.reorder.digest(now=clock())
    assert (retried["delivered"], retried["already"]) == (True, None)
    assert len(receiver.events("inventory.reorder_digest")) == 1


async def test_two_processes_running_the_digest_at_once_send_it_once(
    open_engine: Callable[..., Any], receiver: Receiver, tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "shared.sqlite3"
    async with open_engine(receiver.url, path=path) as a, open_engine(receiver.url, path=path) as b:
        assert a.reorder is not None and b.reorder is not None
        results = await asyncio.gather(
            a.reorder.digest(now=clock()),
            b.reorder.digest(now=clock()),
            a.reorder.digest(now=clock()),
        )
    assert sorted(r["delivered"] for r in results) == [False, False, True]
    assert len(receiver.events("inventory.reorder_digest")) == 1


async def test_two_processes_crossing_one_point_at_once_send_one_alert(
    open_engine: Callable[..., Any], receiver: Receiver, tmp_path: Path
) -> None:
    path = tmp_path / "shared.sqlite3"
    async with open_engine(receiver.url, path=path) as a, open_engine(receiver.url, path=path) as b:
        assert await seed_catalogue(a.lake, a.inventory)
        await a.lake.mutate(
            [m.patch("product-timetable-zine", set={"stockQuantity": 32, "reorderPoint": 30})]
        )
        # Each process takes 2: whichever commits first crosses 30, the other goes below it.
        await asyncio.gather(
            a.inventory.adjust("timetable-zine", delta=-2, reason="damage"),
            b.inventory.adjust("timetable-zine", delta=-2, reason="damage"),
        )
        await a.settle()
        await b.settle()
        sent = receiver.events(REORDER)
        assert len(sent) == 1
        assert sent[0]["available"] in (28, 30)


async def test_without_an_alert_channel_the_digest_says_it_was_not_sent(clock: ManualClock) -> None:
    cron = {"Authorization": "Bearer cron-secret-123456789"}
    async with serving(clock, cron_secret="cron-secret-123456789") as (client, _):
        answer = await client.get("/api/cron/reorder-digest", headers=cron)
    assert answer.status_code == 200, answer.text
    assert answer.json()["delivered"] is False
    assert "LOW_STOCK_WEBHOOK_URL" in answer.json()["message"]
