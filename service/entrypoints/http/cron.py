"""Vercel Cron routes (GET with `Authorization: Bearer $CRON_SECRET`).

Both jobs are idempotent and bounded, because Vercel does not retry a failed run; what each
does is `service.engine.operations.housekeeping`'s, shared with the staff route and the CLI.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

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
from service.read_models.stock_metrics import DEFAULT_WINDOW_DAYS
from service.read_models.stock_reports import reorder_report

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


class ReorderDigestJob(ResponseModel):
    success: Literal[True] = True
    job: Literal["reorder-digest"] = "reorder-digest"
    delivered: bool = Field(description="Whether the alert channel accepted the digest.")
    message: str | None = Field(default=None, description="Why nothing was sent, if so.")
    already_sent: bool = Field(
        default=False,
        description="True when today's digest (UTC day) was already sent, or is being sent "
        "by another run: it goes out once per day.",
    )
    count: int = Field(description="Lines at or below their reorder point.")
    digest: dict[str, Any] = Field(description="The message sent.")
    timestamp: Timestamp


@router.get(
    "/reorder-digest",
    response_model=ReorderDigestJob,
    summary="Send the daily digest of everything at or below its reorder point",
    responses=error_responses(401, 503),
)
async def reorder_digest(services: ServicesDep, caller: Cron) -> ReorderDigestJob:
    """Posts the reorder list (`GET /api/inventory/reorder`) to the alert channel
    (`LOW_STOCK_WEBHOOK_URL`), once per UTC day: a second run that day sends nothing and
    answers `alreadySent: true`. A digest the channel did not accept is not counted as sent
    (the next run sends it). Without a channel nothing is sent: `delivered` is false and
    `message` says why (the digest is still in the answer)."""
    now = services.clock()
    if services.reorder_alerts is None:
        # Imported here: the alert modules (and httpx) load only when needed.
        from service.integrations.alerts.reorder import digest_message

        report = await reorder_report(
            services.store,
            now=now,
            days=DEFAULT_WINDOW_DAYS,
            default_threshold=services.settings.low_stock_threshold,
        )
        payload = digest_message(report.items, at=now)
        return ReorderDigestJob(
            delivered=False,
            message="LOW_STOCK_WEBHOOK_URL is not set: there is no channel to send it to",
            count=payload["count"],
            digest=payload,
            timestamp=now,
        )
    sent = await services.reorder_alerts.digest(now=now)
    already = sent["already"]
    return ReorderDigestJob(
        delivered=sent["delivered"],
        already_sent=already is not None,
        message=None
        if already is None
        else "today's digest was already sent"
        if already == "sent"
        else "today's digest is being sent by another run",
        count=sent["payload"]["count"],
        digest=sent["payload"],
        timestamp=now,
    )
