"""The stateful fake Stripe (`tests.support.stripe.fake`) answering on Stripe's real host
through respx, for tests whose app builds the stripe library's own httpx client."""

from __future__ import annotations

from typing import Any

import respx

from tests.integrations.stripe import stripe_fixtures as sf
from tests.support.stripe.fake import FakeStripe
from tests.support.stripe.server import mount


class FakeStripeApi(FakeStripe):
    """`FakeStripe` with the tests' secret key, mounted on a respx router."""

    def __init__(self, router: respx.MockRouter) -> None:
        super().__init__(api_key=sf.STRIPE_KEY)
        mount(self, router)

    def add(self, session: dict[str, Any]) -> None:
        """Put a Checkout Session as a test shaped it (`sf.checkout_session`)."""
        self.sessions[session["id"]] = session

    @property
    def retrievals(self) -> int:
        return sum(1 for c in self.calls("GET", "/v1/checkout/sessions/"))

    @property
    def listings(self) -> list[dict[str, str]]:
        return [c.params for c in self.calls("GET") if c.path == "/v1/checkout/sessions"]


def paid_session(session_id: str, intent: str = "pi_1") -> dict[str, Any]:
    return sf.checkout_session(session_id, payment_intent=intent)
