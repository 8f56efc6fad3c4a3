"""Who may call what: storefront key, cron secret, staff keys with roles.

Every check fails closed: a route whose secret is not configured answers 503 naming the
missing variable, never opens. Secrets are compared with `hmac.compare_digest`, and every
configured key is compared (no early exit) so timing does not tell which key came close.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from service.config import Role, StaffKey
from service.entrypoints.errors import ApiError


@dataclass(frozen=True)
class Principal:
    """The caller a request was authenticated as; `name` becomes the ledger's `actor`."""

    name: str
    role: Role | None = None


def _matches(candidate: str, secret: str) -> bool:
    return hmac.compare_digest(candidate.encode(), secret.encode())


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
