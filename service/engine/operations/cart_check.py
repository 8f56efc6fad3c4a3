"""Cart check: would a reserve of these lines succeed right now? Nothing is held.

It reads the products fresh and asks the reserve planner itself (`judge_lines`), so a
cart check and the reserve that follows judge lines the same way: merged per product and
size, the same codes, the same messages. The reserve still re-checks on its own read.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from schemas.base import Model, Timestamp
from schemas.operations import LineOutcome, LineRequest
from service.engine.errors import InvalidRequest
from service.engine.model.plan import Plan
from service.engine.operations.context import EngineContext
from service.engine.planners.reserve import judge_lines
from service.engine.unit_of_work.executor import Attempt


class CartCheckResult(Model):
    lines: list[LineOutcome] = Field(description="One outcome per line, in order.")
    checked_at: Timestamp


async def check_cart(ctx: EngineContext, lines: Sequence[LineRequest]) -> CartCheckResult:
    """See `Inventory.check_cart`."""
    refs = list(dict.fromkeys(line.product_id for line in lines))
    if len(refs) > ctx.settings.status_max_products:
        raise InvalidRequest(
            f"at most {ctx.settings.status_max_products} different products", field="items"
        )
    executor = ctx.executor
    att = Attempt(ctx.store, ctx.resolver, now=executor.clock(), token=executor.token_factory())
    resolved = await att.read_products(refs) if refs else {}
    plan = Plan[CartCheckResult](att.snapshot, now=att.now, token=att.token)
    return CartCheckResult(lines=judge_lines(plan, lines, resolved), checked_at=att.now)
