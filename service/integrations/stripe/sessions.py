"""Which checkout session a payment intent (or its charge or refund) belongs to.

Payment-intent, charge and refund events do not name the checkout session. It is found,
cheapest first, from: metadata the shop set (`stocksync_session`, `checkout_session_id` or
`session_id`); the reservation that recorded the intent (`paymentIntentId`, set for unpaid
checkouts) or was paid with it (`paymentRef`); and, when `STRIPE_SECRET_KEY` is set, Stripe
itself (the checkout session listed for the intent).
"""

from __future__ import annotations

from collections.abc import Mapping

from service.engine import Inventory
from service.integrations.stripe.gateway import StripeGateway, StripeLookupFailed
from service.integrations.stripe.payloads import session_in_metadata


class SessionFinder:
    def __init__(self, inventory: Inventory, gateway: StripeGateway | None) -> None:
        self.inventory = inventory
        self.gateway = gateway

    async def for_payment(
        self, payment_intent_id: str | None, metadata: Mapping[str, str] | None = None
    ) -> str | None:
        """The checkout session of a payment; None when nothing says which it is.

        Raises `StripeLookupFailed` when Stripe had to be asked and could not answer.
        """
        named = session_in_metadata(metadata or {})
        if named is not None:
            return named
        if payment_intent_id is None:
            return None
        recorded = await self.inventory.session_paid_with(payment_intent_id)
        if recorded is not None:
            return recorded
        if self.gateway is not None:
            return await self.gateway.session_for_payment_intent(payment_intent_id)
        return None

    async def known_for_payment(
        self, payment_intent_id: str | None, metadata: Mapping[str, str] | None = None
    ) -> str | None:
        """`for_payment`, reading a failed Stripe lookup as "not known (yet)": for callers
        whose fallback (hold the refund, leave it to the checkout's own events) is safe."""
        try:
            return await self.for_payment(payment_intent_id, metadata)
        except StripeLookupFailed:
            return None
