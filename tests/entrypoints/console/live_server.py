"""The app served by uvicorn on 127.0.0.1 in a background thread, over a lake file seeded
with the demo catalogue, some history, holds and error logs (for the browser tests)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from cms_client import mutations as m
from cms_client.lake import Lake
from schemas.operations import LineRequest
from service.config import ServiceSettings
from service.engine.inventory import Inventory
from service.entrypoints.cli.demo import seed_catalogue
from service.entrypoints.http.app import create_app

ADMIN_KEY = "browser-admin-key"
MANAGER_KEY = "browser-manager-key"
SUPPORT_KEY = "browser-support-key"
STAFF_KEYS = (
    f"alice:admin:{ADMIN_KEY},mona:inventory_manager:{MANAGER_KEY},"
    f"sam:customer_service:{SUPPORT_KEY}"
)
SESSION_SECRET = "browser-test-session-secret-0123456789"
EXTRA_PRODUCTS = 30
#: timetable-zine's stock once seeded (40, +20 restock, -6 sold, -2 damaged).
ZINE_STOCK = 52


#: The server's time stands still here, so pages (and the screenshots) are the same each run.
NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


class PastClock:
    """Seeding happens "days ago", so the chart and the ledger have a history to show."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, days_ago: float) -> None:
        self.now = NOW - timedelta(days=days_ago)


def stopped_clock() -> datetime:
    return NOW


async def seed(path: Path) -> None:
    clock = PastClock(NOW - timedelta(days=8))
    lake = Lake(str(path), clock=clock)
    inventory = Inventory(lake, clock=clock)
    try:
        await seed_catalogue(lake, inventory)
        await lake.mutate(
            [
                m.create(
                    {
                        "_id": f"product-sticker-{n:02d}",
                        "_type": "product",
                        "title": f"Sticker {n:02d}",
                        "slug": {"_type": "slug", "current": f"sticker-{n:02d}"},
                        "stockQuantity": 20 + n,
                        "reservedQuantity": 0,
                    }
                )
                for n in range(1, EXTRA_PRODUCTS + 1)
            ]
        )
        zine = "timetable-zine"
        clock.at(6)
        await inventory.adjust(zine, delta=20, reason="restock", actor="mona", note="order 118")
        for days_ago, session, units in ((5, "cs_seed_1", 4), (3.5, "cs_seed_2", 2)):
            clock.at(days_ago)
            await inventory.reserve(session, [LineRequest(product_id=zine, quantity=units)])
            clock.at(days_ago - 0.2)
            await inventory.commit(session, f"pi_{session}")
        clock.at(2)
        await inventory.adjust(zine, delta=-2, reason="damage", actor="mona", note="water")
        clock.at(1)
        await inventory.reserve("cs_seed_3", [LineRequest(product_id=zine, quantity=3)])
        clock.at(0.8)
        await inventory.release("cs_seed_3")
        clock.at(0.5)
        await inventory.reserve(
            "cs_seed_overdue",
            [LineRequest(product_id="halloween-tee", size="s", quantity=1)],
            ttl=timedelta(minutes=30),
        )
        clock.at(0.01)
        await inventory.reserve(
            "cs_seed_open",
            [
                LineRequest(product_id="station-hoodie", size="s", quantity=2),
                LineRequest(product_id="railcam", quantity=1),
            ],
        )
        await inventory.log_error(
            "stock_deduction",
            "critical",
            "Payment for cs_seed_late was taken without stock: 1 × Railways and Sleepers",
            session_id="cs_seed_late",
            product_id="product-railways-and-sleepers",
        )
        await inventory.log_error(
            "webhook_processing", "low", "Stripe event evt_seed_1 arrived twice (ignored)"
        )
    finally:
        await lake.aclose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def live_server(data_file: Path, **settings: Any) -> Iterator[str]:
    """Serve the app; yields its base URL."""
    config = ServiceSettings(
        _env_file=None,
        data_file=str(data_file),
        admin_api_keys=STAFF_KEYS,
        console_session_secret=SESSION_SECRET,
        **settings,
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config, clock=stopped_clock),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the console server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def seed_file(path: Path) -> None:
    """Seed in a thread of its own: Playwright's sync API may own this thread's loop."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(seed(path))
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]
