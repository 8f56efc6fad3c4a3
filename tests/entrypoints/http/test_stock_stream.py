"""`GET /api/stock-stream`: a snapshot, then a `stock` event per change of a listed product's
available stock or state, made by another process (here: another app with its own lake
connection and change feed on the same file) or straight in the store, as Studio would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from cms_client import mutations as m
from cms_client.lake import Lake
from service.engine.inventory import Inventory
from service.entrypoints.cli.demo import seed_catalogue
from service.entrypoints.context import Services
from service.entrypoints.http.app import create_app
from tests.entrypoints.http.conftest import KEYS, STOREFRONT, assert_error_shape, make_settings
from tests.entrypoints.http.fakes import SwitchableStore
from tests.entrypoints.http.sse import SseComment, SseEvent, SseStream
from tests.support.clock import ManualClock, ManualSleep

STREAM = "/api/stock-stream"


class Served:
    def __init__(self, app: Any, lake: Lake) -> None:
        self.app = app
        self.lake = lake
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://stocksync.test"
        )

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    def stream(self, ids: str, headers: dict[str, str] | None = None) -> SseStream:
        return SseStream(self.app, STREAM, {"productIds": ids}, headers)


@pytest.fixture
async def lake_file(tmp_path: Path, clock: ManualClock) -> Path:
    data = tmp_path / "lake.sqlite3"
    async with Lake(data, clock=clock) as lake:
        assert await seed_catalogue(lake, Inventory(lake, clock=clock))
    return data


@pytest.fixture
def serve(clock: ManualClock) -> Callable[..., Any]:
    """`async with serve(data) as served:` one app with its own lake connection on `data`."""

    @asynccontextmanager
    async def opened(data: Path, sleep: ManualSleep | None = None) -> AsyncIterator[Served]:
        async with Lake(data, clock=clock) as lake:
            app = create_app(make_settings(**KEYS), store=lake, clock=clock, sleep=sleep)
            async with LifespanManager(app) as manager:
                served = Served(manager.app, lake)
                served.app.state = app.state
                try:
                    yield served
                finally:
                    await served.http.aclose()

    return opened


def by_product(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["productId"]: item for item in snapshot["stockStatus"]}


async def test_snapshot_then_changes_from_another_app_and_a_direct_store_edit(
    lake_file: Path, serve: Callable[..., Any], clock: ManualClock
) -> None:
    async with (
        serve(lake_file) as reader,
        serve(lake_file) as writer,
        Lake(lake_file, clock=clock) as studio,
        reader.stream("railcam,halloween-tee,nope") as stream,
    ):
        assert stream.status == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        snapshot = await stream.next_event()
        assert snapshot.name == "snapshot" and snapshot.id
        # Exactly what GET /api/stock-status answers.
        polled = await reader.http.get(
            "/api/stock-status", params={"productIds": "railcam,halloween-tee,nope"}
        )
        assert snapshot.data == {
            key: polled.json()[key]
            for key in ("stockStatus", "notFound", "quarantined", "timestamp")
        }
        assert by_product(snapshot.data)["railcam"]["availableStock"] == 5

        # Another process reserves through its own API.
        reserved = await writer.http.post(
            "/api/reserve-stock",
            json={
                "sessionId": "cs_stream",
                "operations": [{"productId": "railcam", "quantity": 2}],
            },
            headers=STOREFRONT,
        )
        assert reserved.status_code == 200, reserved.text
        change = await stream.next_event()
        assert (change.name, change.data["productId"]) == ("stock", "railcam")
        assert (change.data["availableStock"], change.data["reservedStock"]) == (3, 2)
        assert change.id and change.id != snapshot.id

        # Neither a product nobody listed nor a change that moves no figure sends
        # anything; an edit made straight in the store (a Studio publish) does.
        await studio.mutate([m.patch("product-timetable-zine", set={"stockQuantity": 1})])
        await studio.mutate([m.patch("product-railcam", set={"title": "Railcam II"})])
        [tee] = await studio.get_documents(["product-halloween-tee"])
        assert tee is not None
        variants = [dict(v) for v in tee["variants"]]
        for variant in variants:
            if variant["size"] == "m":
                variant["stockQuantity"] = 0
        await studio.mutate([m.patch("product-halloween-tee", set={"variants": variants})])
        change = await stream.next_event()
        assert (change.name, change.data["productId"]) == ("stock", "halloween-tee")
        sizes = {v["size"]: v for v in change.data["variants"]}
        assert (sizes["m"]["availableStock"], sizes["m"]["state"]) == (0, "out_of_stock")
        assert sizes["s"]["availableStock"] == 3

        # The writer releases: the reader's stream sees stock come back.
        released = await writer.http.post(
            "/api/release-stock", json={"sessionId": "cs_stream"}, headers=STOREFRONT
        )
        assert released.status_code == 200, released.text
        change = await stream.next_event()
        assert (change.data["productId"], change.data["availableStock"]) == ("railcam", 5)


async def test_a_comment_keeps_the_connection_open_at_least_every_15_seconds(
    lake_file: Path, serve: Callable[..., Any], clock: ManualClock
) -> None:
    sleep = ManualSleep()
    async with serve(lake_file, sleep=sleep) as served, served.stream("railcam") as stream:
        assert (await stream.next_event()).name == "snapshot"
        async with asyncio.timeout(20):
            await sleep.until_pending()
        assert sleep.pending == [15.0]
        assert not stream.has_pending()
        sleep.wake(15.0)
        assert await stream.next() == SseComment("keepalive")

        # A change that sends nothing does not restart the 15 s: the next comment is
        # still due 15 s after the last thing sent.
        async with asyncio.timeout(20):
            await sleep.until_pending()
        asked = len(sleep.asked)
        await served.lake.mutate([m.patch("product-railcam", set={"title": "Renamed"})])
        await served.lake.mutate([m.patch("product-railcam", set={"stockQuantity": 9})])
        change = await stream.next()
        assert isinstance(change, SseEvent)
        assert change.data["availableStock"] == 9
        async with asyncio.timeout(20):
            await sleep.until_pending()
        # One new timer, after the event; the title edit started none.
        assert len(sleep.asked) == asked + 1
        assert max(sleep.asked) <= 15.0
        sleep.wake(15.0)
        assert await stream.next() == SseComment("keepalive")


async def test_reconnecting_with_last_event_id_starts_with_a_fresh_snapshot(
    lake_file: Path, serve: Callable[..., Any]
) -> None:
    async with serve(lake_file) as served:
        async with served.stream("railcam") as stream:
            first = await stream.next_event()
        # Away: stock moved and nobody was listening.
        await served.lake.mutate([m.patch("product-railcam", set={"stockQuantity": 1})])
        assert first.id is not None
        async with served.stream("railcam", {"Last-Event-ID": first.id}) as again:
            fresh = await again.next_event()
        assert fresh.name == "snapshot"
        assert by_product(fresh.data)["railcam"]["availableStock"] == 1
        assert by_product(fresh.data)["railcam"]["state"] == "low_stock"
        assert fresh.id != first.id


async def test_one_upstream_listener_serves_every_stream_of_a_process(
    lake_file: Path, serve: Callable[..., Any], clock: ManualClock
) -> None:
    async with serve(lake_file) as served, Lake(lake_file, clock=clock) as other:
        feed = served.services.stock_feed
        assert feed is not None
        streams = [served.stream(ids) for ids in ("railcam", "railcam,halloween-tee", "railcam")]
        for stream in streams:
            await stream.__aenter__()
            assert (await stream.next_event()).name == "snapshot"
        assert (feed.connections, feed.subscribers) == (1, 3)
        await other.mutate([m.patch("product-railcam", set={"stockQuantity": 0})])
        for stream in streams:
            change = await stream.next_event()
            assert (change.data["productId"], change.data["state"]) == ("railcam", "out_of_stock")
        for stream in streams:
            await stream.disconnect()
        assert feed.subscribers == 0
        assert feed.connections == 1


async def test_a_product_quarantined_mid_stream_is_announced_and_its_fix_streams(
    lake_file: Path, serve: Callable[..., Any], clock: ManualClock
) -> None:
    """Design rule 10 (issue 12): a Studio saving `stockQuantity: 5.5` on one listed product
    sends a `quarantined` event for it (the page must stop showing its last figures: reserve
    refuses it), the other products keep streaming, a reconnect's snapshot lists it under
    `quarantined` as `GET /api/stock-status` does, and the editor's fix streams its figures."""
    async with (
        serve(lake_file) as served,
        Lake(lake_file, clock=clock) as studio,
        served.stream("railcam,timetable-zine") as stream,
    ):
        assert (await stream.next_event()).name == "snapshot"
        await studio.mutate([m.patch("product-railcam", set={"stockQuantity": 5.5})])
        odd = await stream.next_event()
        assert odd.name == "quarantined" and odd.id
        assert (odd.data["productId"], odd.data["field"]) == ("railcam", "stockQuantity")
        await studio.mutate([m.patch("product-timetable-zine", set={"stockQuantity": 1})])
        change = await stream.next_event()
        assert change.name == "stock"
        assert (change.data["productId"], change.data["availableStock"]) == ("timetable-zine", 1)
        async with served.stream("railcam,timetable-zine") as again:
            fresh = await again.next_event()
            assert [p["productId"] for p in fresh.data["stockStatus"]] == ["timetable-zine"]
            [listed] = fresh.data["quarantined"]
            assert (listed["productId"], listed["field"]) == ("railcam", "stockQuantity")
            # Fixed in Studio: both streams send its figures again.
            await studio.mutate([m.patch("product-railcam", set={"stockQuantity": 4})])
            for open_stream in (stream, again):
                fixed = await open_stream.next_event()
                assert fixed.name == "stock"
                assert (fixed.data["productId"], fixed.data["availableStock"]) == ("railcam", 4)


async def test_opening_streams_in_a_loop_is_limited_per_address(
    lake_file: Path, clock: ManualClock
) -> None:
    async with Lake(lake_file, clock=clock) as lake:
        settings = make_settings(**KEYS, rate_limit_public_per_minute=2)
        app = create_app(settings, store=lake, clock=clock)
        async with LifespanManager(app) as manager:
            statuses = []
            for _ in range(3):
                async with SseStream(
                    manager.app, STREAM, {"productIds": "railcam"}, {"x-forwarded-for": "1.1.1.1"}
                ) as stream:
                    statuses.append(stream.status)
            assert statuses == [200, 200, 429]


async def test_bad_requests_get_the_error_shape(lake_file: Path, serve: Callable[..., Any]) -> None:
    async with serve(lake_file) as served:
        missing = await served.http.get(STREAM, params={"productIds": " , "})
        assert_error_shape(missing, 400, "invalid_request")
        many = ",".join(f"p{i}" for i in range(101))
        too_many = await served.http.get(STREAM, params={"productIds": many})
        body = assert_error_shape(too_many, 400)
        assert "productIds" in body["message"]
        none = await served.http.get(STREAM)
        assert_error_shape(none, 400)


async def test_a_store_without_a_change_feed_answers_503(clock: ManualClock) -> None:
    lake = Lake(None, clock=clock)
    app = create_app(make_settings(**KEYS), store=SwitchableStore(lake), clock=clock)
    try:
        async with (
            LifespanManager(app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url="http://t"
            ) as http,
        ):
            answer = await http.get(STREAM, params={"productIds": "railcam"})
        assert_error_shape(answer, 503, "not_configured")
    finally:
        await lake.aclose()
