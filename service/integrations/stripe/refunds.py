"""Refund events -> what they say about the refunds of one payment -> the engine settles
stock to match (`Inventory.settle_refunds`, records keyed by refund id).

- `refund.created` / `refund.updated` / `refund.failed` / `charge.refund.updated`: one refund,
  its status (Stripe's machine: pending, requires_action, succeeded, failed, canceled), its
  amount and the lines its metadata names (`stocksync_lines`, see `refund_lines`).
- `charge.refunded`: the charge's amount and whether it is fully refunded, plus the refunds
  it lists (`refunds.data`, API versions before 2022-11-15).

Which hold the payment belongs to is the `SessionFinder`'s answer; a payment nobody can
place is held by the engine until it is recorded or its wait ends. With the Stripe key, a
payment Stripe says never went through Checkout is resolved as foreign at once (an info
line in the log, no errorLog: it is another product line's business).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from schemas.refunds import (
    ENDED_UNPAID,
    PARTIAL_MARK,
    REFUND_STATUSES,
    RefundFact,
    RefundFacts,
    RefundsResult,
    RefundStatus,
)
from service.engine import Inventory
from service.integrations.outcome import Outcome
from service.integrations.stripe.payloads import (
    LINES_METADATA_KEY as LINES_KEY,
)
from service.integrations.stripe.payloads import (
    Charge,
    Refund,
    StripeEvent,
)
from service.integrations.stripe.refund_lines import RefundLinesError, refund_lines
from service.integrations.stripe.sessions import SessionFinder

log = logging.getLogger("stocksync.stripe")

#: First API version that sends `refund.created|updated|failed` for every refund.
REFUND_EVENTS_SINCE = "2024-10-28"


def sends_refund_events(api_version: str | None) -> bool:
    """Whether an endpoint on `api_version` gets `refund.*` events for card refunds (an
    unknown version is taken as a recent one)."""
    return api_version is None or api_version.split(".", 1)[0] >= REFUND_EVENTS_SINCE


def refund_fact(refund: Refund) -> RefundFact:
    status: RefundStatus | None = next((s for s in REFUND_STATUSES if s == refund.status), None)
    try:
        lines, problem = refund_lines(refund.metadata), None
    except RefundLinesError as exc:
        lines, problem = None, str(exc)
    return RefundFact(
        refund_id=refund.id,
        status=status,
        amount=refund.amount,
        lines=lines,
        lines_problem=problem,
        created=refund.created,
    )


class RefundHandler:
    def __init__(self, inventory: Inventory, finder: SessionFinder) -> None:
        self.inventory = inventory
        self.finder = finder

    async def refund_event(self, event: StripeEvent, refund: Refund) -> Outcome:
        """`refund.created`, `refund.updated`, `refund.failed`, `charge.refund.updated`."""
        facts = RefundFacts(
            payment_intent_id=refund.payment_intent_id,
            charge_id=refund.charge_id,
            refunds=[refund_fact(refund)],
        )
        return await self._settle(event, facts, refund.metadata)

    async def charge_refunded(self, event: StripeEvent, charge: Charge) -> Outcome:
        refunds = [refund_fact(refund) for refund in charge.refunds or []]
        refunded = charge.amount_refunded or 0
        if (
            charge.refunds is None
            and not charge.refunded
            and refunded > 0
            and not sends_refund_events(event.api_version)
        ):
            # Before 2024-10-28 no refund.* event names a card refund: this partial refund
            # is known only from its charge (and so names no lines).
            refunds.append(RefundFact(refund_id=f"{charge.id}{PARTIAL_MARK}{refunded}"))
        facts = RefundFacts(
            payment_intent_id=charge.payment_intent_id,
            charge_id=charge.id,
            charge_amount=charge.amount,
            fully_refunded=charge.refunded,
            refunds=refunds,
        )
        return await self._settle(event, facts, charge.metadata)

    async def _settle(
        self, event: StripeEvent, facts: RefundFacts, metadata: Mapping[str, str]
    ) -> Outcome:
        if facts.payment_key is None:
            return Outcome("ignored", f"{event.type} names no payment intent or charge.")
        session = await self.finder.known_for_payment(facts.payment_intent_id, metadata)
        foreign = session is None and await self.finder.never_went_through_checkout(
            facts.payment_intent_id
        )
        facts = facts.model_copy(update={"session_id": session, "foreign": foreign})
        result = await self.inventory.settle_refunds(facts)
        return describe(result, facts)


def describe(result: RefundsResult, facts: RefundFacts) -> Outcome:
    what = ", ".join(f.refund_id for f in facts.refunds) or f"charge {facts.charge_id}"
    session = result.session_id
    if result.state == "foreign":
        log.info("refund of %s: Stripe says it never went through Checkout", result.payment_key)
        return Outcome(
            "foreign_payment",
            f"{what}: payment {result.payment_key} never went through stocksync; nothing to do.",
        )
    if result.state == "no_matching_payment":
        log.info("refund of %s: no matching payment was ever recorded", result.payment_key)
        return Outcome(
            "no_matching_payment",
            f"{what}: no payment {result.payment_key} was recorded in time; resolved.",
        )
    if result.state == "held":
        return Outcome(
            "refund_held",
            f"{what} arrived before payment {result.payment_key} was recorded; held and "
            "settled when the payment is.",
            session,
        )
    parts = []
    restored = sum(change.quantity for change in result.restored)
    taken = sum(change.quantity for change in result.reversed)
    if restored:
        parts.append(f"{restored} unit(s) back in stock")
    if taken:
        parts.append(f"{taken} unit(s) taken out again (the refund did not go through)")
    if result.manual:
        parts.append(f"{', '.join(result.manual)} left to a manual restock (logged)")
    ended = [f for f in facts.refunds if f.status in ENDED_UNPAID]
    if not parts and ended and result.state == "settled":
        return Outcome(
            "refund_not_returned",
            f"{', '.join(f.refund_id for f in ended)} {ended[0].status}: the money did not go "
            "back, so the sale stands (logged for staff).",
            session,
        )
    if not parts and result.waiting:
        return Outcome(
            "awaiting_charge_refunded",
            f"{', '.join(result.waiting)} names no {LINES_KEY}; charge.refunded says whether "
            "the charge is fully refunded.",
            session,
        )
    if not parts:
        return Outcome("already_restored", f"{what}: stock already matches the refunds.", session)
    action = "reversed" if taken and not restored else "restored" if restored else "recorded"
    if result.manual and not restored and not taken:
        action = "manual_restock_logged"
    return Outcome(action, f"{what}: {'; '.join(parts)}.", session)
