"""Refunds that arrive before the payment they refund: held, then applied exactly once.

Stripe does not order events, so `charge.refunded` can be delivered before
`checkout.session.completed`. The engine refuses to restore stock that was not sold yet, so
the refund is *held*: an errorLog (type `stock_restore`, message starting with
"Held refund") whose JSON details carry everything needed to apply it later. It is applied
by the next commit of its session (`commit_paid`, whichever path: webhook, success page) and
by every reconcile (`service.engine.operations.housekeeping.run_reconcile`), through
`apply_held_refunds`.
Applying is the engine's `restore`, exactly once per refund reference, so a held refund that
two paths apply at the same moment still restores once; the log is marked resolved
afterwards.

A refund is never lost: if the commit runs while the hold is being written, the writer
re-checks the reservation after writing and applies the hold itself.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from schemas.base import Model
from schemas.ids import error_id_for_key
from schemas.operations import CommitResult, LineRequest
from schemas.reservation import SOLD
from service.engine.errors import (
    IdempotencyKeyReused,
    InvalidRequest,
    ReservationNotCommitted,
    ReservationNotFound,
)
from service.engine.inventory import Inventory
from service.engine.operations.error_logs import ErrorLogNotFound, resolve_error_log

HELD_PREFIX = "Held refund"
HELD_KIND = "held_refund"
RESOLVER = "stocksync"
#: Held refunds read per query. Every page is walked: refunds of payments that never went
#: through a checkout stay held for good, and must not hide the ones behind them.
BATCH = 100
#: Upper bound on pages one call walks, so a call always ends.
MAX_PAGES = 100

HELD_REFUNDS = (
    '*[_type == "errorLog" && type == "stock_restore" && coalesce(resolved, false) == false'
    " && string::startsWith(message, $prefix)"
    " && (createdAt > $at || (createdAt == $at && _id > $after))]"
    f" | order(createdAt asc, _id asc) [0...{BATCH}] {{_id, createdAt, details}}"
)


@dataclass(frozen=True)
class HeldRefund:
    """A refund waiting for its payment; stored as the errorLog's JSON details."""

    reference: str
    session_id: str | None
    payment_intent_id: str | None
    #: None: restore everything sold (a full refund).
    lines: list[LineRequest] | None
    event_id: str
    event_type: str

    def details(self) -> dict[str, Any]:
        return {
            "kind": HELD_KIND,
            "reference": self.reference,
            "sessionId": self.session_id,
            "paymentIntentId": self.payment_intent_id,
            "lines": None if self.lines is None else [ln.to_json_dict() for ln in self.lines],
            "eventId": self.event_id,
            "eventType": self.event_type,
        }

    @classmethod
    def from_details(cls, raw: Any) -> HeldRefund | None:
        try:
            data = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("kind") != HELD_KIND:
            return None
        reference = data.get("reference")
        if not isinstance(reference, str) or not reference:
            return None
        raw_lines = data.get("lines")
        try:
            lines = (
                None
                if raw_lines is None
                else [LineRequest.model_validate(item) for item in raw_lines]
            )
        except (ValueError, TypeError):
            return None
        return cls(
            reference=reference,
            session_id=_text(data.get("sessionId")),
            payment_intent_id=_text(data.get("paymentIntentId")),
            lines=lines,
            event_id=str(data.get("eventId") or ""),
            event_type=str(data.get("eventType") or ""),
        )

    def matches(self, session_id: str | None, payment_ref: str | None) -> bool:
        return (session_id is not None and self.session_id == session_id) or (
            payment_ref is not None and self.payment_intent_id == payment_ref
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class HeldRefundsReport(Model):
    """Refunds that arrived before their payment, applied once it is recorded."""

    applied: list[str] = Field(default_factory=list, description="Refund references applied.")
    held: list[str] = Field(
        default_factory=list, description="References still waiting for their payment."
    )
    needs_restock: list[str] = Field(
        default_factory=list,
        description="References whose lines no longer fit the order: logged for a person.",
    )


async def hold_refund(inventory: Inventory, refund: HeldRefund) -> None:
    """Write the hold, then apply it at once if the payment was recorded meanwhile."""
    where = f"session {refund.session_id}" if refund.session_id else "its checkout session"
    await inventory.log_error(
        "stock_restore",
        "medium",
        f"{HELD_PREFIX} {refund.reference}: it arrived before the payment of {where} was "
        "recorded; stocksync applies it when the payment is (or at the next reconcile).",
        details=refund.details(),
        session_id=refund.session_id,
        dedupe_key=_held_key(refund.reference),
    )
    session = refund.session_id
    if session is None and refund.payment_intent_id is not None:
        session = await inventory.session_paid_with(refund.payment_intent_id)
    if session is None:
        return
    reservation = await inventory.reservation(session)
    if reservation is not None and reservation.status in SOLD:
        await apply_held_refunds(
            inventory, session_id=session, payment_ref=refund.payment_intent_id
        )


def _held_key(reference: str) -> str:
    return f"held-refund:{reference}"


async def cancel_held_refund(inventory: Inventory, reference: str) -> bool:
    """Resolve the hold of a refund that failed or was canceled before it was applied, so
    no later payment applies it; returns whether a hold was waiting."""
    try:
        _, cancelled = await resolve_error_log(
            inventory.store,
            error_id_for_key(_held_key(reference)),
            actor=RESOLVER,
            now=inventory.clock(),
            note="the refund failed or was canceled: no stock to restore",
        )
    except ErrorLogNotFound:
        return False
    return cancelled


async def commit_paid(
    inventory: Inventory,
    session_id: str,
    payment_ref: str,
    *,
    idempotency_keys: Sequence[str] = (),
) -> tuple[CommitResult, HeldRefundsReport]:
    """Record a checkout's payment (the engine's commit), then apply the refunds that were
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
    """Apply held refunds whose payment is now recorded; all of them when no session or
    payment is named (the cron reconcile), else those of that session or payment intent.

    Store failures propagate (nothing is lost: the holds stay until a later call).
    """
    report = HeldRefundsReport()
    for row in await _held_rows(inventory):
        log_id = row.get("_id") if isinstance(row, dict) else None
        held = HeldRefund.from_details(row.get("details")) if isinstance(row, dict) else None
        if not isinstance(log_id, str) or held is None:
            continue
        if (session_id is not None or payment_ref is not None) and not held.matches(
            session_id, payment_ref
        ):
            continue
        outcome = await _apply(inventory, held)
        if outcome == "held":
            report.held.append(held.reference)
            continue
        (report.applied if outcome == "applied" else report.needs_restock).append(held.reference)
        # A log purged or resolved by a person meanwhile is fine: the refund is applied.
        with contextlib.suppress(ErrorLogNotFound):
            await resolve_error_log(inventory.store, log_id, actor=RESOLVER, now=inventory.clock())
    return report


async def _held_rows(inventory: Inventory) -> list[dict[str, Any]]:
    """Every unresolved held refund, oldest first, one page per query."""
    found: list[dict[str, Any]] = []
    at, after = "", ""
    for _ in range(MAX_PAGES):
        rows: Any = await inventory.store.query(
            HELD_REFUNDS, {"prefix": HELD_PREFIX, "at": at, "after": after}
        )
        page = [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []
        found.extend(page)
        if len(page) < BATCH:
            break
        at, after = str(page[-1].get("createdAt") or ""), str(page[-1].get("_id") or "")
    return found


async def _apply(inventory: Inventory, held: HeldRefund) -> str:
    session = held.session_id
    if session is None and held.payment_intent_id is not None:
        session = await inventory.session_paid_with(held.payment_intent_id)
    if session is None:
        return "held"
    try:
        await inventory.restore(session, held.lines, reference=held.reference, reason="refund")
    except (ReservationNotCommitted, ReservationNotFound):
        return "held"
    except IdempotencyKeyReused:
        # This reference was restored before, with other lines: it is applied.
        return "applied"
    except InvalidRequest as exc:
        return await manual_restock_or_done(inventory, session, held.reference, str(exc))
    return "applied"


async def manual_restock_or_done(
    inventory: Inventory, session_id: str, reference: str, problem: str
) -> str:
    """Lines that no longer fit the sale: nothing to do when everything was restored
    already (a full refund came first), else a person restocks by hand."""
    reservation = await inventory.reservation(session_id)
    if reservation is not None and reservation.status == "refunded":
        return "applied"
    await inventory.log_error(
        "stock_restore",
        "high",
        f"Refund {reference} of session {session_id} names lines that do not match what was "
        f"sold ({problem}); restock by hand with the adjust API.",
        details={"reference": reference, "problem": problem},
        session_id=session_id,
        dedupe_key=f"manual-restock:{reference}",
    )
    return "needs_restock"


__all__ = [
    "HELD_PREFIX",
    "HeldRefund",
    "HeldRefundsReport",
    "apply_held_refunds",
    "cancel_held_refund",
    "commit_paid",
    "hold_refund",
    "manual_restock_or_done",
]
