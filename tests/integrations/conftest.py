"""The app over an in-memory lake with the demo catalogue, a manual clock and every secret
of the webhooks configured; helpers to deliver signed events and read what they did."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from cms_client.lake import Lake
from cms_client.store import Document
from service.config import env_variables
from service.engine.inventory import Inventory
from service.entrypoints.cli.demo import seed_catalogue
from service.entrypoints.http.app import create_app
from tests.entrypoints.http.conftest import KEYS, STOREFRONT, app_client, make_settings
from tests.entrypoints.http.fakes import SwitchableStore
from tests.integrations.stripe import stripe_fixtures as sf
from tests.support.clock import ManualClock
from tests.support.stripe import events

SANITY_SECRET = "sanity-secret"

WEBHOOK_KEYS: dict[str, Any] = {
    **KEYS,
    "stripe_webhook_secret": sf.WEBHOOK_SECRET,
    "sanity_webhook_secret": SANITY_SECRET,
}

CAUSAL_RANK = {"initial": 0, "reservation": 1, "release": 2, "sale": 3, "refund": 4}

RAILCAM = "product-railcam"
TEE = "product-halloween-tee"


async def no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)


@dataclass
class Shop:
    client: httpx.AsyncClient
    app: FastAPI
    store: SwitchableStore
    clock: ManualClock

    @property
    def inventory(self) -> Inventory:
        inventory: Inventory = self.app.state.services.inventory
        return inventory

    async def stripe(
        self,
        event_id: str,
        event_type: str,
        obj: dict[str, Any],
        *,
        secret: str = sf.WEBHOOK_SECRET,
        age_seconds: int = 0,
    ) -> httpx.Response:
        self.clock.advance(1)  # deliveries arrive one after another; the ledger says so
        payload = sf.event(event_id, event_type, obj)
        return await self.client.post(
            "/api/stripe-webhook",
            content=payload,
            headers={
                "Stripe-Signature": sf.sign(payload, secret, age_seconds=age_seconds),
                "Content-Type": "application/json",
            },
        )

    async def deliver(
        self, evt: dict[str, Any], *, secret: str = sf.WEBHOOK_SECRET
    ) -> httpx.Response:
        """Post an event exactly as given (e.g. one `FakeStripe` sent), signed."""
        self.clock.advance(1)
        payload = events.payload(evt)
        return await self.client.post(
            "/api/stripe-webhook",
            content=payload,
            headers={
                "Stripe-Signature": sf.sign(payload, secret),
                "Content-Type": "application/json",
            },
        )

    async def reserve(self, session: str, *lines: dict[str, Any]) -> None:
        self.clock.advance(1)
        response = await self.client.post(
            "/api/reserve-stock",
            json={"sessionId": session, "operations": list(lines)},
            headers=STOREFRONT,
        )
        assert response.status_code == 200, response.text

    async def doc(self, doc_id: str) -> Document | None:
        (found,) = await self.store.lake.get_documents([doc_id])
        return found

    async def product(self, product_id: str = RAILCAM) -> Document:
        found = await self.doc(product_id)
        assert found is not None
        return found

    async def counters(self, product_id: str = RAILCAM, size: str | None = None) -> tuple[int, int]:
        doc = await self.product(product_id)
        if size is not None:
            doc = next(v for v in doc["variants"] if v["size"] == size)
        return doc.get("stockQuantity", 0), doc.get("reservedQuantity", 0)

    async def status(self, session: str) -> str | None:
        reservation = await self.inventory.reservation(session)
        return reservation.status if reservation else None

    async def ledger(
        self, product_id: str = RAILCAM, *, skip_initial: bool = True
    ) -> list[Document]:
        entries: list[Document] = await self.store.lake.query(
            '*[_type == "inventoryTransaction" && productId == $p] | order(createdAt asc, _id asc)',
            {"p": product_id},
            perspective="raw",
        )
        entries = [e for e in entries if not (skip_initial and e["type"] == "initial")]
        # One delivery may write several entries at one instant (a commit that applies a
        # held refund: the sale, then the refund); order those causally.
        return sorted(entries, key=lambda e: (e["createdAt"], CAUSAL_RANK.get(e["type"], 9)))

    async def error_logs(self) -> list[Document]:
        logs: list[Document] = await self.store.lake.query(
            '*[_type == "errorLog"] | order(createdAt asc, _id asc)', {}, perspective="raw"
        )
        return logs

    async def count_documents(self) -> int:
        count: int = await self.store.lake.query("count(*)", {}, perspective="raw")
        return count


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*env_variables(), "VERCEL_ENV"]:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def store(clock: ManualClock) -> AsyncIterator[SwitchableStore]:
    lake = Lake(None, clock=clock)
    switchable = SwitchableStore(lake)
    await seed_catalogue(switchable, Inventory(switchable, clock=clock))
    yield switchable
    await lake.aclose()


@pytest.fixture
def open_shop(store: SwitchableStore, clock: ManualClock) -> Callable[..., Any]:
    """`async with open_shop(**settings) as shop:` the app with the webhook secrets (and
    `settings` on top; pass `stripe_webhook_secret=None` to leave one unset)."""

    @asynccontextmanager
    async def opened(**overrides: Any) -> AsyncIterator[Shop]:
        values = {**WEBHOOK_KEYS, **overrides}
        values = {k: v for k, v in values.items() if v is not None}
        app = create_app(make_settings(**values), store=store, clock=clock)
        async with app_client(app) as client:
            app.state.services.inventory.executor.sleep = no_wait
            yield Shop(client=client, app=app, store=store, clock=clock)

    return opened


@pytest.fixture
async def shop(open_shop: Callable[..., Any]) -> AsyncIterator[Shop]:
    async with open_shop() as opened:
        yield opened
