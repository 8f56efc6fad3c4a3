"""Record the payment intent of an unpaid checkout (delayed payment methods) on its hold."""

from __future__ import annotations

from datetime import timedelta

from schemas.operations import PaymentIntentResult
from service.engine.errors import ReservationNotFound
from service.engine.model import transitions
from service.engine.model.holds import load_reservation, save_reservation
from service.engine.model.plan import Plan


def plan_record_payment_intent(
    plan: Plan[PaymentIntentResult],
    session_id: str,
    reservation_id: str,
    payment_intent_id: str,
    *,
    hold: timedelta,
) -> Plan[PaymentIntentResult]:
    """Keep an active hold for `hold` longer (a bank debit settles in days), and remember
    the intent so `payment_intent.*` events can find the session."""
    reservation = load_reservation(plan, reservation_id)
    if reservation is None:
        return plan.fail(ReservationNotFound(session_id))
    updated = transitions.record_payment_intent(
        reservation, plan.now, payment_intent_id, hold_until=plan.now + hold
    )
    if updated != reservation:
        save_reservation(plan, updated)
    return plan.succeed(
        PaymentIntentResult(
            session_id=session_id,
            reservation_id=reservation_id,
            status=updated.status,
            payment_intent_id=payment_intent_id,
            expires_at=updated.expires_at,
        )
    )
