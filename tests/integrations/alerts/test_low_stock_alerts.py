"""Low-stock alerts against a real receiver on 127.0.0.1: one message per crossing, none
repeated until the line recovers, and a failing receiver never fails the stock operation."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from schemas.operations import LineRequest, StockState
from service.entrypoints.cli.demo import seed_catalogue
from service.integrations.alerts.crossings import Crossing
from service.read_models.error_logs import list_error_logs
from tests.integrations.alerts.conftest import AlertingEngine
from tests.integrations.alerts.receiver import Receiver
from tests.support.clock import ManualClock

ZINE = "product-timetable-zine"  # 40 in stock, threshold 10
HOODIE = "product-station-hoodie"  # s 8, m 0, l 4; threshold 5


async def set_zine(engine: AlertingEngine, units: int) -> None:
    await engine.inventory.adjust(ZINE, set_to=units, reason="correction", actor="mona")
    await engine.settle()


def zine_crossing(before: StockState, after: StockState, *, stock: int, at: datetime) -> Crossing:
    """The zine (nothing reserved, threshold 10) moving from `before` to `after`."""
    return Crossing(
        product_id=ZINE,
        title="Timetable Zine",
        variant_key=None,
        size=None,
        before=before,
        after=after,
        stock=stock,
        reserved=0,
        available=stock,
        threshold=10,
        at=at,
    )


async def test_seeding_and_restocking_announce_nothing(
    engine: AlertingEngine, receiver: Receiver
) -> None:
    await set_zine(engine, 60)
    assert receiver.messages == []


async def test_a_line_running_low_then_out_is_announced_once_per_state(
    engine: AlertingEngine, receiver: Receiver, clock: ManualClock
) -> None:
    await set_zine(engine, 10)
    assert receiver.alerts() == [(ZINE, None, "low_stock")]
    message = receiver.messages[0]
    assert message["text"] == (
        "Low stock: Timetable Zine has 10 units available (stock 10, reserved 0, "
        "low-stock threshold 10)."
    )
    assert message["title"] == "Timetable Zine"
    assert (message["available"], message["threshold"]) == (10, 10)
    assert message["previousState"] == "in_stock"
    assert message["time"] == "2026-11-21T12:00:00.000Z"

    await set_zine(engine, 4)  # still low: nothing new
    await set_zine(engine, 0)
    await set_zine(engine, 2)  # a partial restock is not news
    await set_zine(engine, 0)  # out again before recovering: already announced
    assert receiver.alerts() == [(ZINE, None, "low_stock"), (ZINE, None, "out_of_stock")]


async def test_after_recovering_a_line_is_announced_again(
    engine: AlertingEngine, receiver: Receiver
) -> None:
    await set_zine(engine, 8)
    await set_zine(engine, 30)  # back in stock
    assert len(receiver.messages) == 1
    await set_zine(engine, 9)
    assert receiver.alerts() == [(ZINE, None, "low_stock")] * 2


async def test_checkout_holds_that_run_a_size_low_are_announced_for_that_size(
    engine: AlertingEngine, receiver: Receiver
) -> None:
    await engine.inventory.reserve(
        "cs_1", [LineRequest(product_id="station-hoodie", size="S", quantity=3)]
    )
    await engine.settle()
    assert receiver.alerts() == [(HOODIE, "s", "low_stock")]
    assert receiver.messages[0]["text"].startswith("Low stock: Station Hoodie (s) has 5 units")

    await engine.inventory.release("cs_1")
    await engine.settle()
    await engine.inventory.reserve(
        "cs_2", [LineRequest(product_id="station-hoodie", size="s", quantity=8)]
    )
    await engine.settle()
    assert receiver.alerts()[1:] == [(HOODIE, "s", "out_of_stock")]


async def test_one_transaction_moving_several_lines_sends_one_message_per_line(
    engine: AlertingEngine, receiver: Receiver
) -> None:
    await set_zine(engine, 40)
    await engine.inventory.reserve(
        "cs_3",
        [
            LineRequest(product_id="timetable-zine", quantity=35),
            LineRequest(product_id="station-hoodie", size="s", quantity=8),
        ],
    )
    await engine.settle()
    assert sorted(receiver.alerts()) == [(HOODIE, "s", "out_of_stock"), (ZINE, None, "low_stock")]


async def test_a_receiver_answering_500_is_retried_then_the_failure_is_logged(
    engine: AlertingEngine, receiver: Receiver
) -> None:
    receiver.statuses = [500, 500, 500]
    result = await engine.inventory.adjust(ZINE, set_to=3, reason="damage", actor="mona")
    await engine.settle()

    assert result.new_stock == 3  # the stock operation stands
    assert receiver.hits == 3 and receiver.messages == []
    assert engine.sleeps == [0.5, 1.0]
    logs = (await list_error_logs(engine.lake, error_type="webhook_processing")).error_logs
    assert len(logs) == 1
    assert logs[0].product_id == ZINE and logs[0].severity == "medium"
    assert "HTTP 500" in logs[0].message and "Timetable Zine" in logs[0].message
    assert logs[0].details["alert"]["state"] == "low_stock"

    # Claimed once: the failed alert is in the error log, not sent again by the next sale.
    await set_zine(engine, 2)
    assert receiver.hits == 3


async def test_a_retry_that_gets_through_delivers_the_message_once(
    engine: AlertingEngine, receiver: Receiver
) -> None:
    receiver.statuses = [503]
    await set_zine(engine, 5)
    assert receiver.hits == 2 and receiver.alerts() == [(ZINE, None, "low_stock")]
    assert (await list_error_logs(engine.lake)).error_logs == []


async def test_a_receiver_refusing_the_message_is_not_retried(
    engine: AlertingEngine, receiver: Receiver
) -> None:
    receiver.statuses = [404]
    await set_zine(engine, 5)
    assert receiver.hits == 1 and engine.sleeps == []
    (log,) = (await list_error_logs(engine.lake)).error_logs
    assert "HTTP 404" in log.message


async def test_connection_refused_does_not_fail_the_operation_and_is_logged(
    open_engine: Callable[..., Any],
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/secret-token-path"  # nothing listens there now
    async with open_engine(url) as engine:
        await seed_catalogue(engine.lake, engine.inventory)
        result = await engine.inventory.adjust(ZINE, delta=-39, reason="damage", actor="mona")
        await engine.settle()
        assert result.new_stock == 1
        assert engine.sleeps == [0.5, 1.0]
        (log,) = (await list_error_logs(engine.lake)).error_logs
        assert "ConnectError" in log.message
        assert "secret-token-path" not in log.message


async def test_the_alerted_state_is_shared_by_processes_on_one_dataset(
    open_engine: Callable[..., Any], receiver: Receiver, tmp_path: Path
) -> None:
    lake_file = tmp_path / "lake.sqlite3"
    async with (
        open_engine(receiver.url, path=lake_file) as first,
        open_engine(receiver.url, path=lake_file) as second,
    ):
        await seed_catalogue(first.lake, first.inventory)
        await first.inventory.adjust(ZINE, set_to=0, reason="damage", actor="mona")
        await first.settle()
        # The second process restocks a little and sells out again: still not recovered,
        # and it learns that from the dataset, not from memory.
        await second.inventory.adjust(ZINE, set_to=3, reason="restock", actor="mona")
        await second.inventory.adjust(ZINE, set_to=0, reason="damage", actor="mona")
        await second.settle()
        assert receiver.alerts() == [(ZINE, None, "out_of_stock")]

        await second.inventory.adjust(ZINE, set_to=40, reason="restock", actor="mona")
        await second.settle()
        await first.inventory.adjust(ZINE, set_to=7, reason="damage", actor="mona")
        await first.settle()
        assert receiver.alerts()[1:] == [(ZINE, None, "low_stock")]


async def test_the_same_crossing_seen_concurrently_by_many_processes_is_sent_once(
    open_engine: Callable[..., Any], receiver: Receiver, tmp_path: Path, clock: ManualClock
) -> None:
    lake_file = tmp_path / "lake.sqlite3"
    crossing = zine_crossing("in_stock", "low_stock", stock=4, at=clock())
    async with (
        open_engine(receiver.url, path=lake_file) as first,
        open_engine(receiver.url, path=lake_file) as second,
    ):
        outcomes = await asyncio.gather(
            *(engine.alerts.handle([crossing]) for engine in [first, second] * 8)
        )
    assert sum(len(sent) for sent in outcomes) == 1
    assert receiver.alerts() == [(ZINE, None, "low_stock")]


async def test_a_late_crossing_does_not_undo_a_newer_recovery(
    engine: AlertingEngine, receiver: Receiver, clock: ManualClock
) -> None:
    await set_zine(engine, 5)
    stale_at = clock()
    clock.advance(minutes=5)
    await set_zine(engine, 40)  # recovered at 12:05
    late = zine_crossing("low_stock", "out_of_stock", stock=0, at=stale_at - timedelta(seconds=1))
    assert await engine.alerts.handle([late]) == []
    assert len(receiver.messages) == 1
