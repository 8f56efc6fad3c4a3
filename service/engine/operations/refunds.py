"""Refunds as Stripe reports them: settle what is known about one payment's refunds, find
the refunds still waiting for their payment, and name the sale a staff return counts on."""

from __future__ import annotations

from typing import Any

from schemas.ids import refunds_id, reservation_id
from schemas.refunds import RefundFacts, RefundsResult
from service.engine.errors import InvalidRequest
from service.engine.model.plan import Plan
from service.engine.operations.context import EngineContext
from service.engine.planners.refunds import plan_refunds
from service.engine.queries import REFUNDS_OF_REFUND, UNMATCHED_REFUNDS
from service.engine.unit_of_work.executor import Attempt


async def settle_refunds(ctx: EngineContext, facts: RefundFacts) -> RefundsResult:
    """See `Inventory.settle_refunds`."""
    key = facts.payment_key
    if key is None:
        raise InvalidRequest("a refund must name its payment intent or charge")
    doc_id = refunds_id(key)
    given = reservation_id(facts.session_id) if facts.session_id else None

    async def step(att: Attempt) -> Plan[RefundsResult]:
        await att.read([doc_id, *([given] if given else [])])
        existing = att.snapshot.get(doc_id)
        recorded = existing.get("sessionId") if existing is not None else None
        session = recorded if isinstance(recorded, str) and recorded else facts.session_id
        rid = reservation_id(session) if session else None
        if rid is not None:
            await ctx.read_reservation(att, rid)
        plan = Plan[RefundsResult](att.snapshot, now=att.now, token=att.token)
        return plan_refunds(plan, facts, doc_id, rid, held_for=ctx.settings.refund_hold)

    lock = [doc_id, *(ctx.hold_lock(given) if given else [])]
    return await ctx.executor.run("settle_refunds", step, lock=lock)


async def sale_named(ctx: EngineContext, reference: str) -> str | None:
    """The reservation a staff return names: a refund's (`re_...`, from its refund
    records) or a checkout session's; None when it names none."""
    if reference.startswith("re_"):
        row: Any = await ctx.store.query(REFUNDS_OF_REFUND, {"refund": reference})
        session = row.get("sessionId") if isinstance(row, dict) else None
        return reservation_id(session) if isinstance(session, str) and session else None
    rid = reservation_id(reference)
    (doc,) = await ctx.store.get_documents([rid])
    return rid if doc is not None else None


async def unmatched_refunds(
    ctx: EngineContext, *, session_id: str | None = None, payment_intent_id: str | None = None
) -> list[RefundFacts]:
    """See `Inventory.unmatched_refunds`."""
    rows: Any = await ctx.store.query(
        UNMATCHED_REFUNDS,
        {
            "session": session_id or "",
            "intent": payment_intent_id or "",
            "all": not (session_id or payment_intent_id),
        },
    )
    found: list[RefundFacts] = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        found.append(
            RefundFacts(
                payment_intent_id=row.get("paymentIntentId") or None,
                charge_id=row.get("chargeId") or None,
                session_id=session_id or row.get("sessionId") or None,
            )
        )
    return found
