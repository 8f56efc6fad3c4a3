"""Who may call what: storefront key, cron secret, staff keys with roles.

Every check fails closed: a route whose secret is not configured answers 503 naming the
missing variable, never opens. Secrets are compared with `hmac.compare_digest`, and every
configured key is compared (no early exit) so timing does not tell which key came close.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import StrEnum

from service.entrypoints.errors import ApiError


class Role(StrEnum):
    ADMIN = "admin"
    INVENTORY_MANAGER = "inventory_manager"
    CUSTOMER_SERVICE = "customer_service"


@dataclass(frozen=True)
class StaffKey:
    name: str
    role: Role
    key: str


@dataclass(frozen=True)
class Principal:
    """The caller a request was authenticated as; `name` becomes the ledger's `actor`."""

    name: str
    role: Role | None = None


def parse_key_list(raw: str | None) -> list[str]:
    """`STOREFRONT_API_KEY` may hold several comma-separated keys, so keys can be rotated."""
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def parse_staff_keys(raw: str | None) -> list[StaffKey]:
    """Parse `ADMIN_API_KEYS`: comma-separated `name:role:key` entries."""
    keys: list[StaffKey] = []
    # Problems name entries by position: a malformed entry may be a bare key.
    for position, entry in enumerate(parse_key_list(raw), start=1):
        parts = entry.split(":", 2)
        if len(parts) != 3 or not all(p.strip() for p in parts):
            raise ValueError(f"ADMIN_API_KEYS entry {position} must be name:role:key")
        name, role, key = (p.strip() for p in parts)
        try:
            keys.append(StaffKey(name=name, role=Role(role), key=key))
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise ValueError(
                f"ADMIN_API_KEYS entry {position} ({name}) has an unknown role; roles are {allowed}"
            ) from None
    return keys


def _matches(candidate: str, secret: str) -> bool:
    return hmac.compare_digest(candidate.encode(), secret.encode())


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def not_configured(variable: str, problem: str | None = None) -> ApiError:
    # The problem itself goes to the server log only: it may describe a secret.
    message = (
        f"This route is disabled: {variable} is set but malformed (see the server log)."
        if problem
        else f"This route is disabled until {variable} is set on the server."
    )
    return ApiError(503, "not_configured", message, details={"variable": variable})


def _unauthorized(what: str) -> ApiError:
    return ApiError(
        401, "unauthorized", f"Missing or invalid {what}.", headers={"WWW-Authenticate": "Bearer"}
    )


def check_storefront(keys: list[str], presented: str | None) -> Principal:
    if not keys:
        raise not_configured("STOREFRONT_API_KEY")
    if presented is None:
        raise _unauthorized("storefront API key (Authorization: Bearer or X-API-Key)")
    # Compare against every key so the time taken does not depend on which one matched.
    matched = [_matches(presented, key) for key in keys]
    if not any(matched):
        raise _unauthorized("storefront API key (Authorization: Bearer or X-API-Key)")
    return Principal(name="storefront")


def check_cron(secret: str | None, presented: str | None) -> Principal:
    if not secret:
        raise not_configured("CRON_SECRET")
    if presented is None or not _matches(presented, secret):
        raise _unauthorized("cron secret (Authorization: Bearer)")
    return Principal(name="cron")


def check_staff(
    keys: list[StaffKey],
    presented: str | None,
    allowed: frozenset[Role],
    *,
    problem: str | None = None,
) -> Principal:
    """`problem`: why `ADMIN_API_KEYS` was refused when it was set but malformed; the staff
    routes then stay closed (503) while the rest of the service keeps working."""
    if problem is not None:
        raise not_configured("ADMIN_API_KEYS", problem)
    if not keys:
        raise not_configured("ADMIN_API_KEYS")
    if presented is None:
        raise _unauthorized("staff API key (Authorization: Bearer or X-API-Key)")
    found: StaffKey | None = None
    for staff in keys:
        if _matches(presented, staff.key) and found is None:
            found = staff
    if found is None:
        raise _unauthorized("staff API key (Authorization: Bearer or X-API-Key)")
    if found.role not in allowed:
        needed = " or ".join(sorted(r.value for r in allowed))
        raise ApiError(
            403,
            "forbidden",
            f"Staff key {found.name!r} has role {found.role.value}; this needs {needed}.",
            details={"role": found.role.value, "allowed": sorted(r.value for r in allowed)},
        )
    return Principal(name=found.name, role=found.role)


ANY_STAFF = frozenset(Role)
MANAGERS = frozenset({Role.ADMIN, Role.INVENTORY_MANAGER})
ADMINS = frozenset({Role.ADMIN})
