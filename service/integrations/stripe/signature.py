"""Verify a Stripe delivery with the stripe library, on the raw request body.

`stripe` is imported here, on the first delivery, not when the app starts: it is the
largest import of the service and only this route and the Stripe lookups need it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from service.integrations.errors import bad_payload, bad_signature
from service.integrations.stripe.payloads import StripeEvent

#: Seconds a signature stays valid (Stripe's own default; each retry is signed anew).
TOLERANCE_SECONDS = 300
#: A real header is `t=<10 digits>,v1=<64 hex>[,v1=...][,v0=<64 hex>]` (~150 characters,
#: two `v1` while a secret is rolled). A longer one, a `t=` of more than 12 digits or any
#: character outside printable ASCII is refused before the stripe library parses it: it
#: compared non-ASCII signatures with `hmac.compare_digest`, which raised TypeError (a 500).
MAX_HEADER_LENGTH = 1024
_ELEMENT = re.compile(r"t=[0-9]{1,12}|v[0-9]=[0-9a-zA-Z]{1,128}|[a-z0-9_]{1,20}=[\x21-\x7e]{0,128}")
#: Largest Stripe delivery accepted: events of types stocksync ignores are answered 2xx up
#: to this size (a 413 would make Stripe retry them for days).
STRIPE_EVENT_MAX_BYTES = 1024 * 1024


def verify_stripe_event(
    payload: bytes, signature_header: str | None, secrets: Sequence[str]
) -> StripeEvent:
    """The verified event, or `WebhookRejected` (400) for a missing, bad or stale signature
    or an unreadable payload.

    Any `v1` signature in the header may match (Stripe signs with both secrets while one is
    rolled), and so may any of `secrets` (several endpoint secrets during a migration).
    """
    import stripe

    if not signature_header:
        raise bad_signature("The Stripe-Signature header is missing.")
    if not _well_formed(signature_header):
        raise bad_signature("The Stripe-Signature header is not t=<seconds>,v1=<signature>.")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_payload("The body is not UTF-8 text.") from None
    if not text.lstrip().startswith("{"):
        # stripe's event builder assumes a JSON object: a signed `[]` or `1` crashed it.
        raise bad_payload("The body is not a Stripe event (not a JSON object).")
    verified = False
    failure = "no configured secret matches the signature"
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(
                text, signature_header, secret, tolerance=TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError as exc:
            failure = str(exc.user_message or exc) or failure
            continue
        verified = True
        break
    if not verified:
        raise bad_signature(f"Invalid Stripe signature: {failure}.")
    # Parsed here, not by stripe's event builder: it refuses thin (v2) events, which are
    # signed the same way and answered 2xx like any event stocksync does not act on.
    try:
        data: Any = json.loads(text)
    except ValueError:
        raise bad_payload("The body is not a Stripe event (invalid JSON).") from None
    parsed = StripeEvent.from_dict(data) if isinstance(data, dict) else None
    if parsed is None:
        raise bad_payload("The event has no id, type or data.object.")
    return parsed


def _well_formed(header: str) -> bool:
    """Bounded, printable, and one `t=` with a sane number of digits (see MAX_HEADER_LENGTH)."""
    if len(header) > MAX_HEADER_LENGTH:
        return False
    elements = header.split(",")
    if not all(_ELEMENT.fullmatch(element.strip()) for element in elements):
        return False
    return sum(1 for element in elements if element.strip().startswith("t=")) == 1
