"""Refunds that arrived before the payment they refund: held, then settled exactly once.

Stripe does not order events, so `charge.refunded` or `refund.created` can be delivered
before `checkout.session.completed`. The engine keeps such refunds as `held` refund records
(`schemas.refunds`): nothing is restored until the payment is recorded. Every path that
records a payment (webhook, success page) settles the refunds held for it through
`commit_paid`, and every reconcile settles what is still held (`apply_held_refunds`), which
also resolves refunds that waited past `STOCKSYNC_HELD_REFUND_DAYS` as `no_matching_payment`.
Settling is the engine's `settle_refunds`: any number of calls restores each refund once.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from schemas.base import Model
from schemas.operations import CommitResult
from schemas.refunds import RefundFacts
from service.engine.inventory import Inventory


class HeldRefundsReport(Model):
    """Refunds that arrived before their payment, settled once it is recorded."""

    applied: list[str] = Field(
        default_factory=list, description="Payments whose held refunds were settled."
    )
    held: list[str] = Field(
        default_factory=list, description="Payments whose refunds still wait for the payment."
    )
    resolved: list[str] = Field(
        default_factory=list,
        description="Payments stocksync never saw: resolved as no_matching_payment or foreign.",
    )


async def commit_paid(
    inventory: Inventory,
    session_id: str,
    payment_ref: str,
    *,
    idempotency_keys: Sequence[str] = (),
) -> tuple[CommitResult, HeldRefundsReport]:
    """Record a checkout's payment (the engine's commit), then settle the refunds that were
    held for it. Every path that learns of a payment (webhook, success page) commits here.

    Raises `ReservationNotFound` when the session never reserved anything.
    """
    result = await inventory.commit(session_id, payment_ref, idempotency_keys=idempotency_keys)
    held = await apply_held_refunds(inventory, session_id=session_id, payment_ref=payment_ref)
    return result, held


async def apply_held_refunds(
    inventory: Inventory,
    *,
    session_id: str | None = None,
    payment_ref: str | None = None,
) -> HeldRefundsReport:
    """Settle held refunds whose payment is now recorded: all of them when no session or
    payment is named (the cron reconcile), else those of that session or payment intent.

    Store failures propagate (nothing is lost: the records stay held until a later call).
    """
    report = HeldRefundsReport()
    waiting = await inventory.unmatched_refunds(
        session_id=session_id, payment_intent_id=payment_ref
    )
    for facts in waiting:
        if facts.session_id is None and facts.payment_intent_id is not None:
            found = await inventory.session_paid_with(facts.payment_intent_id)
            facts = facts.model_copy(update={"session_id": found})
        result = await inventory.settle_refunds(facts)
        key = result.payment_key
        if result.state == "settled":
            report.applied.append(key)
        elif result.state == "held":
            report.held.append(key)
        else:
            report.resolved.append(key)
    return report


__all__ = ["HeldRefundsReport", "RefundFacts", "apply_held_refunds", "commit_paid"]
