"""Restore: put sold units back in stock (refund, cancellation or return), once per
reference."""

from __future__ import annotations

from collections.abc import Sequence

from schemas.ids import reservation_id
from schemas.operations import LineRequest, RestoreRequest, RestoreResult
from schemas.reservation import RestoreReason
from service.engine.model.plan import Plan
from service.engine.operations.context import EngineContext, build_request
from service.engine.planners.restore import plan_restore, restore_key
from service.engine.unit_of_work.executor import Attempt
from service.engine.unit_of_work.idempotency import record_ids


async def restore(
    ctx: EngineContext,
    session_id: str,
    lines: Sequence[LineRequest] | None = None,
    *,
    reference: str,
    reason: RestoreReason = "refund",
    idempotency_keys: Sequence[str] = (),
) -> RestoreResult:
    """See `Inventory.restore`."""
    request = build_request(
        RestoreRequest,
        session_id=session_id,
        reference=reference,
        reason=reason,
        lines=list(lines) if lines else None,
    )
    ctx.check_line_count(request.lines)
    rid = reservation_id(session_id)
    keys = [restore_key(rid, reference), *idempotency_keys]

    async def step(att: Attempt) -> Plan[RestoreResult]:
        await ctx.read_reservation(att, rid, also=record_ids(keys))
        return ctx.keyed(
            att,
            keys,
            "restore",
            request,
            RestoreResult,
            lambda plan: plan_restore(plan, request, rid),
        )

    return await ctx.executor.run(
        "restore", step, after_write=ctx.remember_holds, lock=ctx.hold_lock(rid)
    )
