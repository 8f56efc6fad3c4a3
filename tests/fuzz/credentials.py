"""Keys of the fuzzed app, and the credential each route expects with a request."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import schemathesis

from service.integrations.sanity import signature as sanity_signature

STOREFRONT_KEY = "fuzz-storefront-key"
CRON_SECRET = "fuzz-cron-secret-0123456789"
ADMIN_KEY = "fuzz-admin-key"
STRIPE_SECRET = "whsec_fuzz"
SANITY_SECRET = "fuzz-sanity-secret"

SETTINGS: dict[str, Any] = {
    "storefront_api_key": STOREFRONT_KEY,
    "cron_secret": CRON_SECRET,
    "admin_api_keys": f"fuzzer:admin:{ADMIN_KEY}",
    "stripe_webhook_secret": STRIPE_SECRET,
    "sanity_webhook_secret": SANITY_SECRET,
    # Never sent anywhere: the app is given a fake Stripe gateway (see `app.py`).
    "stripe_secret_key": "sk_test_fuzz",
}

#: Security scheme (as `/openapi.json` names it) -> the header that satisfies it.
_BEARERS = {
    "storefrontBearer": STOREFRONT_KEY,
    "staffBearer": ADMIN_KEY,
    "cronBearer": CRON_SECRET,
}


SIGNED_SCHEMES = frozenset({"stripeSignature", "sanitySignature"})


def raw_body(body: Any) -> bytes:
    """The bytes schemathesis sends for a JSON body (what a signature must cover).

    schemathesis hands a JSON body to `requests`, which encodes it with `json.dumps(...,
    allow_nan=False)`, and a `None` body as `null`; no body at all is signed as empty.
    """
    if isinstance(body, bytes):
        return body
    if isinstance(body, schemathesis.core.NotSet):
        return b""
    return json.dumps(body, allow_nan=False).encode("utf-8")


def stripe_signature(body: bytes, timestamp: int) -> str:
    """Stripe's `t=<s>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, over bytes: the fuzzer also
    sends bodies that are not UTF-8, which the stripe library's helper cannot sign."""
    digest = hmac.new(STRIPE_SECRET.encode(), b"%d." % timestamp + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def headers_for(schemes: list[str], body: bytes) -> dict[str, str]:
    """Valid credentials for the first scheme of a route (one is enough for any route)."""
    for scheme in schemes:
        if scheme in _BEARERS:
            return {"Authorization": f"Bearer {_BEARERS[scheme]}"}
        if scheme == "stripeSignature":
            return {"Stripe-Signature": stripe_signature(body, int(time.time()))}
        if scheme == "sanitySignature":
            stamp = int(time.time() * 1000)
            return {sanity_signature.HEADER: sanity_signature.sign(body, SANITY_SECRET, stamp)}
    return {}
