"""Release: give a hold back, all of it or some of its lines."""

from __future__ import annotations

from collections.abc import Sequence

from schemas.ids import reservation_id
from schemas.operations import LineRequest, ReleaseRequest, ReleaseResult
from service.engine.model.plan import Plan
from service.engine.operations.context import EngineContext, build_request
from service.engine.planners.lifecycle import plan_release
from service.engine.unit_of_work.executor import Attempt
from service.engine.unit_of_work.idempotency import record_ids


async def release(
    ctx: EngineContext,
    session_id: str,
    lines: Sequence[LineRequest] | None = None,
    *,
    idempotency_keys: Sequence[str] = (),
) -> ReleaseResult:
    """See `Inventory.release`."""
    request = build_request(
        ReleaseRequest, session_id=session_id, lines=list(lines) if lines else None
    )
    ctx.check_line_count(request.lines)
    rid = reservation_id(session_id)

    async def step(att: Attempt) -> Plan[ReleaseResult]:
        await ctx.read_reservation(att, rid, creates=record_ids(idempotency_keys))
        return ctx.keyed(
            att,
            idempotency_keys,
            "release",
            request,
            ReleaseResult,
            lambda plan: plan_release(plan, request, rid),
        )

    return await ctx.executor.run(
        "release", step, after_write=ctx.remember_holds, lock=ctx.hold_lock(rid), warm=True
    )
