"""Stripe event payloads as an endpoint on the service's API version receives them, built
from Stripe's published fixture objects (`tests.support.stripe`; tests skip without them)
and signed with the stripe library's own test helper."""

from __future__ import annotations

from typing import Any

from tests.support.stripe import events, objects

WEBHOOK_SECRET = "whsec_test_secret"
OLD_WEBHOOK_SECRET = "whsec_old_secret"
STRIPE_KEY = "sk_test_stocksync"


def event(
    event_id: str, event_type: str, obj: dict[str, Any], *, api_version: str | None = None
) -> str:
    return events.payload(
        events.event(
            event_type,
            obj,
            event_id=event_id,
            api_version=api_version or events.CURRENT_API_VERSION,
        )
    )


def sign(payload: str, secret: str = WEBHOOK_SECRET, *, age_seconds: int = 0) -> str:
    return events.signature(payload, secret, age_seconds=age_seconds)


def checkout_session(
    session_id: str,
    *,
    payment_status: str = "paid",
    payment_intent: str | None = "pi_1",
    status: str = "complete",
    metadata: dict[str, str] | None = None,
    client_reference_id: str | None = None,
) -> dict[str, Any]:
    return objects.checkout_session(
        session_id,
        status=status,
        payment_status=payment_status,
        payment_intent=payment_intent,
        metadata=metadata,
        client_reference_id=client_reference_id,
    )


def payment_intent(
    intent_id: str = "pi_1",
    *,
    status: str = "succeeded",
    metadata: dict[str, str] | None = None,
    decline_code: str | None = None,
) -> dict[str, Any]:
    return objects.payment_intent(
        intent_id, status=status, metadata=metadata, decline_code=decline_code
    )


def refund(
    refund_id: str,
    *,
    amount: int = 2500,
    payment_intent: str | None = "pi_1",
    charge: str = "ch_1",
    status: str = "succeeded",
    lines: list[dict[str, Any]] | None = None,
    raw_lines: str | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    meta = dict(metadata or {})
    if raw_lines is not None:
        meta[objects.LINES_KEY] = raw_lines
    return objects.refund(
        refund_id,
        charge=charge,
        payment_intent=payment_intent,
        amount=amount,
        status=status,
        lines=lines,
        metadata=meta,
    )


def charge(
    charge_id: str = "ch_1",
    *,
    payment_intent: str | None = "pi_1",
    amount: int = 5000,
    amount_refunded: int = 5000,
    refunds: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A refunded charge; `refunds` listed only when given (as API versions before
    2022-11-15 did)."""
    return objects.charge(
        charge_id,
        payment_intent=payment_intent,
        amount=amount,
        amount_refunded=amount_refunded,
        refunds=refunds,
    )
