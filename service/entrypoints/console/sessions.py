"""Console sessions: who is signed in, until when, and the CSRF token of their forms.

A session is a signed cookie (`name`, `role`, a random session id, expiry, and a keyed
fingerprint of the staff key that opened it). It holds no secret, and it is accepted only
while `ADMIN_API_KEYS` still has that name with that role and that key, so rotating or
removing a key ends its sessions. The CSRF token is a MAC of the session id: bound to the
session, never stored, checked in constant time.

Before sign-in there is no session, so the sign-in form's token is bound to a short-lived
signed nonce cookie instead (which keeps a third-party page from signing a browser in).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from service.config import Role, StaffKey
from service.entrypoints.auth import ADMINS, MANAGERS
from service.entrypoints.console.signing import Signer

SESSION_COOKIE = "stocksync_console"
SIGN_IN_COOKIE = "stocksync_console_signin"
FLASH_COOKIE = "stocksync_console_flash"
COOKIE_PATH = "/console"
SIGN_IN_LIFETIME = timedelta(hours=1)
FLASH_LIFETIME = timedelta(minutes=2)


@dataclass(frozen=True)
class ConsoleSession:
    name: str
    role: Role
    session_id: str
    expires_at: datetime

    @property
    def can_adjust(self) -> bool:
        return self.role in MANAGERS

    @property
    def can_resolve(self) -> bool:
        """Resolving error logs and reconciling: admins, as in the API."""
        return self.role in ADMINS


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def find_staff_key(keys: list[StaffKey], presented: str) -> StaffKey | None:
    """The staff key `presented` is, compared with every key in constant time (no early
    exit), as the API compares them."""
    if not presented:
        return None
    found: StaffKey | None = None
    for staff in keys:
        if hmac.compare_digest(presented.encode(), staff.key.encode()) and found is None:
            found = staff
    return found


def open_session(
    signer: Signer, staff: StaffKey, *, now: datetime, lifetime: timedelta
) -> tuple[ConsoleSession, str]:
    """A new session for `staff` and its cookie value."""
    session = ConsoleSession(
        name=staff.name,
        role=staff.role,
        session_id=secrets.token_urlsafe(18),
        expires_at=now + lifetime,
    )
    token = signer.sign(
        "session",
        {
            "n": staff.name,
            "r": staff.role.value,
            "s": session.session_id,
            "e": _epoch(session.expires_at),
            "k": signer.fingerprint("staff-key", staff.key),
        },
    )
    return session, token


def read_session(
    signer: Signer, cookie: str | None, keys: list[StaffKey], *, now: datetime
) -> ConsoleSession | None:
    """The session of a cookie that is signed, unexpired and whose key is still configured."""
    payload = signer.unsign("session", cookie)
    if payload is None:
        return None
    name, role, session_id = payload.get("n"), payload.get("r"), payload.get("s")
    expires, key_print = payload.get("e"), payload.get("k")
    if not (
        isinstance(name, str)
        and isinstance(role, str)
        and isinstance(session_id, str)
        and isinstance(expires, int)
        and isinstance(key_print, str)
    ):
        return None
    if expires <= _epoch(now):
        return None
    # Compare with every key of that name and role (no early exit), as the API does.
    still_valid = [
        signer.matches("staff-key", staff.key, key_print)
        for staff in keys
        if staff.name == name and staff.role.value == role
    ]
    if not any(still_valid):
        return None
    return ConsoleSession(
        name=name,
        role=Role(role),
        session_id=session_id,
        expires_at=datetime.fromtimestamp(expires, tz=UTC),
    )


def csrf_token(signer: Signer, session_id: str) -> str:
    return signer.fingerprint("csrf", session_id)


def csrf_ok(signer: Signer, session_id: str, presented: str | None) -> bool:
    return signer.matches("csrf", session_id, presented)


def new_sign_in_nonce(signer: Signer, *, now: datetime) -> tuple[str, str]:
    """A nonce for the sign-in form and the cookie that carries it."""
    nonce = secrets.token_urlsafe(18)
    return nonce, signer.sign("sign-in", {"n": nonce, "e": _epoch(now + SIGN_IN_LIFETIME)})


def read_sign_in_nonce(signer: Signer, cookie: str | None, *, now: datetime) -> str | None:
    payload = signer.unsign("sign-in", cookie)
    if payload is None:
        return None
    nonce, expires = payload.get("n"), payload.get("e")
    if not isinstance(nonce, str) or not isinstance(expires, int) or expires <= _epoch(now):
        return None
    return nonce


def flash_cookie(signer: Signer, kind: str, text: str, *, now: datetime) -> str:
    """A one-time message for the next page (after a form's redirect)."""
    return signer.sign("flash", {"k": kind, "t": text[:500], "e": _epoch(now + FLASH_LIFETIME)})


def read_flash(signer: Signer, cookie: str | None, *, now: datetime) -> tuple[str, str] | None:
    payload = signer.unsign("flash", cookie)
    if payload is None:
        return None
    kind, text, expires = payload.get("k"), payload.get("t"), payload.get("e")
    if not isinstance(kind, str) or not isinstance(text, str) or not isinstance(expires, int):
        return None
    return (kind, text) if expires > _epoch(now) else None
