"""The Stripe API gateway of a running app (one per app, built on first use)."""

from __future__ import annotations

from fastapi import Request

from service.entrypoints.context import Services
from service.integrations.stripe.gateway import StripeApiGateway, StripeGateway


def stripe_gateway(request: Request, services: Services) -> StripeGateway | None:
    """The Stripe API gateway when `STRIPE_SECRET_KEY` is set, built on first use and kept
    on `app.state.stripe_gateway` (tests may put their own there)."""
    if services.settings.stripe_secret_key is None:
        return None
    gateway: StripeGateway | None = getattr(request.app.state, "stripe_gateway", None)
    if gateway is None:
        gateway = StripeApiGateway(
            services.settings.stripe_secret_key.get_secret_value(),
            api_base=services.settings.stripe_api_base,
        )
        request.app.state.stripe_gateway = gateway
    return gateway
