"""The Stripe API gateway of a running app (one per app, built on first use)."""

from __future__ import annotations

from fastapi import FastAPI, Request

from service.entrypoints.context import Services
from service.integrations.stripe.gateway import StripeGateway, gateway_for


def stripe_gateway(request: Request, services: Services) -> StripeGateway | None:
    """The Stripe API gateway when `STRIPE_SECRET_KEY` is set, built on first use and kept
    on `app.state.stripe_gateway` (tests may put their own there)."""
    return app_stripe_gateway(request.app, services)


def app_stripe_gateway(app: FastAPI, services: Services) -> StripeGateway | None:
    """`stripe_gateway` outside a request (background work of the app)."""
    key = services.settings.stripe_secret_key
    if key is None:
        return None
    gateway: StripeGateway | None = getattr(app.state, "stripe_gateway", None)
    if gateway is None:
        gateway = gateway_for(key.get_secret_value(), services.settings.stripe_api_base)
        app.state.stripe_gateway = gateway
    return gateway
