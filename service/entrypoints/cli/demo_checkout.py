"""`stocksync demo checkout`: a whole local checkout against a running demo, step by step.

What a shop and Stripe would do, over HTTP, with the demo's own secrets:

1. the storefront reserves the cart (`POST /api/reserve-stock` with the storefront key);
2. Stripe reports the payment: a `checkout.session.completed` event for that session, paid,
   signed with the demo's webhook secret by the stripe library's own helper, posted to
   `/api/stripe-webhook`;
3. with `--refund`, Stripe reports a full refund: `charge.refunded` for the payment.

The stock is read before and after each step (`GET /api/stock-status`). The event objects
carry the fields of Stripe's published fixtures (the `checkout.session`, `charge` and `event`
objects of stripe/openapi's fixtures3.json; a test compares them) with this checkout's ids.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from service.entrypoints.cli.demo_secrets import read_secrets, secrets_path

#: A made-up price per unit (in cents) for the amounts on the events.
UNIT_AMOUNT = 2500
CURRENCY = "eur"


class CheckoutFailed(Exception):
    """A step was refused; the message says which and why."""


@dataclass(frozen=True)
class CheckoutKeys:
    storefront: str
    stripe_webhook: str
    where: str  # where they were found, for messages


def find_keys(data_file: str | os.PathLike[str]) -> CheckoutKeys:
    """The storefront key and webhook secret: the environment's, else the demo's file."""
    stored = read_secrets(secrets_path(data_file))
    storefront = (os.environ.get("STOREFRONT_API_KEY") or "").split(",")[-1].strip()
    webhook = (os.environ.get("STRIPE_WEBHOOK_SECRET") or "").split(",")[0].strip()
    if stored is not None:
        storefront = storefront or stored.storefront
        webhook = webhook or stored.stripe_webhook
    if not storefront or not webhook:
        raise CheckoutFailed(
            f"no demo secrets in {secrets_path(data_file)} and STOREFRONT_API_KEY / "
            "STRIPE_WEBHOOK_SECRET are not set: run this from the folder where "
            "`stocksync serve --demo` runs (or pass --data), after starting it once"
        )
    return CheckoutKeys(storefront, webhook, str(secrets_path(data_file)))


def _id(prefix: str) -> str:
    return f"{prefix}_test_demo{secrets.token_hex(8)}"


def checkout_session_completed(
    session_id: str, payment_intent: str, amount: int, created: int
) -> dict[str, Any]:
    """The `data.object` of `checkout.session.completed` for a paid one-off payment."""
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": amount,
        "amount_total": amount,
        "client_reference_id": None,
        "created": created,
        "currency": CURRENCY,
        "customer": None,
        "customer_email": None,
        "expires_at": created + 24 * 3600,
        "livemode": False,
        "metadata": {},
        "mode": "payment",
        "payment_intent": payment_intent,
        "payment_method_types": ["card"],
        "payment_status": "paid",
        "status": "complete",
        "url": None,
    }


def charge_refunded(
    charge_id: str, payment_intent: str, amount: int, created: int
) -> dict[str, Any]:
    """The `data.object` of `charge.refunded` for a charge refunded in full."""
    return {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": amount,
        "captured": True,
        "created": created,
        "currency": CURRENCY,
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": payment_intent,
        "refunded": True,
        "status": "succeeded",
    }


def event(event_type: str, obj: dict[str, Any], created: int) -> dict[str, Any]:
    import stripe

    return {
        "id": _id("evt"),
        "object": "event",
        "api_version": stripe.api_version,
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def signed(evt: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    """The body and headers Stripe would send."""
    import stripe

    body = json.dumps(evt, separators=(",", ":"))
    header: str = stripe.WebhookSignature.generate_signature_header(
        body, secret, timestamp=int(time.time())
    )
    return body.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}


def _answer(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {"raw": response.text[:300]}


def _describe_stock(row: dict[str, Any], size: str | None) -> str:
    target = row
    if size is not None:
        for variant in row.get("variants") or []:
            if str(variant.get("size", "")).lower() == size.lower():
                target = variant
                break
        else:
            sizes = ", ".join(str(v.get("size")) for v in row.get("variants") or [])
            raise CheckoutFailed(f"{row.get('title')} has no size {size!r} (sizes: {sizes})")
    return (
        f"{target['totalStock']} in stock, {target['reservedStock']} reserved, "
        f"{target['availableStock']} available"
    )


def run_checkout(
    *,
    url: str,
    product: str,
    quantity: int,
    size: str | None,
    refund: bool,
    data_file: str | os.PathLike[str],
    say: Callable[[str], None] = print,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """Run the checkout, printing each step; raises CheckoutFailed when a step is refused."""
    keys = find_keys(data_file)
    base = url.rstrip("/")
    label = f"{quantity} × {product}" + (f" (size {size})" if size else "")
    with httpx.Client(base_url=base, timeout=15, transport=transport) as http:

        def stock(when: str) -> None:
            try:
                response = http.get("/api/stock-status", params={"productIds": product})
            except httpx.HTTPError as exc:
                raise CheckoutFailed(
                    f"cannot reach the demo at {base} ({exc}); start it with "
                    "`python3 uvw.py run --locked --no-dev stocksync serve --demo`"
                ) from None
            body = _answer(response)
            rows = body.get("stockStatus") or []
            if response.status_code != 200 or not rows:
                raise CheckoutFailed(f"no product {product!r} at {base}: {json.dumps(body)}")
            row = rows[0]
            say(f"   {when}: {row.get('title')} — {_describe_stock(row, size)}")

        def step(title: str, response: httpx.Response) -> dict[str, Any]:
            body = _answer(response)
            if response.status_code >= 300:
                say(f"   → {response.status_code} {json.dumps(body)}")
                raise CheckoutFailed(f"{title} was refused ({response.status_code})")
            return body

        session_id, intent, charge_id = _id("cs"), _id("pi"), _id("ch")
        amount = UNIT_AMOUNT * quantity
        say(f"Checkout of {label} against {base} (keys from {keys.where})")
        stock("stock before")

        say(f"1. The storefront reserves the cart for session {session_id}")
        line: dict[str, Any] = {"productId": product, "quantity": quantity}
        if size:
            line["size"] = size
        reserve = step(
            "the reservation",
            http.post(
                "/api/reserve-stock",
                json={"sessionId": session_id, "operations": [line]},
                headers={"Authorization": f"Bearer {keys.storefront}"},
            ),
        )
        say(f"   → held until {reserve.get('expiresAt')}")
        stock("stock now")

        now = int(time.time())
        say(
            "2. Stripe reports the payment: checkout.session.completed "
            f"(paid, {amount / 100:.2f} {CURRENCY.upper()}, payment {intent}), signed"
        )
        evt = event(
            "checkout.session.completed",
            checkout_session_completed(session_id, intent, amount, now),
            now,
        )
        body, headers = signed(evt, keys.stripe_webhook)
        paid = step(
            "the payment event", http.post("/api/stripe-webhook", content=body, headers=headers)
        )
        say(f"   → {paid.get('message') or json.dumps(paid)}")
        stock("stock after the sale")

        if refund:
            say(f"3. Stripe reports a full refund: charge.refunded ({charge_id}), signed")
            evt = event("charge.refunded", charge_refunded(charge_id, intent, amount, now), now)
            body, headers = signed(evt, keys.stripe_webhook)
            refunded = step(
                "the refund event", http.post("/api/stripe-webhook", content=body, headers=headers)
            )
            say(f"   → {refunded.get('message') or json.dumps(refunded)}")
            stock("stock after the refund")
        say(f"See it in the ledger: {base}/console (product {product}, ledger section)")


def default_data_file() -> Path:
    return Path(os.environ.get("STOCKSYNC_DATA") or "data/lake.sqlite3")
