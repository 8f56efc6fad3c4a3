"""The app schemathesis fuzzes: an in-memory lake with the demo catalogue, every key set.

schemathesis drives the ASGI app from its own event-loop thread and keeps the app's
lifespan running until the process ends, so the app is built once, when the test module is
imported (schemathesis reads `/openapi.json` at collection). The lake runs its SQLite work
on a thread of its own, so it serves whichever loop calls it.
"""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI

from cms_client.lake import Lake
from service.config import ServiceSettings, env_variables
from service.engine.inventory import Inventory
from service.entrypoints.cli.demo import seed_catalogue
from service.entrypoints.http.app import create_app
from service.integrations.stripe.payloads import CheckoutSession
from tests.fuzz.credentials import SETTINGS
from tests.fuzz.stripe_gateway import KnownSessions

#: Checkout sessions the fake Stripe knows (any other id is unknown to it: 404).
STRIPE_SESSIONS = {
    "cs_fuzz_paid": CheckoutSession(
        id="cs_fuzz_paid", payment_status="paid", payment_intent_id="pi_fuzz"
    ),
    "cs_fuzz_open": CheckoutSession(
        id="cs_fuzz_open", payment_status="unpaid", payment_intent_id=None
    ),
}


def _settings() -> ServiceSettings:
    """The fuzz keys and nothing from the developer's environment or `.env`."""
    with pytest.MonkeyPatch.context() as env:
        for name in [*env_variables(), "VERCEL_ENV", "VERCEL"]:
            env.delenv(name, raising=False)
        return ServiceSettings(_env_file=None, **SETTINGS)


def seeded_app() -> FastAPI:
    lake = Lake(None)

    async def seed() -> None:
        assert await seed_catalogue(lake, Inventory(lake))

    asyncio.run(seed())
    app = create_app(_settings(), store=lake)
    app.state.stripe_gateway = KnownSessions(STRIPE_SESSIONS)
    return app
