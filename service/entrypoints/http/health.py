"""Liveness and inventory health."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from cms_client.errors import RateLimited, StoreUnavailable
from cms_client.errors import Unauthorized as StoreUnauthorized
from schemas.base import Timestamp, format_timestamp
from service.engine import CleanupReport, run_cleanup
from service.entrypoints.context import Services, get_services
from service.entrypoints.http.base_models import ResponseModel
from service.entrypoints.http.error_handlers import store_unavailable
from service.entrypoints.http.error_responses import error_responses
from service.entrypoints.http.security import Cron
from service.entrypoints.http.stripe_client import stripe_gateway
from service.integrations.stripe.session_expiry import SessionsEnded, end_checkout_sessions
from service.read_models.health import HealthReport, check_health

router = APIRouter(prefix="/api", tags=["health"])

ServicesDep = Annotated[Services, Depends(get_services)]


class Liveness(ResponseModel):
    status: Literal["ok"] = "ok"
    service: Literal["stocksync"] = "stocksync"
    timestamp: Timestamp


class CleanupResponse(ResponseModel):
    message: str = "Cleanup completed successfully"
    cleanup: CleanupReport
    checkout_sessions: SessionsEnded = Field(
        description="The Checkout Sessions of the expired holds, expired at Stripe "
        "(with STRIPE_SECRET_KEY)."
    )
    health_check: HealthReport
    timestamp: Timestamp


async def _health(services: Services) -> HealthReport:
    now = services.clock()
    try:
        return await check_health(
            services.store,
            now=now,
            grace=services.inventory.settings.expire_grace,
            uptime=services.uptime_seconds(),
            environment=services.settings.environment,
        )
    except (StoreUnavailable, RateLimited, StoreUnauthorized) as exc:
        # The contract's failed health check says `healthy: false`; keep that field.
        error = store_unavailable(exc)
        error.extra = {"healthy": False, "timestamp": format_timestamp(now)}
        raise error from exc


@router.get("/health", response_model=Liveness, summary="Liveness (no store call)")
async def health(services: ServicesDep) -> Liveness:
    return Liveness(timestamp=services.clock())


@router.get(
    "/inventory-health",
    response_model=HealthReport,
    summary="Inventory health: holds, error logs, oversold products (public)",
    responses=error_responses(503),
)
async def inventory_health(services: ServicesDep) -> HealthReport:
    """`healthy` is false when any issue is listed: an unresolved critical error log, an
    oversold product, more than 50 overdue holds, more than 20 error logs in the last hour,
    or more than 1000 active holds. One store query."""
    return await _health(services)


@router.post(
    "/inventory-health",
    response_model=CleanupResponse,
    summary="Run cleanup (expire overdue holds, purge old records), then check health",
    responses=error_responses(401, 503),
)
async def inventory_cleanup(
    request: Request, services: ServicesDep, caller: Cron
) -> CleanupResponse:
    cleanup = await run_cleanup(services.inventory)
    ended = await end_checkout_sessions(
        stripe_gateway(request, services),
        services.inventory,
        cleanup.expired,
        sleep=services.inventory.executor.sleep,
    )
    return CleanupResponse(
        cleanup=cleanup,
        checkout_sessions=ended,
        health_check=await _health(services),
        timestamp=services.clock(),
    )
