"""Which hold a payment intent (or its charge or refund) belongs to.

Payment-intent, charge and refund events do not name the checkout session. The hold is
found, first match wins, from:

1. the link stocksync recorded: the reservation that recorded the intent (`paymentIntentId`,
   from an unpaid `checkout.session.completed`) or was paid with it (`paymentRef`). A
   recorded link is never overridden by metadata;
2. stocksync's own metadata key (`stocksync_session_id`, set by a shop that creates payment
   intents itself). Generic keys (`session_id`, `checkout_session_id`) are never read: Stripe
   copies an intent's metadata onto its charges, Checkout writes none of them, and
   `session_id` is a common name for a shop's own web-session key;
3. with `STRIPE_SECRET_KEY`, Stripe itself: the Checkout Session listed for the intent, and
   the hold under its id or, for a storefront that reserved under its own cart id, under
   its `client_reference_id`.
"""

from __future__ import annotations

from collections.abc import Mapping

from service.engine import Inventory
from service.integrations.stripe.gateway import StripeGateway, StripeLookupFailed
from service.integrations.stripe.payloads import CheckoutSession, session_in_metadata


async def hold_of(inventory: Inventory, session: CheckoutSession) -> str:
    """The id the checkout's hold is under: the session id, or else the storefront's
    `client_reference_id` when a hold exists under that (one fresh read per candidate)."""
    keys = session.hold_keys
    if len(keys) == 1:
        return session.id
    for key in keys:
        if await inventory.reservation(key) is not None:
            return key
    return session.id


class SessionFinder:
    def __init__(self, inventory: Inventory, gateway: StripeGateway | None) -> None:
        self.inventory = inventory
        self.gateway = gateway

    async def for_payment(
        self, payment_intent_id: str | None, metadata: Mapping[str, str] | None = None
    ) -> str | None:
        """The hold of a payment; None when nothing says which it is.

        Raises `StripeLookupFailed` when Stripe had to be asked and could not answer.
        """
        if payment_intent_id is not None:
            recorded = await self.inventory.session_paid_with(payment_intent_id)
            if recorded is not None:
                return recorded
        named = session_in_metadata(metadata or {})
        if named is not None:
            return named
        if payment_intent_id is None or self.gateway is None:
            return None
        session = await self.gateway.session_for_payment_intent(payment_intent_id)
        return await hold_of(self.inventory, session) if session is not None else None

    async def known_for_payment(
        self, payment_intent_id: str | None, metadata: Mapping[str, str] | None = None
    ) -> str | None:
        """`for_payment`, reading a failed Stripe lookup as "not known (yet)": for callers
        whose fallback (hold the refund, leave it to the checkout's own events) is safe."""
        try:
            return await self.for_payment(payment_intent_id, metadata)
        except StripeLookupFailed:
            return None

    async def never_went_through_checkout(self, payment_intent_id: str | None) -> bool:
        """Whether Stripe says this payment has no Checkout Session (needs the key; an
        unanswered lookup is not taken as a no)."""
        if self.gateway is None or payment_intent_id is None:
            return False
        try:
            return await self.gateway.session_for_payment_intent(payment_intent_id) is None
        except StripeLookupFailed:
            return False
