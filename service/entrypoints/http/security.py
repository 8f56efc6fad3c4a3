"""Auth as FastAPI dependencies, declared as OpenAPI security schemes.

The schemes never reject on their own (`auto_error=False`); `service.entrypoints.auth` decides, so a
missing secret gives 503 naming the variable before anything else, and every refusal has
the one error shape. When both headers are sent, `Authorization: Bearer` is the one used.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from service.config import Role
from service.entrypoints.auth import Principal, check_cron, check_staff, check_storefront
from service.entrypoints.context import Services, get_services
from service.entrypoints.rate_limits import address_client, key_client, too_many

_storefront_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="storefrontBearer",
    description="A storefront key from STOREFRONT_API_KEY.",
)
_storefront_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="storefrontApiKey",
    description="A storefront key from STOREFRONT_API_KEY.",
)
_cron_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="cronBearer",
    description="CRON_SECRET (Vercel Cron sends it as `Authorization: Bearer`).",
)
_staff_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="staffBearer",
    description="The key part of a `name:role:key` entry of ADMIN_API_KEYS.",
)
_staff_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="staffApiKey",
    description="The key part of a `name:role:key` entry of ADMIN_API_KEYS.",
)

Bearer = HTTPAuthorizationCredentials | None


def _presented(bearer: Bearer, api_key: str | None) -> str | None:
    if bearer is not None and bearer.credentials.strip():
        return bearer.credentials.strip()
    if api_key is not None and api_key.strip():
        return api_key.strip()
    return None


async def storefront_caller(
    services: Annotated[Services, Depends(get_services)],
    bearer: Annotated[Bearer, Security(_storefront_bearer)],
    api_key: Annotated[str | None, Security(_storefront_header)],
) -> Principal:
    key = _presented(bearer, api_key)
    principal = check_storefront(services.storefront_keys, key)
    if services.storefront_limit is not None and key is not None:
        wait = services.storefront_limit.take(key_client(key))
        if wait is not None:
            raise too_many(wait, "storefront key")
    return principal


async def public_caller(
    request: Request, services: Annotated[Services, Depends(get_services)]
) -> None:
    """Rate-limits an unauthenticated route per caller address."""
    if services.public_limit is None:
        return
    peer = request.client.host if request.client else None
    headers = {k: v for k, v in request.headers.items() if k.endswith("forwarded-for")}
    wait = services.public_limit.take(address_client(headers, peer))
    if wait is not None:
        raise too_many(wait, "address")


async def cron_caller(
    services: Annotated[Services, Depends(get_services)],
    bearer: Annotated[Bearer, Security(_cron_bearer)],
) -> Principal:
    return check_cron(services.cron_secret, _presented(bearer, None))


def staff_caller(allowed: frozenset[Role]) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting staff keys whose role is in `allowed` (401 / 403 otherwise)."""

    async def caller(
        services: Annotated[Services, Depends(get_services)],
        bearer: Annotated[Bearer, Security(_staff_bearer)],
        api_key: Annotated[str | None, Security(_staff_header)],
    ) -> Principal:
        staff = services.staff_keys
        return check_staff(staff.keys, _presented(bearer, api_key), allowed, problem=staff.problem)

    return caller


Storefront = Annotated[Principal, Depends(storefront_caller)]
Public = Annotated[None, Depends(public_caller)]
Cron = Annotated[Principal, Depends(cron_caller)]
