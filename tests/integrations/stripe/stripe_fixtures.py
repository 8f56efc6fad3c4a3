"""Stripe event payloads as an endpoint on a recent API version receives them, signed with
the stripe library's own test helper."""

from __future__ import annotations

import json
import time
from typing import Any

import stripe

WEBHOOK_SECRET = "whsec_test_secret"
OLD_WEBHOOK_SECRET = "whsec_old_secret"
STRIPE_KEY = "sk_test_stocksync"


def event(event_id: str, event_type: str, obj: dict[str, Any]) -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": 1_795_000_000,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
            "data": {"object": obj},
        }
    )


def sign(payload: str, secret: str = WEBHOOK_SECRET, *, age_seconds: int = 0) -> str:
    header: str = stripe.WebhookSignature.generate_signature_header(
        payload, secret, timestamp=int(time.time()) - age_seconds
    )
    return header


def checkout_session(
    session_id: str,
    *,
    payment_status: str = "paid",
    payment_intent: str | None = "pi_1",
    status: str = "complete",
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "id": session_id,
        "object": "checkout.session",
        "mode": "payment",
        "status": status,
        "payment_status": payment_status,
        "payment_intent": payment_intent,
        "amount_total": 5000,
        "currency": "usd",
        "metadata": metadata or {},
    }


def payment_intent(
    intent_id: str = "pi_1",
    *,
    status: str = "succeeded",
    metadata: dict[str, str] | None = None,
    error_code: str | None = None,
) -> dict[str, Any]:
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": 5000,
        "status": status,
        "metadata": metadata or {},
        "last_payment_error": (
            {"code": error_code, "message": "Your card was declined."} if error_code else None
        ),
    }


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
    if lines is not None:
        meta["stocksync_lines"] = json.dumps(lines)
    if raw_lines is not None:
        meta["stocksync_lines"] = raw_lines
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "charge": charge,
        "payment_intent": payment_intent,
        "status": status,
        "metadata": meta,
    }


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
    obj: dict[str, Any] = {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_refunded": amount_refunded,
        "refunded": amount_refunded >= amount,
        "payment_intent": payment_intent,
        "metadata": {},
    }
    if refunds is not None:
        obj["refunds"] = {"object": "list", "data": refunds, "has_more": False}
    return obj
