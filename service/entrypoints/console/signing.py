"""Signed tokens for the console: session cookies, CSRF tokens, flash messages.

HMAC-SHA256 with the server's secret. Each use signs under its own purpose, so a token made
for one use (a flash message, say) is never accepted as another (a session). Every check
compares in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the signing secret must be at least 16 bytes")
        self._secret = secret

    def _mac(self, purpose: str, data: bytes) -> bytes:
        return hmac.new(self._secret, purpose.encode() + b"\0" + data, hashlib.sha256).digest()

    def sign(self, purpose: str, payload: dict[str, Any]) -> str:
        """`payload` as a URL- and cookie-safe token: base64 JSON, a dot, the MAC."""
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(body)}.{_b64(self._mac(purpose, body))}"

    def unsign(self, purpose: str, token: str | None) -> dict[str, Any] | None:
        """The payload of a token signed for `purpose`, or None for anything else."""
        if not token or token.count(".") != 1 or len(token) > 4096:
            return None
        body_text, mac_text = token.split(".")
        try:
            body, mac = _unb64(body_text), _unb64(mac_text)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(mac, self._mac(purpose, body)):
            return None
        try:
            payload = json.loads(body)
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None

    def fingerprint(self, purpose: str, value: str) -> str:
        """A keyed digest of `value` (a staff key): binds a session to the key that opened
        it without the cookie carrying the key."""
        return _b64(self._mac(purpose, value.encode())[:18])

    def matches(self, purpose: str, value: str, presented: str | None) -> bool:
        if presented is None:
            return False
        return hmac.compare_digest(
            self.fingerprint(purpose, value).encode(), presented.encode("utf-8", "replace")
        )
