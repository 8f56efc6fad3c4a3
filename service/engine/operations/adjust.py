"""Adjust: change stock on hand of a product or variant, with a ledger entry."""

from __future__ import annotations

from collections.abc import Sequence

from schemas.operations import AdjustReason, AdjustRequest, AdjustResult
from service.engine.model.plan import Plan
from service.engine.operations.backorders import read_open_backorders
from service.engine.operations.context import EngineContext, build_request
from service.engine.operations.locations import location_ids, read_locations
from service.engine.operations.refunds import sale_named
from service.engine.planners.adjust import plan_adjust, validate_adjust
from service.engine.planners.refunds import count_return
from service.engine.unit_of_work.executor import Attempt
from service.engine.unit_of_work.idempotency import record_ids


async def adjust(
    ctx: EngineContext,
    product_id: str,
    *,
    reason: AdjustReason,
    set_to: int | None = None,
    delta: int | None = None,
    variant_key: str | None = None,
    size: str | None = None,
    actor: str = "system",
    note: str | None = None,
    reference: str | None = None,
    idempotency_keys: Sequence[str] = (),
    allow_below_reserved: bool = False,
    location: str | None = None,
) -> AdjustResult:
    """See `Inventory.adjust`."""
    request = build_request(
        AdjustRequest,
        product_id=product_id,
        variant_key=variant_key,
        size=size,
        set_to=set_to,
        delta=delta,
        reason=reason,
        actor=actor,
        note=note,
        allow_below_reserved=allow_below_reserved,
        reference=reference,
        location=location,
    )
    validate_adjust(request)
    found = await location_ids(ctx.store, [location]) if location else {}
    # A return naming a refund or a checkout counts on that sale (if it is one).
    sale = await sale_named(ctx, reference) if reason == "return" and reference else None

    async def step(att: Attempt) -> Plan[AdjustResult]:
        resolved = await att.read_products([product_id], also=record_ids(idempotency_keys))
        if sale is not None:
            await ctx.read_reservation(att, sale)
        owing = await read_open_backorders(att, ctx.store, resolved.get(product_id))
        locations = await read_locations(att, found)

        def body(plan: Plan[AdjustResult]) -> object:
            planned = plan_adjust(
                plan, request, resolved=resolved, backorders=owing, locations=locations
            )
            if sale is not None and planned.error is None and planned.result is not None:
                count_return(plan, sale, planned.result, reference or "")
            return planned

        return ctx.keyed(att, idempotency_keys, "adjust", request, AdjustResult, body)

    return await ctx.executor.run(
        "adjust", step, lock=[ctx.resolver.cached(product_id) or product_id]
    )
