"""A respx fake of the few Stripe API endpoints stocksync calls, serving the stripe
library's own httpx client (no network)."""

from __future__ import annotations

from typing import Any

import httpx
import respx

from tests.integrations.stripe import stripe_fixtures as sf

API = "https://api.stripe.com"


class FakeStripeApi:
    """Checkout sessions by id, and the session list filtered by payment intent."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.failure: httpx.Response | None = None
        self.retrieve = router.get(url__regex=rf"^{API}/v1/checkout/sessions/(?P<sid>[^/?]+)$")
        self.retrieve.mock(side_effect=self._retrieve)
        self.listing = router.get(url__regex=rf"^{API}/v1/checkout/sessions(\?.*)?$")
        self.listing.mock(side_effect=self._list)

    def add(self, session: dict[str, Any]) -> None:
        self.sessions[session["id"]] = session

    def _retrieve(self, request: httpx.Request, sid: str) -> httpx.Response:
        if self.failure is not None:
            return self.failure
        found = self.sessions.get(sid)
        if found is None:
            return httpx.Response(
                404,
                json={
                    "error": {
                        "type": "invalid_request_error",
                        "code": "resource_missing",
                        "message": f"No such checkout.session: '{sid}'",
                        "param": "session",
                    }
                },
            )
        return httpx.Response(200, json=found)

    def _list(self, request: httpx.Request) -> httpx.Response:
        if self.failure is not None:
            return self.failure
        intent = request.url.params.get("payment_intent")
        data = [s for s in self.sessions.values() if s.get("payment_intent") == intent]
        return httpx.Response(
            200,
            json={
                "object": "list",
                "url": "/v1/checkout/sessions",
                "has_more": False,
                "data": data[:1],
            },
        )


def paid_session(session_id: str, intent: str = "pi_1") -> dict[str, Any]:
    return sf.checkout_session(session_id, payment_intent=intent)
