"""Transfer: move available units between two locations in one guarded transaction."""

from __future__ import annotations

from collections.abc import Sequence

from schemas.operations import TransferRequest, TransferResult
from service.engine.model.plan import Plan
from service.engine.operations.context import EngineContext, build_request
from service.engine.operations.locations import location_ids, read_locations
from service.engine.planners.transfer import plan_transfer
from service.engine.unit_of_work.executor import Attempt
from service.engine.unit_of_work.idempotency import record_ids


async def transfer(
    ctx: EngineContext,
    product_id: str,
    *,
    source: str,
    target: str,
    quantity: int,
    variant_key: str | None = None,
    size: str | None = None,
    actor: str = "system",
    note: str | None = None,
    idempotency_keys: Sequence[str] = (),
) -> TransferResult:
    """See `Inventory.transfer`."""
    request = build_request(
        TransferRequest,
        product_id=product_id,
        variant_key=variant_key,
        size=size,
        from_location=source,
        to_location=target,
        quantity=quantity,
        note=note,
        actor=actor,
    )
    found = await location_ids(ctx.store, [source, target])

    async def step(att: Attempt) -> Plan[TransferResult]:
        resolved = await att.read_products([product_id], also=record_ids(idempotency_keys))
        locations = await read_locations(att, found)
        return ctx.keyed(
            att,
            idempotency_keys,
            "transfer",
            request,
            TransferResult,
            lambda plan: plan_transfer(plan, request, resolved=resolved, locations=locations),
        )

    return await ctx.executor.run(
        "transfer", step, lock=[ctx.resolver.cached(product_id) or product_id]
    )
