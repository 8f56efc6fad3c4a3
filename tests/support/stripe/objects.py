"""Stripe API objects for tests: Stripe's own fixture object, with only the fields a test
is about set on top (ids, statuses, amounts, links, metadata).

Everything else (nesting, nulls, the dozens of fields stocksync never reads) is exactly what
Stripe's fixture has, so a parser that trips over a real object trips here too. Fields that
Stripe documents as conditional are set or removed the way the API reference describes:
`url` is null once a Checkout Session is no longer open; `charge.refunds` is absent since
API 2022-11-15; `failure_reason` appears on failed refunds; a payment intent in
`requires_payment_method` after a decline carries `last_payment_error`.
"""

from __future__ import annotations

import json
from typing import Any

from tests.support.stripe.reference import fixture

#: Unix time the objects are created at unless a test says otherwise (2026-11-21 12:00 UTC,
#: the start of tests/support/clock.ManualClock).
CREATED = 1_795_262_400
#: Stripe's default Checkout Session lifetime: 24 hours.
SESSION_LIFETIME = 24 * 3600
#: Refund metadata key naming the lines a refund puts back (see service refund_lines).
LINES_KEY = "stocksync_lines"


def checkout_session(
    session_id: str,
    *,
    status: str = "open",
    payment_status: str = "unpaid",
    payment_intent: str | None = None,
    client_reference_id: str | None = None,
    metadata: dict[str, str] | None = None,
    amount_total: int = 5000,
    currency: str = "usd",
    created: int = CREATED,
    expires_at: int | None = None,
    livemode: bool = False,
    payment_method_types: list[str] | None = None,
) -> dict[str, Any]:
    """A `checkout.session` in mode `payment`: `open`/`unpaid` until completed or expired."""
    obj = fixture("checkout.session")
    obj.update(
        id=session_id,
        status=status,
        payment_status=payment_status,
        payment_intent=payment_intent,
        client_reference_id=client_reference_id,
        metadata=dict(metadata or {}),
        amount_subtotal=amount_total,
        amount_total=amount_total,
        currency=currency,
        created=created,
        expires_at=expires_at if expires_at is not None else created + SESSION_LIFETIME,
        livemode=livemode,
        mode="payment",
        payment_method_types=list(payment_method_types or ["card"]),
    )
    obj["url"] = f"https://checkout.stripe.com/c/pay/{session_id}" if status == "open" else None
    return obj


def payment_intent(
    intent_id: str,
    *,
    status: str = "succeeded",
    amount: int = 5000,
    currency: str = "usd",
    metadata: dict[str, str] | None = None,
    latest_charge: str | None = None,
    decline_code: str | None = None,
    payment_method_types: list[str] | None = None,
    created: int = CREATED,
    livemode: bool = False,
) -> dict[str, Any]:
    """A `payment_intent`; `decline_code` gives it the `last_payment_error` of a declined card
    (status `requires_payment_method`, as after `payment_intent.payment_failed`)."""
    obj = fixture("payment_intent")
    obj.update(
        id=intent_id,
        status=status,
        amount=amount,
        amount_received=amount if status == "succeeded" else 0,
        amount_capturable=0,
        currency=currency,
        metadata=dict(metadata or {}),
        latest_charge=latest_charge,
        created=created,
        livemode=livemode,
        canceled_at=created if status == "canceled" else None,
        cancellation_reason="abandoned" if status == "canceled" else None,
        client_secret=f"{intent_id}_secret_test",
        next_action=None,
        processing=None,
        transfer_data=None,
        payment_method_types=list(payment_method_types or ["card"]),
        last_payment_error=None,
    )
    if status == "processing":
        obj["processing"] = {"type": obj["payment_method_types"][0]}
    if decline_code is not None:
        obj["last_payment_error"] = {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": decline_code,
            "message": "Your card was declined.",
        }
    return obj


def charge(
    charge_id: str,
    *,
    payment_intent: str | None,
    amount: int = 5000,
    amount_refunded: int = 0,
    currency: str = "usd",
    metadata: dict[str, str] | None = None,
    refunds: list[dict[str, Any]] | None = None,
    created: int = CREATED,
    livemode: bool = False,
) -> dict[str, Any]:
    """A captured `charge`. `refunds` lists its refunds the way API versions before
    2022-11-15 did; None leaves the field out, as every version since does."""
    obj = fixture("charge")
    obj.update(
        id=charge_id,
        payment_intent=payment_intent,
        amount=amount,
        amount_captured=amount,
        amount_refunded=amount_refunded,
        refunded=amount_refunded >= amount,
        captured=True,
        paid=True,
        status="succeeded",
        currency=currency,
        metadata=dict(metadata or {}),
        created=created,
        livemode=livemode,
    )
    obj.pop("refunds", None)
    return obj if refunds is None else with_refunds(obj, refunds)


def with_refunds(charge: dict[str, Any], refunds: list[dict[str, Any]]) -> dict[str, Any]:
    """`charge` listing `refunds` (newest first), as API versions before 2022-11-15 render it."""
    charge["refunds"] = {
        "object": "list",
        "data": refunds,
        "has_more": False,
        "url": f"/v1/charges/{charge['id']}/refunds",
    }
    return charge


def refund(
    refund_id: str,
    *,
    charge: str | None,
    payment_intent: str | None,
    amount: int = 5000,
    status: str = "succeeded",
    currency: str = "usd",
    metadata: dict[str, str] | None = None,
    lines: list[dict[str, Any]] | None = None,
    failure_reason: str | None = None,
    created: int = CREATED,
) -> dict[str, Any]:
    """A `refund`; `lines` are written to `metadata[stocksync_lines]` as the shop would."""
    obj = fixture("refund")
    meta = dict(metadata or {})
    if lines is not None:
        meta[LINES_KEY] = json.dumps(lines, separators=(",", ":"))
    obj.update(
        id=refund_id,
        charge=charge,
        payment_intent=payment_intent,
        amount=amount,
        status=status,
        currency=currency,
        metadata=meta,
        created=created,
        balance_transaction=f"txn_{refund_id[3:]}" if status != "pending" else None,
    )
    if status == "failed":
        obj["failure_reason"] = failure_reason or "unknown"
        obj["failure_balance_transaction"] = f"txn_fail_{refund_id[3:]}"
    if status == "requires_action":
        obj["next_action"] = {"type": "display_details", "display_details": None}
    return obj
