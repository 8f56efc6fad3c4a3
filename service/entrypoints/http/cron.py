"""Vercel Cron routes (GET with `Authorization: Bearer $CRON_SECRET`).

Both jobs are idempotent and bounded, because Vercel does not retry a failed run; what each
does is `service.engine.operations.housekeeping`'s, shared with the staff route and the CLI.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from schemas.base import Timestamp
from schemas.operations import ReconcileResult
from service.engine import CleanupReport, HeldRefundsReport, run_cleanup, run_reconcile
from service.entrypoints.context import Services, get_services
from service.entrypoints.http.base_models import ResponseModel
from service.entrypoints.http.error_responses import error_responses
from service.entrypoints.http.security import Cron
from service.entrypoints.http.stripe_client import stripe_gateway
from service.integrations.stripe.session_expiry import SessionsEnded, end_checkout_sessions

router = APIRouter(prefix="/api/cron", tags=["cron"])

ServicesDep = Annotated[Services, Depends(get_services)]


class CleanupJob(ResponseModel):
    success: Literal[True] = True
    job: Literal["cleanup"] = "cleanup"
    cleanup: CleanupReport
    checkout_sessions: SessionsEnded = Field(
        description="The Checkout Sessions of the expired holds, expired at Stripe "
        "(with STRIPE_SECRET_KEY)."
    )
    timestamp: Timestamp


class ReconcileJob(ResponseModel):
    success: Literal[True] = True
    job: Literal["reconcile"] = "reconcile"
    reconcile: ReconcileResult
    held_refunds: HeldRefundsReport
    timestamp: Timestamp


@router.get(
    "/cleanup",
    response_model=CleanupJob,
    summary="Expire overdue holds and purge old idempotency records and error logs",
    responses=error_responses(401, 503),
)
async def cleanup(request: Request, services: ServicesDep, caller: Cron) -> CleanupJob:
    report = await run_cleanup(services.inventory)
    ended = await end_checkout_sessions(
        stripe_gateway(request, services),
        services.inventory,
        report.expired,
        sleep=services.inventory.executor.sleep,
    )
    return CleanupJob(cleanup=report, checkout_sessions=ended, timestamp=services.clock())


@router.get(
    "/reconcile",
    response_model=ReconcileJob,
    summary="Repair reserved counters from the reservations, then apply held refunds",
    responses=error_responses(401, 503),
)
async def reconcile(services: ServicesDep, caller: Cron) -> ReconcileJob:
    report = await run_reconcile(services.inventory)
    return ReconcileJob(
        reconcile=report.reconcile, held_refunds=report.held_refunds, timestamp=services.clock()
    )
