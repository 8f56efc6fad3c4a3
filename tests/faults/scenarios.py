"""The operations under fault, each as setup (untouched), the act a client repeats, and the
exact state it must leave behind.

`act` is what a storefront, Stripe or a scheduler sends; the test sends it until it gets a
definite answer (a retry after a store error) and then once more (a duplicate delivery).
Every act runs on an instance that did not do the setup unless it says "warm".
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from cms_client import mutations as m
from service.engine import Inventory, InventoryError, LineRequest
from service.entrypoints.http.app import create_app
from tests.entrypoints.http.conftest import make_settings
from tests.faults.world import World, no_wait
from tests.integrations.stripe import stripe_fixtures as sf

RAILCAM = "prod-railcam"
TEE = "prod-tee"
CATALOGUE: list[dict[str, Any]] = [
    {
        "_id": RAILCAM,
        "_type": "product",
        "title": "Railcam",
        "slug": {"current": "railcam"},
        "stockQuantity": 5,
        "reservedQuantity": 0,
    },
    {
        "_id": TEE,
        "_type": "product",
        "title": "Halloween tee",
        "slug": {"current": "halloween-tee"},
        "variants": [
            {"_key": "v-s", "size": "s", "stockQuantity": 3, "reservedQuantity": 0},
            {"_key": "v-m", "size": "m", "stockQuantity": 2, "reservedQuantity": 0},
        ],
    },
]

#: What an act answers: a result, or a domain refusal that says "done already".
Answer = Any
Act = Callable[[], Awaitable[Answer]]


def line(product: str, quantity: int = 1, size: str | None = None) -> LineRequest:
    return LineRequest(product_id=product, quantity=quantity, size=size)


@dataclass
class Expected:
    #: (product, variant key) -> (stock, reserved) after the act.
    counters: dict[tuple[str, str | None], tuple[int, int]]
    #: session -> reservation status after the act.
    statuses: dict[str, str]
    #: ledger entry type -> how many the act must have written (exactly once each).
    entries: dict[str, int]


@dataclass
class Scenario:
    name: str
    #: The store calls the act makes when nothing fails, in order (the request budget).
    calls: list[str]
    expected: Expected
    #: Refusals a repeated act may answer with (the work was done by an earlier try).
    done_codes: tuple[str, ...] = ()
    #: Whether an answer is the original one, not a replay of work done before.
    original: Callable[[Answer], bool] = lambda answer: not answer.replayed


class Shop:
    """One scenario's world: a setup instance (warm) and the act's own instance."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.setup_engine = world.engine()
        self.engine = world.engine()

    async def seed(self) -> None:
        await self.world.lake.mutate([m.create(doc) for doc in CATALOGUE])


async def _reserve_cold(shop: Shop) -> Act:
    return lambda: shop.engine.reserve(
        "cs_new", [line("railcam", 2), line("halloween-tee", 1, "s")]
    )


async def _reserve_warm(shop: Shop) -> Act:
    await shop.setup_engine.reserve("cs_a", [line(RAILCAM, 1)])
    return lambda: shop.setup_engine.reserve("cs_new", [line(RAILCAM, 2)])


async def _reserve_group(shop: Shop) -> Act:
    await shop.setup_engine.reserve("cs_a", [line(RAILCAM, 1)])

    async def three_buyers_at_once() -> list[Answer]:
        answers = await asyncio.gather(
            *(shop.setup_engine.reserve(f"cs_{n}", [line(RAILCAM, 1)]) for n in range(3)),
            return_exceptions=True,
        )
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
        return answers

    return three_buyers_at_once


async def _release_cold(shop: Shop) -> Act:
    await shop.setup_engine.reserve("cs_a", [line(RAILCAM, 2), line(TEE, 1, "s")])
    # A storefront that sends an Idempotency-Key: its retry is answered as a replay.
    return lambda: shop.engine.release("cs_a", idempotency_keys=["release:cs_a:key-1"])


async def _release_warm(shop: Shop) -> Act:
    await shop.setup_engine.reserve("cs_a", [line(RAILCAM, 2)])
    await shop.setup_engine.reserve("cs_b", [line(RAILCAM, 1)])
    # Without a key, a repeated release is refused as "not active": released once.
    return lambda: shop.setup_engine.release("cs_a")


async def _commit(shop: Shop) -> Act:
    await shop.setup_engine.reserve("cs_a", [line(RAILCAM, 2), line(TEE, 1, "s")])
    return lambda: shop.engine.commit("cs_a", "pi_a")


async def _restore(shop: Shop) -> Act:
    await shop.setup_engine.reserve("cs_a", [line(RAILCAM, 2)])
    await shop.setup_engine.commit("cs_a", "pi_a")
    return lambda: shop.engine.restore("cs_a", reference="re_1")


async def _expire(shop: Shop) -> Act:
    await shop.setup_engine.reserve("cs_a", [line(RAILCAM, 2)])
    shop.world.clock.advance(timedelta(minutes=45).total_seconds())
    return shop.engine.expire


async def _adjust(shop: Shop) -> Act:
    return lambda: shop.engine.adjust(
        "railcam", delta=4, reason="restock", actor="ann", idempotency_keys=["adjust-1"]
    )


SETUPS: dict[str, Callable[[Shop], Awaitable[Act]]] = {
    "reserve": _reserve_cold,
    "reserve-warm": _reserve_warm,
    "reserve-group": _reserve_group,
    "release": _release_cold,
    "release-warm": _release_warm,
    "commit": _commit,
    "restore": _restore,
    "expire": _expire,
    "adjust": _adjust,
}

SCENARIOS: dict[str, Scenario] = {
    "reserve": Scenario(
        "reserve",
        ["query", "doc", "mutate"],
        Expected(
            {(RAILCAM, None): (5, 2), (TEE, "v-s"): (3, 1)},
            {"cs_new": "active"},
            {"reservation": 2},
        ),
    ),
    "reserve-warm": Scenario(
        "reserve-warm",
        ["mutate"],
        Expected(
            {(RAILCAM, None): (5, 3)}, {"cs_a": "active", "cs_new": "active"}, {"reservation": 1}
        ),
    ),
    "reserve-group": Scenario(
        "reserve-group",
        ["mutate"],
        Expected(
            {(RAILCAM, None): (5, 4)},
            {"cs_a": "active", "cs_0": "active", "cs_1": "active", "cs_2": "active"},
            {"reservation": 3},
        ),
        original=lambda answers: not any(answer.replayed for answer in answers),
    ),
    "release": Scenario(
        "release",
        ["doc", "doc", "mutate"],
        Expected(
            {(RAILCAM, None): (5, 0), (TEE, "v-s"): (3, 0)}, {"cs_a": "released"}, {"release": 2}
        ),
    ),
    "release-warm": Scenario(
        "release-warm",
        ["mutate"],
        Expected({(RAILCAM, None): (5, 1)}, {"cs_a": "released", "cs_b": "active"}, {"release": 1}),
        done_codes=("reservation_not_active",),
    ),
    "commit": Scenario(
        "commit",
        ["doc", "doc", "mutate"],
        Expected(
            {(RAILCAM, None): (3, 0), (TEE, "v-s"): (2, 0)}, {"cs_a": "committed"}, {"sale": 2}
        ),
    ),
    "restore": Scenario(
        "restore",
        ["doc", "doc", "mutate"],
        Expected({(RAILCAM, None): (5, 0)}, {"cs_a": "refunded"}, {"refund": 1}),
    ),
    "expire": Scenario(
        "expire",
        ["query", "doc", "mutate"],
        Expected({(RAILCAM, None): (5, 0)}, {"cs_a": "expired"}, {"expiry": 1}),
        original=lambda answer: answer.expired == ["cs_a"],
    ),
    "adjust": Scenario(
        "adjust",
        ["query", "doc", "mutate"],
        Expected({(RAILCAM, None): (9, 0)}, {}, {"restock": 1}),
    ),
    "webhook": Scenario(
        "webhook",
        ["doc", "doc", "mutate", "query"],
        Expected({(RAILCAM, None): (3, 0)}, {"cs_a": "committed"}, {"sale": 1}),
        original=lambda answer: answer["action"] == "committed",
    ),
}


async def prepare(shop: Shop, name: str) -> Act:
    """Run the scenario's setup on the seeded shop (nothing armed yet); return its act."""
    if name == "webhook":
        await shop.setup_engine.reserve("cs_a", [line(RAILCAM, 2)])
        return lambda: _deliver_checkout_completed(shop)
    return await SETUPS[name](shop)


# -- the webhook, through the HTTP app --------------------------------------------------------

WEBHOOK_SETTINGS: dict[str, Any] = {"stripe_webhook_secret": sf.WEBHOOK_SECRET}


@asynccontextmanager
async def stocksync_app(world: World) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP app on the faulty store, as a Stripe endpoint sees it."""
    app = create_app(make_settings(**WEBHOOK_SETTINGS), store=world.client, clock=world.clock)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app, raise_app_exceptions=False),
            base_url="http://stocksync.test",
        ) as client,
    ):
        inventory: Inventory = app.state.services.inventory
        inventory.executor.sleep = no_wait
        yield client


async def _deliver_checkout_completed(shop: Shop) -> Answer:
    payload = sf.event(
        "evt_paid", "checkout.session.completed", sf.checkout_session("cs_a", payment_intent="pi_a")
    )
    async with stocksync_app(shop.world) as client:
        response = await client.post(
            "/api/stripe-webhook",
            content=payload,
            headers={"Stripe-Signature": sf.sign(payload), "Content-Type": "application/json"},
        )
    if response.status_code >= 500:
        # Stripe retries a 5xx: to the test it is a store error like any other.
        raise WebhookRefused(response.status_code, response.text)
    assert response.status_code == 200, response.text
    return response.json()


class WebhookRefused(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status


def done_code(exc: BaseException) -> str | None:
    return exc.code if isinstance(exc, InventoryError) else None
