"""Unpaid checkouts (delayed payment methods): remember the payment intent, and find the
checkout session a payment intent belongs to."""

from __future__ import annotations

from typing import Any

from schemas.ids import reservation_id
from schemas.operations import PaymentIntentResult
from service.engine.model.plan import Plan
from service.engine.operations.context import EngineContext
from service.engine.planners.payment import plan_record_payment_intent
from service.engine.queries import RESERVATION_BY_PAYMENT
from service.engine.unit_of_work.executor import Attempt


async def record_payment_intent(
    ctx: EngineContext, session_id: str, payment_intent_id: str
) -> PaymentIntentResult:
    """See `Inventory.record_payment_intent`."""
    rid = reservation_id(session_id)

    async def step(att: Attempt) -> Plan[PaymentIntentResult]:
        await att.read([rid])
        plan = Plan[PaymentIntentResult](att.snapshot, now=att.now, token=att.token)
        return plan_record_payment_intent(
            plan, session_id, rid, payment_intent_id, hold=ctx.settings.payment_hold
        )

    return await ctx.executor.run("record_payment_intent", step, lock=[rid])


async def session_paid_with(ctx: EngineContext, payment_intent_id: str) -> str | None:
    """See `Inventory.session_paid_with`."""
    row: Any = await ctx.store.query(RESERVATION_BY_PAYMENT, {"ref": payment_intent_id})
    session = row.get("sessionId") if isinstance(row, dict) else None
    return session if isinstance(session, str) else None
