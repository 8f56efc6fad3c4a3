"""The `sanity-webhook-signature` check, as @sanity/webhook signs, with replay protection.

Header: `t=<unix ms>,v1=<signature>`, where the signature is the base64url (no padding)
HMAC-SHA256 of `"<t>.<raw body>"` keyed with the webhook's secret. Sanity's own toolkit
compares strings and checks no age; here the comparison is constant-time and a timestamp
more than five minutes from now is refused, so a captured delivery cannot be replayed later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime, timedelta

from service.integrations.errors import WebhookRejected, bad_signature

HEADER = "sanity-webhook-signature"
MAX_AGE = timedelta(minutes=5)
#: Signatures dated before 2021-01-01 are malformed (the toolkit refuses them too).
EARLIEST_MS = 1_609_459_200_000

#: A real header is ~60 characters (13-digit ms timestamp, 43-character signature). Bounds
#: keep a stranger's header from costing anything: at most 15 timestamp digits (int() of a
#: 4,300-digit `t=` raised), a base64url signature of at most 100 characters.
MAX_HEADER_LENGTH = 200
_FORMAT = re.compile(r"t=([0-9]{1,15})[, ]+v1=([A-Za-z0-9_=+/-]{1,100})")


def signature(body: bytes, secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}.".encode() + body, hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(body: bytes, secret: str, timestamp_ms: int) -> str:
    """The header value Sanity would send (tests and local tools sign with it)."""
    return f"t={timestamp_ms},v1={signature(body, secret, timestamp_ms)}"


def verify_sanity_signature(
    body: bytes,
    header: str | None,
    secret: str,
    *,
    now: datetime | None,
    max_age: timedelta = MAX_AGE,
) -> None:
    """Raise `WebhookRejected` unless `header` signs `body` with `secret`.

    Malformed or missing header: 400; wrong signature or too old (or too far in the
    future) against `now`: 401. `now=None` skips the age check (for fixed test vectors).
    """
    if not header:
        raise bad_signature(f"The {HEADER} header is missing.")
    match = _FORMAT.fullmatch(header.strip()) if len(header) <= MAX_HEADER_LENGTH else None
    if match is None:
        raise bad_signature(f"The {HEADER} header is not t=<ms>,v1=<signature>.")
    timestamp_ms = int(match.group(1))
    if timestamp_ms < EARLIEST_MS:
        raise bad_signature(f"The {HEADER} timestamp is not in milliseconds.")
    expected = signature(body, secret, timestamp_ms)
    if not hmac.compare_digest(expected.encode("ascii"), match.group(2).encode("ascii")):
        raise WebhookRejected(401, "invalid_signature", "The Sanity webhook signature is wrong.")
    if now is not None:
        age_ms = abs(now.timestamp() * 1000 - timestamp_ms)
        if age_ms > max_age.total_seconds() * 1000:
            raise WebhookRejected(
                401,
                "stale_signature",
                f"The Sanity webhook signature is dated more than {max_age} from now.",
            )
