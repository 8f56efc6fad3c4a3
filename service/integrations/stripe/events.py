"""One verified Stripe event -> one engine decision, exactly once, in any order.

Exactly once: every effect is an engine operation that takes two idempotency keys, one for
the event id and one for the object id + effect (Stripe sometimes sends one change as two
events), whose records are created in the same transaction as the effect. The operations
are also state machines (a reservation is committed once, released once, restored once per
refund), so a duplicate that arrives while the first delivery runs, or an event that
announces something another event already did, replays instead of acting again.

Errors: a store outage, rate limit or exhausted conflict retries propagates (the route
answers 5xx and Stripe retries); what can never succeed (an unknown session) is answered
200 with an errorLog for a person.

Orders converge: see the README's Webhooks section for the table the tests check.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from service.engine import (
    IdempotencyKeyReused,
    Inventory,
    InventoryError,
    ReservationNotActive,
    ReservationNotFound,
    RetryLater,
    commit_paid,
)
from service.integrations.outcome import Outcome
from service.integrations.stripe.gateway import StripeGateway
from service.integrations.stripe.payloads import (
    Charge,
    CheckoutSession,
    PaymentIntent,
    Refund,
    StripeEvent,
    session_in_metadata,
)
from service.integrations.stripe.refunds import RefundHandler
from service.integrations.stripe.sessions import SessionFinder, hold_of

log = logging.getLogger("stocksync.stripe")


def _mode(live: bool) -> str:
    return "live" if live else "test"


def event_keys(event: StripeEvent) -> list[str]:
    """The event id, and the object id + effect (the event type names the effect)."""
    keys = [f"stripe-event:{event.id}"]
    if event.object_id:
        keys.append(f"stripe-object:{event.type}:{event.object_id}")
    return keys


async def commit_paid_session(
    inventory: Inventory,
    session_id: str,
    payment_ref: str,
    *,
    idempotency_keys: list[str] | None = None,
) -> Outcome:
    """Commit a paid checkout and apply refunds that were waiting for it.

    Raises `ReservationNotFound` when the session never reserved anything.
    """
    result, held = await commit_paid(
        inventory, session_id, payment_ref, idempotency_keys=idempotency_keys or []
    )
    units = sum(item.quantity for item in result.committed)
    if result.replayed:
        outcome = Outcome(
            "already_committed", f"Session {session_id} was committed before.", session_id
        )
    elif result.shortfall:
        missing = sum(line.missing for line in result.shortfall)
        outcome = Outcome(
            "committed_with_shortfall",
            f"Session {session_id} paid: {units} unit(s) deducted, {missing} missing "
            "(critical errorLog written).",
            session_id,
        )
    else:
        outcome = Outcome(
            "committed_late" if result.late else "committed",
            f"Session {session_id} paid: {units} unit(s) deducted"
            + (" from available stock (the hold had ended)." if result.late else "."),
            session_id,
        )
    for reference in held.applied:
        outcome.more.append(
            Outcome("held_refund_applied", f"Held refund {reference} applied.", session_id)
        )
    return outcome


class StripeEventHandler:
    """Decides what each event means for stock and runs it through the engine."""

    def __init__(
        self,
        inventory: Inventory,
        gateway: StripeGateway | None = None,
        *,
        livemode: bool | None = None,
    ) -> None:
        """`livemode`: the mode events must be in (None: either)."""
        self.inventory = inventory
        self.livemode = livemode
        self.finder = SessionFinder(inventory, gateway)
        self.refunds = RefundHandler(inventory, self.finder)
        self._handlers: dict[str, Callable[[StripeEvent], Awaitable[Outcome]]] = {
            "checkout.session.completed": self._checkout_completed,
            "checkout.session.async_payment_succeeded": self._checkout_paid,
            "checkout.session.async_payment_failed": self._checkout_ended,
            "checkout.session.expired": self._checkout_ended,
            "payment_intent.succeeded": self._intent_succeeded,
            "payment_intent.payment_failed": self._intent_failed,
            "payment_intent.canceled": self._intent_canceled,
            "charge.refunded": self._charge_refunded,
            "refund.created": self._refund,
            "refund.updated": self._refund,
            "refund.failed": self._refund,
            "charge.refund.updated": self._refund,
        }

    async def handle(self, event: StripeEvent) -> Outcome:
        if event.thin:
            log.info("thin Stripe event %s (%s) ignored", event.id, event.type)
            return Outcome("ignored", f"{event.type} is a thin event; stocksync reads none.")
        if (
            self.livemode is not None
            and event.livemode is not None
            and event.livemode != self.livemode
        ):
            log.warning(
                "Stripe event %s is a %s-mode event; this service takes %s-mode events",
                event.id,
                _mode(event.livemode),
                _mode(self.livemode),
            )
            return Outcome(
                "ignored_wrong_mode",
                f"{event.type} is a {_mode(event.livemode)}-mode event; this service "
                f"takes {_mode(self.livemode)}-mode events only.",
            )
        handler = self._handlers.get(event.type)
        if handler is None:
            return Outcome("ignored", f"{event.type} does not concern stock.")
        try:
            return await handler(event)
        except RetryLater:
            raise
        except IdempotencyKeyReused:
            return Outcome("duplicate", f"Event {event.id} was handled before.")
        except InventoryError as exc:
            # Retrying cannot change the answer: tell a person, and Stripe that we are done.
            await self.inventory.log_error(
                "webhook_processing",
                "high",
                f"Stripe {event.type} {event.id} could not be applied: {exc.message}",
                details={"eventId": event.id, "code": exc.code, **exc.details},
                dedupe_key=f"stripe-event-failed:{event.id}",
            )
            return Outcome("logged", f"Could not be applied ({exc.code}); logged.")

    # -- checkout sessions ---------------------------------------------------------------

    async def _checkout_completed(self, event: StripeEvent) -> Outcome:
        session = await self._checkout(event)
        if session is None:
            return Outcome("ignored", "The checkout session has no id.")
        if session.paid:
            return await self._commit(event, session.id, session.payment_ref)
        if session.payment_intent_id is None:
            return Outcome(
                "awaiting_payment",
                f"Session {session.id} is {session.payment_status}; the hold is kept.",
                session.id,
            )
        try:
            result = await self.inventory.record_payment_intent(
                session.id, session.payment_intent_id
            )
        except ReservationNotFound:
            return await self._unknown_session(event, session.id)
        return Outcome(
            "payment_pending",
            f"Session {session.id} awaits a delayed payment ({session.payment_intent_id}); "
            f"the hold is kept until {result.expires_at.isoformat()}.",
            session.id,
        )

    async def _checkout_paid(self, event: StripeEvent) -> Outcome:
        session = await self._checkout(event)
        if session is None:
            return Outcome("ignored", "The checkout session has no id.")
        return await self._commit(event, session.id, session.payment_ref)

    async def _checkout_ended(self, event: StripeEvent) -> Outcome:
        session = await self._checkout(event)
        if session is None:
            return Outcome("ignored", "The checkout session has no id.")
        return await self._release(event, session.id)

    async def _checkout(self, event: StripeEvent) -> CheckoutSession | None:
        """The event's Checkout Session, its `id` replaced by the id its hold is under (the
        storefront's `client_reference_id` when it reserved under its own cart id)."""
        session = CheckoutSession.parse(event.obj)
        if session is None:
            return None
        hold = await hold_of(self.inventory, session)
        return session if hold == session.id else replace(session, id=hold)

    # -- payment intents -----------------------------------------------------------------

    async def _intent_succeeded(self, event: StripeEvent) -> Outcome:
        intent = PaymentIntent.parse(event.obj)
        if intent is None:
            return Outcome("ignored", "The payment intent has no id.")
        session = await self._session_of(intent)
        if session is None:
            return Outcome(
                "left_to_checkout_event",
                f"No checkout session known for {intent.id}; the checkout event commits it.",
            )
        try:
            return await commit_paid_session(
                self.inventory, session, intent.id, idempotency_keys=event_keys(event)
            )
        except ReservationNotFound:
            return Outcome(
                "left_to_checkout_event",
                f"Session {session} has no reservation; the checkout event reports it.",
                session,
            )

    async def _intent_failed(self, event: StripeEvent) -> Outcome:
        """Recorded only: Checkout lets the customer try again in the same session."""
        intent = PaymentIntent.parse(event.obj)
        if intent is None:
            return Outcome("ignored", "The payment intent has no id.")
        session = session_in_metadata(intent.metadata)
        await self.inventory.log_error(
            "webhook_processing",
            "low",
            f"Payment attempt failed for {intent.id}"
            + (f" ({intent.failure_code})" if intent.failure_code else "")
            + "; the hold stays until the checkout is paid or expires.",
            details={
                "eventId": event.id,
                "paymentIntentId": intent.id,
                "code": intent.failure_code,
                "message": intent.failure_message,
            },
            session_id=session,
            dedupe_key=f"stripe-event:{event.id}",
        )
        return Outcome("recorded", f"Failed attempt on {intent.id} recorded; hold kept.", session)

    async def _intent_canceled(self, event: StripeEvent) -> Outcome:
        intent = PaymentIntent.parse(event.obj)
        if intent is None:
            return Outcome("ignored", "The payment intent has no id.")
        session = await self._session_of(intent)
        if session is None:
            return Outcome(
                "nothing_to_release",
                f"No checkout session known for {intent.id}; its expiry releases the hold.",
            )
        return await self._release(event, session)

    # -- refunds ---------------------------------------------------------------------------

    async def _charge_refunded(self, event: StripeEvent) -> Outcome:
        charge = Charge.parse(event.obj)
        if charge is None:
            return Outcome("ignored", "The charge has no id.")
        return await self.refunds.charge_refunded(event, charge)

    async def _refund(self, event: StripeEvent) -> Outcome:
        refund = Refund.parse(event.obj)
        if refund is None:
            return Outcome("ignored", "The refund has no id.")
        return await self.refunds.refund_event(event, refund)

    # -- shared ----------------------------------------------------------------------------

    async def _session_of(self, intent: PaymentIntent) -> str | None:
        # Unknown (or Stripe unreachable): left to the checkout session's own events, which
        # name the session.
        return await self.finder.known_for_payment(intent.id, intent.metadata)

    async def _commit(self, event: StripeEvent, session_id: str, payment_ref: str) -> Outcome:
        try:
            return await commit_paid_session(
                self.inventory, session_id, payment_ref, idempotency_keys=event_keys(event)
            )
        except ReservationNotFound:
            return await self._unknown_session(event, session_id)

    async def _release(self, event: StripeEvent, session_id: str) -> Outcome:
        try:
            result = await self.inventory.release(session_id, idempotency_keys=event_keys(event))
        except ReservationNotFound:
            return Outcome(
                "nothing_to_release", f"Session {session_id} never reserved stock.", session_id
            )
        except ReservationNotActive as exc:
            return Outcome(
                "nothing_to_release", f"Session {session_id} is {exc.status}.", session_id
            )
        if result.replayed:
            return Outcome(
                "already_released", f"Session {session_id} was released before.", session_id
            )
        units = sum(item.quantity for item in result.released)
        return Outcome("released", f"Session {session_id}: {units} unit(s) released.", session_id)

    async def _unknown_session(self, event: StripeEvent, session_id: str) -> Outcome:
        await self.inventory.log_error(
            "webhook_processing",
            "high",
            f"Stripe {event.type} for checkout session {session_id}, which reserved no stock: "
            "nothing was deducted. Check the order and adjust stock by hand if needed.",
            details={"eventId": event.id, "eventType": event.type},
            session_id=session_id,
            dedupe_key=f"unknown-session:{session_id}:{event.type}",
        )
        return Outcome(
            "unknown_session",
            f"Session {session_id} has no reservation; logged for a person.",
            session_id,
        )
