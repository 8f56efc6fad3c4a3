"""A Stripe gateway that answers from a dict, so the success-page route can be fuzzed
without the network (the app uses whatever sits on `app.state.stripe_gateway`)."""

from __future__ import annotations

from service.integrations.stripe.payloads import CheckoutSession


class KnownSessions:
    def __init__(self, sessions: dict[str, CheckoutSession]) -> None:
        self.sessions = sessions

    async def checkout_session(self, session_id: str) -> CheckoutSession | None:
        return self.sessions.get(session_id)

    async def session_for_payment_intent(self, payment_intent_id: str) -> CheckoutSession | None:
        return next(
            (s for s in self.sessions.values() if s.payment_intent_id == payment_intent_id),
            None,
        )

    async def expire_session(self, session_id: str) -> str:
        return "not_open" if session_id in self.sessions else "unknown"

    async def aclose(self) -> None:
        return None
