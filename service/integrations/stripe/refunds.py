"""Refund events -> stock restores, each refund exactly once whichever events announce it.

One refund may be announced by `refund.created`, `refund.updated` and `charge.refunded`
(and redelivered). The restore is keyed on the refund: the engine restores once per
`reference`, so every announcement after the first replays.

- A refund whose metadata names lines (`stocksync_lines`, see `refund_lines`) restores
  those lines, reference = the refund id.
- A charge that is fully refunded (`charge.refunded` with `refunded: true`) restores
  everything still sold, reference = `<charge id>:full`. A refund object alone cannot say
  whether it is full (it does not carry the charge amount), so unitemised `refund.*` events
  wait for `charge.refunded`.
- A partial refund without lines gets an errorLog asking for a manual restock.
- A refund whose payment is not recorded yet is held (`held_refunds`).
- A refund that failed or was canceled after its stock was restored gets an errorLog.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.operations import LineRequest
from service.engine import (
    HeldRefund,
    IdempotencyKeyReused,
    InvalidRequest,
    Inventory,
    ReservationNotCommitted,
    ReservationNotFound,
    cancel_held_refund,
    hold_refund,
    manual_restock_or_done,
)
from service.integrations.outcome import Outcome
from service.integrations.stripe.payloads import LINES_METADATA_KEY, Charge, Refund, StripeEvent
from service.integrations.stripe.refund_lines import RefundLinesError, refund_lines
from service.integrations.stripe.sessions import SessionFinder


@dataclass(frozen=True)
class RefundAction:
    reference: str
    payment_intent_id: str | None
    #: None: everything still sold (a full refund).
    lines: list[LineRequest] | None
    metadata: dict[str, str]


class RefundHandler:
    def __init__(self, inventory: Inventory, finder: SessionFinder) -> None:
        self.inventory = inventory
        self.finder = finder

    async def refund_event(self, event: StripeEvent, refund: Refund) -> Outcome:
        """`refund.created`, `refund.updated`, `refund.failed`, `charge.refund.updated`."""
        if not refund.going_back:
            return await self._reversed(refund)
        try:
            lines = refund_lines(refund.metadata)
        except RefundLinesError as exc:
            return await self._bad_lines(refund, str(exc))
        if lines is None:
            return Outcome(
                "awaiting_charge_refunded",
                f"Refund {refund.id} names no {LINES_METADATA_KEY}; charge.refunded says "
                "whether the charge is fully refunded.",
            )
        return await self.apply(event, self._action(refund, lines))

    async def charge_refunded(self, event: StripeEvent, charge: Charge) -> Outcome:
        """`charge.refunded`: listed refunds with lines, then the full refund if it is one."""
        outcomes: list[Outcome] = []
        for refund in charge.refunds or []:
            if not refund.going_back:
                continue
            try:
                lines = refund_lines(refund.metadata)
            except RefundLinesError as exc:
                outcomes.append(await self._bad_lines(refund, str(exc)))
                continue
            if lines is not None:
                outcomes.append(await self.apply(event, self._action(refund, lines)))
            elif not charge.refunded:
                outcomes.append(await self._manual_restock(refund.id, charge, refund=refund))
        if charge.refunded:
            full = RefundAction(
                reference=f"{charge.id}:full",
                payment_intent_id=charge.payment_intent_id,
                lines=None,
                metadata=charge.metadata,
            )
            outcomes.append(await self.apply(event, full))
        elif charge.refunds is None and (charge.amount_refunded or 0) > 0:
            outcomes.append(
                await self._manual_restock(f"{charge.id}:{charge.amount_refunded}", charge)
            )
        if not outcomes:
            return Outcome("ignored", f"Charge {charge.id}: no refund to restore stock for.")
        first, *rest = outcomes
        first.more.extend(rest)
        return first

    def _action(self, refund: Refund, lines: list[LineRequest] | None) -> RefundAction:
        return RefundAction(
            reference=refund.id,
            payment_intent_id=refund.payment_intent_id,
            lines=lines,
            metadata=refund.metadata,
        )

    async def apply(self, event: StripeEvent, action: RefundAction) -> Outcome:
        """Restore now, or hold until the payment is recorded."""
        session = await self.finder.known_for_payment(action.payment_intent_id, action.metadata)
        if session is None:
            return await self._hold(event, action, None)
        try:
            result = await self.inventory.restore(
                session,
                action.lines,
                reference=action.reference,
                reason="refund",
                idempotency_keys=[f"stripe-event:{event.id}:{action.reference}"],
            )
        except (ReservationNotCommitted, ReservationNotFound):
            return await self._hold(event, action, session)
        except IdempotencyKeyReused:
            return Outcome(
                "already_restored", f"Refund {action.reference} was applied before.", session
            )
        except InvalidRequest as exc:
            done = await manual_restock_or_done(self.inventory, session, action.reference, str(exc))
            if done == "applied":
                return Outcome(
                    "already_restored",
                    f"Refund {action.reference}: everything sold was restored already.",
                    session,
                )
            return Outcome(
                "manual_restock_logged",
                f"Refund {action.reference} names lines that do not match the sale; logged.",
                session,
            )
        units = sum(change.quantity for change in result.restored)
        if result.replayed:
            return Outcome(
                "already_restored", f"Refund {action.reference} was applied before.", session
            )
        return Outcome(
            "restored",
            f"Refund {action.reference}: {units} unit(s) back in stock ({result.status}).",
            session,
        )

    async def _hold(self, event: StripeEvent, action: RefundAction, session: str | None) -> Outcome:
        await hold_refund(
            self.inventory,
            HeldRefund(
                reference=action.reference,
                session_id=session,
                payment_intent_id=action.payment_intent_id,
                lines=action.lines,
                event_id=event.id,
                event_type=event.type,
            ),
        )
        return Outcome(
            "refund_held",
            f"Refund {action.reference} arrived before its payment was recorded; held and "
            "applied when the payment is.",
            session,
        )

    async def _manual_restock(
        self, key: str, charge: Charge, *, refund: Refund | None = None
    ) -> Outcome:
        what = f"refund {refund.id}" if refund else f"a partial refund of charge {charge.id}"
        session = await self.finder.known_for_payment(charge.payment_intent_id, charge.metadata)
        await self.inventory.log_error(
            "stock_restore",
            "medium",
            f"Partial refund without {LINES_METADATA_KEY}: {what} (refunded "
            f"{charge.amount_refunded} of {charge.amount}) does not say which items came "
            "back. Refunds that named their lines are restored from their refund events; "
            "restock anything else by hand with the adjust API.",
            details={
                "chargeId": charge.id,
                "refundId": refund.id if refund else None,
                "paymentIntentId": charge.payment_intent_id,
                "amount": charge.amount,
                "amountRefunded": charge.amount_refunded,
            },
            session_id=session,
            dedupe_key=f"manual-restock:{key}",
        )
        return Outcome(
            "manual_restock_logged",
            f"{what[:1].upper()}{what[1:]} names no lines; logged for a manual restock.",
            session,
        )

    async def _bad_lines(self, refund: Refund, problem: str) -> Outcome:
        session = await self.finder.known_for_payment(refund.payment_intent_id, refund.metadata)
        await self.inventory.log_error(
            "stock_restore",
            "high",
            f"Refund {refund.id} has unreadable {LINES_METADATA_KEY} ({problem}); restock by "
            "hand with the adjust API.",
            details={"refundId": refund.id, "problem": problem, "metadata": refund.metadata},
            session_id=session,
            dedupe_key=f"manual-restock:{refund.id}",
        )
        return Outcome("manual_restock_logged", f"Refund {refund.id}: {problem}.", session)

    async def _reversed(self, refund: Refund) -> Outcome:
        """A refund that failed or was canceled: undoing a restore is a person's call."""
        # Held for a payment not recorded yet: it must never be applied. Cancelled before
        # the check below, so a payment applying holds meanwhile is seen there.
        cancelled = await cancel_held_refund(self.inventory, refund.id)
        session = await self.finder.known_for_payment(refund.payment_intent_id, refund.metadata)
        reservation = await self.inventory.reservation(session) if session else None
        applied = reservation is not None and any(
            entry.reference == refund.id for entry in reservation.refunds
        )
        if not applied and cancelled:
            return Outcome(
                "held_refund_cancelled",
                f"Refund {refund.id} is {refund.status}; its held restore was cancelled.",
                session,
            )
        if not applied:
            return Outcome(
                "ignored", f"Refund {refund.id} is {refund.status}; no stock was restored."
            )
        await self.inventory.log_error(
            "stock_restore",
            "high",
            f"Refund {refund.id} is {refund.status} after its stock was restored; if the "
            "goods did not come back, take the units out again with the adjust API.",
            details={"refundId": refund.id, "status": refund.status},
            session_id=session,
            dedupe_key=f"refund-reversed:{refund.id}",
        )
        return Outcome(
            "reversal_logged",
            f"Refund {refund.id} is {refund.status} after its stock was restored; logged.",
            session,
        )
