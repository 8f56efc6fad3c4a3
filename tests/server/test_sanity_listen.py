"""`SanityClient.listen` against a served lake (Sanity's listen protocol, end to end), and
the live stock feed built on it: a change made straight in the store reaches a subscriber."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cms_client import mutations as m
from cms_client.lake import Lake
from cms_client.sanity_client import SanityClient
from cms_client.sanity_listen import ListenerRefused
from cms_client.sanity_settings import SanitySettings
from service.integrations.sanity.stock_feed import StockFeed, upstream_for
from tests.server.conftest import TOKEN
from tests.server.test_serve import running


def settings_for(base: str) -> SanitySettings:
    return SanitySettings(project_id="listen", dataset="production", api_token=TOKEN, api_host=base)


async def test_listen_yields_welcome_then_each_matching_change(tmp_path: Path) -> None:
    data = tmp_path / "lake.sqlite3"
    async with running(data, token=TOKEN) as client:
        base = str(client().base_url).rstrip("/")
        async with SanityClient(settings_for(base)) as sanity, Lake(data) as lake:
            events = sanity.listen('*[_type == "product"]')
            async with asyncio.timeout(20):
                welcome = await anext(events)
                assert welcome.name == "welcome"
                await lake.mutate([m.create({"_id": "note", "_type": "note"})])
                await lake.mutate([m.create({"_id": "p1", "_type": "product", "stockQuantity": 2})])
                change = await anext(events)
            assert change.name == "mutation"
            assert change.data["documentId"] == "p1"
            assert change.data["result"]["stockQuantity"] == 2
            await events.aclose()

            with pytest.raises(ListenerRefused):
                async with asyncio.timeout(20):
                    async for _ in sanity.listen("*[_type == "):
                        pass


async def test_the_stock_feed_over_sanity_hands_published_product_changes_to_subscribers(
    tmp_path: Path,
) -> None:
    data = tmp_path / "lake.sqlite3"
    async with running(data, token=TOKEN) as client:
        base = str(client().base_url).rstrip("/")
        async with SanityClient(settings_for(base)) as sanity, Lake(data) as lake:
            upstream = upstream_for(sanity)
            assert upstream is not None
            feed = StockFeed(upstream)
            subscriber = feed.subscribe()
            try:
                async with asyncio.timeout(20):
                    await feed.ready()
                    await lake.mutate(
                        [m.create({"_id": "drafts.p1", "_type": "product", "stockQuantity": 7})]
                    )
                    await lake.mutate(
                        [m.create({"_id": "p1", "_type": "product", "stockQuantity": 3})]
                    )
                    got = await subscriber.next()
                assert not isinstance(got, str)
                # The draft was not handed over; the published document was.
                assert (got["_id"], got["stockQuantity"]) == ("p1", 3)
                assert feed.connections == 1
            finally:
                subscriber.close()
                await feed.aclose()


async def test_the_stock_stream_of_an_app_on_sanity_sees_a_direct_store_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asgi_lifespan import LifespanManager

    from service.config import ServiceSettings, env_variables
    from service.engine import Inventory
    from service.entrypoints.cli.demo import seed_catalogue
    from service.entrypoints.http.app import create_app
    from tests.entrypoints.http.sse import SseStream

    for name in env_variables():
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "lake.sqlite3"
    async with Lake(data) as lake:
        assert await seed_catalogue(lake, Inventory(lake))
    async with running(data, token=TOKEN) as client:
        base = str(client().base_url).rstrip("/")
        settings = ServiceSettings(
            _env_file=None,
            sanity_project_id="listen",
            sanity_dataset="production",
            sanity_api_token=TOKEN,
            sanity_api_host=base,
        )
        app = create_app(settings)
        async with (
            LifespanManager(app) as manager,
            SseStream(manager.app, "/api/stock-stream", {"productIds": "railcam"}) as stream,
            Lake(data) as studio,
        ):
            snapshot = await stream.next_event()
            assert snapshot.name == "snapshot"
            assert snapshot.data["stockStatus"][0]["availableStock"] == 5
            # Published straight into the dataset, as Studio does: only the listener sees it.
            await studio.mutate([m.patch("product-railcam", set={"stockQuantity": 2})])
            change = await stream.next_event()
            assert (change.name, change.data["availableStock"]) == ("stock", 2)
            assert change.data["state"] == "low_stock"
