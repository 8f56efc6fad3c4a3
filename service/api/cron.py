"""Vercel Cron routes (GET with `Authorization: Bearer $CRON_SECRET`).

Both jobs are idempotent and bounded, because Vercel does not retry a failed run. Neither is
needed for correctness: reserve reclaims expired holds itself, and reconcile only repairs
counters that something outside stocksync (a stale Studio publish) has bent. Reconcile also
applies refunds still held for a payment that has since been recorded by a path that does not
look for them (the payment's own webhook and the success page do).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import Field

from schemas.base import Timestamp
from schemas.operations import ReconcileResult
from service.api.base_models import ResponseModel
from service.api.context import Services, get_services
from service.api.error_responses import error_responses
from service.api.security import Cron
from service.maintenance import CleanupReport, run_cleanup
from service.webhooks.held_refunds import HeldRefundsReport, apply_held_refunds

router = APIRouter(prefix="/api/cron", tags=["cron"])

ServicesDep = Annotated[Services, Depends(get_services)]


class CleanupJob(ResponseModel):
    success: Literal[True] = True
    job: Literal["cleanup"] = "cleanup"
    cleanup: CleanupReport
    timestamp: Timestamp


class ReconcileJob(ResponseModel):
    success: Literal[True] = True
    job: Literal["reconcile"] = "reconcile"
    reconcile: ReconcileResult
    held_refunds: HeldRefundsReport = Field(
        description="Refunds that arrived before their payment, applied now that it is in."
    )
    timestamp: Timestamp


@router.get(
    "/cleanup",
    response_model=CleanupJob,
    summary="Expire overdue holds and purge old idempotency records and error logs",
    responses=error_responses(401, 503),
)
async def cleanup(services: ServicesDep, caller: Cron) -> CleanupJob:
    report = await run_cleanup(services.inventory)
    return CleanupJob(cleanup=report, timestamp=services.clock())


@router.get(
    "/reconcile",
    response_model=ReconcileJob,
    summary="Recompute reserved counters from the active reservations and repair drift",
    responses=error_responses(401, 503),
)
async def reconcile(services: ServicesDep, caller: Cron) -> ReconcileJob:
    result = await services.inventory.reconcile()
    held = await apply_held_refunds(services.inventory)
    return ReconcileJob(reconcile=result, held_refunds=held, timestamp=services.clock())
