"""Settle the refunds of one payment: merge what an event says into the payment's refund
records, then move stock by the difference between what the records call for and what they
have applied (see `schemas.refunds` for the model).

What the records call for, given the sale (`committed` units per reservation item) and the
units restored by other means (staff restores and returns that name the sale):

1. Refunds naming lines (`stocksync_lines`), oldest first, restore those lines while they
   are going back (pending, requires_action, succeeded), up to what is left on each item.
2. When Stripe reported the charge fully refunded and none of its refunds failed or was
   canceled, the rest of the sale comes back, under the line-less refund (or, none known,
   under `<charge>:full`).
3. A line-less refund that is not the rest of a full refund is partial: nobody knows which
   items came back, so a person restocks them (one errorLog, never rewritten); their
   `return` adjust naming the refund counts on the sale, so a later full refund restores
   only what is still out.

Units restored never exceed units sold, per item. Reversing takes units out of what is
available (never below zero, never out of other customers' holds); what cannot be taken is
logged for a person.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from schemas.operations import AdjustResult, ItemChange
from schemas.refunds import (
    ENDED_UNPAID,
    GOING_BACK,
    PARTIAL_MARK,
    UNMATCHED,
    AppliedUnits,
    RefundFacts,
    RefundRecord,
    RefundsResult,
    StockRefunds,
    later_status,
)
from schemas.reservation import SOLD, RefundEntry, ReservationItem, StockReservation
from service.engine.errors import InvalidRequest
from service.engine.model import transitions
from service.engine.model.backorders import put_back, still_open, take_back, with_cancelled
from service.engine.model.holds import item_change, load_reservation, match_lines, save_reservation
from service.engine.model.plan import Plan

LINES_KEY = "stocksync_lines"


def load_refunds(plan: Plan[Any], doc_id: str) -> StockRefunds | None:
    doc = plan.snapshot.get(doc_id)
    return StockRefunds.model_validate(doc) if doc is not None else None


def merge_facts(
    old: StockRefunds | None, facts: RefundFacts, doc_id: str, plan: Plan[Any]
) -> StockRefunds:
    """The records after hearing `facts`. A recorded session link is never replaced."""
    now = plan.now
    doc = (
        old.model_copy(deep=True)
        if old is not None
        else StockRefunds(
            id=doc_id,
            payment_key=facts.payment_key or doc_id,
            created_at=now,
            updated_at=now,
        )
    )
    doc.payment_intent_id = doc.payment_intent_id or facts.payment_intent_id
    doc.charge_id = doc.charge_id or facts.charge_id
    doc.session_id = doc.session_id or facts.session_id
    doc.charge_amount = doc.charge_amount or facts.charge_amount
    doc.fully_refunded = doc.fully_refunded or facts.fully_refunded
    for fact in facts.refunds:
        record = doc.record(fact.refund_id)
        if record is None:
            record = RefundRecord(
                key=f"r{len(doc.refunds)}",
                refund_id=fact.refund_id,
                first_seen_at=now,
                updated_at=now,
            )
            doc.refunds.append(record)
        status = later_status(record.status, fact.status)
        record.status = status  # type: ignore[assignment]  # a RefundStatus or None
        record.amount = record.amount if record.amount is not None else fact.amount
        record.created = record.created if record.created is not None else fact.created
        if record.lines is None and record.lines_problem is None:
            record.lines, record.lines_problem = fact.lines, fact.lines_problem
    return doc


def _going_back(record: RefundRecord) -> bool:
    return record.status is None or record.status in GOING_BACK


def _order(record: RefundRecord) -> tuple[int, int, str]:
    synthetic = 1 if record.status is None and record.refund_id.endswith(":full") else 0
    return (synthetic, record.created or 0, record.refund_id)


def plan_refunds(
    plan: Plan[RefundsResult],
    facts: RefundFacts,
    doc_id: str,
    reservation_id: str | None,
    *,
    held_for: timedelta,
) -> Plan[RefundsResult]:
    old = load_refunds(plan, doc_id)
    doc = merge_facts(old, facts, doc_id, plan)
    reservation = load_reservation(plan, reservation_id) if reservation_id else None
    if reservation is None or reservation.status not in SOLD:
        return _hold(plan, old, doc, facts, held_for)
    return _settle(plan, old, doc, reservation)


def _hold(
    plan: Plan[RefundsResult],
    old: StockRefunds | None,
    doc: StockRefunds,
    facts: RefundFacts,
    held_for: timedelta,
) -> Plan[RefundsResult]:
    if facts.foreign and doc.state == "held":
        doc.state, doc.resolved_at = "foreign", plan.now
    if doc.state == "held" and doc.held_until is None:
        doc.held_until = plan.now + held_for
    if doc.state == "held" and doc.held_until is not None and plan.now >= doc.held_until:
        # Waited long enough: a payment stocksync never saw (it still settles if it comes).
        doc.state, doc.resolved_at = "no_matching_payment", plan.now
    changed = _save(plan, old, doc)
    return plan.succeed(
        RefundsResult(
            payment_key=doc.payment_key,
            session_id=doc.session_id,
            state=doc.state,
            replayed=not changed,
        )
    )


def _settle(
    plan: Plan[RefundsResult],
    old: StockRefunds | None,
    doc: StockRefunds,
    reservation: StockReservation,
) -> Plan[RefundsResult]:
    items = {item.key: item for item in reservation.items}
    applied_now = _applied_by_item(doc)
    # Units put back by other means (staff restores, returns naming this sale).
    other = {
        key: max(0, item.restored_quantity - applied_now.get(key, 0)) for key, item in items.items()
    }
    remaining = {
        key: max(0, item.committed_quantity + (item.backorder_quantity or 0) - other[key])
        for key, item in items.items()
    }
    desired: dict[str, dict[str, int]] = {}
    newly_manual: list[str] = []
    records = sorted(doc.refunds, key=_order)
    for record in records:
        desired[record.refund_id] = {}
        if record.lines is None or not _going_back(record):
            continue
        try:
            wanted = match_lines(plan, reservation, record.lines, remaining, "restore")
        except InvalidRequest as exc:
            record.lines_problem = exc.message
            continue
        desired[record.refund_id] = wanted
        for key, quantity in wanted.items():
            remaining[key] -= quantity
    any_ended = any(r.status in ENDED_UNPAID for r in records)
    known_back = sum(
        r.amount or 0 for r in records if r.status is not None and r.status in GOING_BACK
    )
    covers_charge = doc.charge_amount is not None and known_back >= doc.charge_amount
    rest_back = (doc.fully_refunded or covers_charge) and not any_ended
    lineless = [r for r in records if r.lines is None and r.lines_problem is None]
    if rest_back:
        going = [r for r in lineless if _going_back(r) and not r.refund_id.endswith(":full")]
        target = going[0] if going else _synthetic_full(doc, plan)
        desired[target.refund_id] = {key: n for key, n in remaining.items() if n > 0}
    # Partial is known only once the charge's amount is (charge.refunded): until then a
    # line-less refund may still turn out to be the whole charge.
    waiting: list[str] = []
    for record in lineless:
        real = record.status is not None or PARTIAL_MARK in record.refund_id
        if not rest_back and doc.charge_amount is None and real and _going_back(record):
            waiting.append(record.refund_id)
        manual = not rest_back and doc.charge_amount is not None and real and _going_back(record)
        if manual and not record.manual:
            newly_manual.append(record.refund_id)
        record.manual = manual
    was_settled = old is not None and old.state == "settled"
    for record in records:
        before = old.record(record.refund_id) if old is not None else None
        known = was_settled and before is not None and before.lines_problem is not None
        if record.lines_problem is not None and not known:
            _log_problem(plan, doc, record, record.lines_problem)
            newly_manual.append(record.refund_id)
    for refund_id in newly_manual:
        found = doc.record(refund_id)
        if found is not None and found.lines_problem is None:
            _log_manual(plan, doc, found)
    restored, reversed_ = _move_stock(plan, doc, reservation, items, desired, applied_now)
    for record in records:
        before = old.record(record.refund_id) if old is not None else None
        newly_ended = before is None or before.status not in ENDED_UNPAID or not was_settled
        if record.status in ENDED_UNPAID and newly_ended:
            _log_ended(plan, doc, record, took_back=bool(reversed_))
    doc.state, doc.held_until, doc.resolved_at = "settled", None, None
    # Items as the stock moves left them (backorders cancelled or owed again).
    reservation = reservation.model_copy(update={"items": list(items.values())})
    _update_reservation(plan, reservation, doc, other)
    changed = _save(plan, old, doc)
    return plan.succeed(
        RefundsResult(
            payment_key=doc.payment_key,
            session_id=reservation.session_id,
            state=doc.state,
            restored=restored,
            reversed=[change for _, change in reversed_],
            manual=newly_manual,
            waiting=waiting,
            replayed=not changed and not restored and not reversed_,
        )
    )


def _synthetic_full(doc: StockRefunds, plan: Plan[Any]) -> RefundRecord:
    refund_id = f"{doc.charge_id or doc.payment_key}:full"
    record = doc.record(refund_id)
    if record is None:
        record = RefundRecord(
            key=f"r{len(doc.refunds)}",
            refund_id=refund_id,
            first_seen_at=plan.now,
            updated_at=plan.now,
        )
        doc.refunds.append(record)
    return record


def _applied_by_item(doc: StockRefunds) -> dict[str, int]:
    total: dict[str, int] = {}
    for record in doc.refunds:
        for units in record.applied:
            total[units.key] = total.get(units.key, 0) + units.quantity
    return total


def _move_stock(
    plan: Plan[RefundsResult],
    doc: StockRefunds,
    reservation: StockReservation,
    items: dict[str, ReservationItem],
    desired: dict[str, dict[str, int]],
    applied_now: dict[str, int],
) -> tuple[list[ItemChange], list[tuple[str, ItemChange]]]:
    """Move each item by desired - applied; record what each refund now stands by."""
    restored: list[ItemChange] = []
    reversed_: list[tuple[str, ItemChange]] = []
    for key, item in items.items():
        want = sum(per_item.get(key, 0) for per_item in desired.values())
        delta = want - applied_now.get(key, 0)
        if delta == 0:
            continue
        gaining = [rid for rid, per in desired.items() if per.get(key, 0) > _has(doc, rid, key)]
        losing = [rid for rid, per in desired.items() if per.get(key, 0) < _has(doc, rid, key)]
        stock = plan.product(item.product_id)
        cell = stock.find_item(item) if stock else None
        change = item_change(item, abs(delta), stock)
        if stock is None or cell is None:
            plan.log_error(
                "stock_restore",
                "high",
                "refund of a product or variant that no longer exists: stock not changed",
                details={"item": item.to_json_dict(), "change": delta, "payment": doc.payment_key},
                session_id=reservation.session_id,
                product_id=item.product_id,
            )
            continue
        if delta > 0:
            items[key] = put_back(
                plan,
                stock,
                cell,
                item,
                delta,
                entry_type="refund",
                reference=",".join(gaining) or None,
                reason=f"refund for session {reservation.session_id}",
            )
            restored.append(change)
            continue
        # A refund that ended unpaid: a backorder it cancelled is owed again first.
        reopen = min(-delta, item.backorder_cancelled or 0)
        if reopen > 0:
            plan.move(
                stock,
                cell,
                entry_type="backorder",
                backordered_change=reopen,
                reference=",".join(losing) or None,
                reason=f"refund {', '.join(losing)} {_ended_word(doc, losing)}: owed again",
            )
            items[key] = with_cancelled(item, -reopen)
            delta += reopen
            if delta == 0:
                reversed_.append(
                    (losing[0] if losing else "", change.model_copy(update={"quantity": reopen}))
                )
                continue
        takeable = max(0, stock.stock(cell) - stock.reserved(cell))
        take = min(-delta, takeable)
        if take > 0:
            items[key] = take_back(
                plan,
                stock,
                cell,
                items[key],
                take,
                entry_type="refund",
                reference=",".join(losing) or None,
                reason=f"refund {', '.join(losing)} {_ended_word(doc, losing)}: the sale stands",
            )
            reversed_.append(
                (losing[0] if losing else "", change.model_copy(update={"quantity": take}))
            )
        if take < -delta:
            short = -delta - take
            plan.log_error(
                "stock_restore",
                "high",
                f"Refund {', '.join(losing)} ended without returning the money, but {short} of "
                f"the {-delta} unit(s) it had restored are no longer available to take back; "
                "adjust stock by hand once they are.",
                details={"payment": doc.payment_key, "item": item.to_json_dict(), "short": short},
                session_id=reservation.session_id,
                product_id=item.product_id,
                dedupe_key=f"refund-untaken:{doc.payment_key}:{key}",
            )
            # Those units stay counted as restored by the refund that lost them.
            if losing:
                desired[losing[0]][key] = desired[losing[0]].get(key, 0) + short
    for record in doc.refunds:
        per_item = desired.get(record.refund_id, {})
        record.applied = [
            AppliedUnits(key=key, quantity=quantity)
            for key, quantity in sorted(per_item.items())
            if quantity > 0
        ]
    return restored, reversed_


def _has(doc: StockRefunds, refund_id: str, key: str) -> int:
    record = doc.record(refund_id)
    if record is None:
        return 0
    return sum(units.quantity for units in record.applied if units.key == key)


def _ended_word(doc: StockRefunds, refund_ids: list[str]) -> str:
    statuses = {r.status for rid in refund_ids if (r := doc.record(rid)) is not None}
    return "canceled" if statuses == {"canceled"} else "failed"


def _update_reservation(
    plan: Plan[Any], reservation: StockReservation, doc: StockRefunds, other: dict[str, int]
) -> None:
    applied = _applied_by_item(doc)
    restored = {item.key: other[item.key] + applied.get(item.key, 0) for item in reservation.items}
    known = {entry.reference for entry in reservation.refunds}
    entries = list(reservation.refunds)
    for record in doc.refunds:
        if record.applied and record.refund_id not in known:
            entries.append(
                RefundEntry(
                    key=f"r{len(entries)}",
                    reference=record.refund_id,
                    reason="refund",
                    quantity=record.applied_total,
                    at=plan.now,
                )
            )
    updated = transitions.set_restored(reservation, plan.now, restored, entries)
    if reservation.open_backorder is not None or any(i.backorder_quantity for i in updated.items):
        updated = updated.model_copy(
            update={"open_backorder": still_open(updated.items, reservation.open_backorder)}
        )
    if updated != reservation:
        save_reservation(plan, updated)


def _save(plan: Plan[Any], old: StockRefunds | None, doc: StockRefunds) -> bool:
    """Write the records when they changed; whether they did."""
    if old is not None and _same(old, doc):
        return False
    doc.updated_at = plan.now
    for record in doc.refunds:
        before = old.record(record.refund_id) if old is not None else None
        if before is None or _record_changed(before, record):
            record.updated_at = plan.now
    body = doc.to_document()
    if old is None:
        plan.create(body)
    else:
        body.pop("_id")
        body.pop("_type")
        plan.update(doc.id, body)
    return True


def _same(old: StockRefunds, new: StockRefunds) -> bool:
    ignore = {"updated_at", "rev", "created_at_system", "updated_at_system"}
    if old.model_dump(exclude=ignore | {"refunds"}) != new.model_dump(exclude=ignore | {"refunds"}):
        return False
    if len(old.refunds) != len(new.refunds):
        return False
    return not any(_record_changed(a, b) for a, b in zip(old.refunds, new.refunds, strict=True))


def _record_changed(old: RefundRecord, new: RefundRecord) -> bool:
    return old.model_dump(exclude={"updated_at"}) != new.model_dump(exclude={"updated_at"})


def count_return(
    plan: Plan[Any], reservation_id: str, adjusted: AdjustResult, reference: str
) -> None:
    """A staff `return` naming this sale: the units put back count as returned on it (up
    to what is still out), so later refunds restore only the rest."""
    reservation = load_reservation(plan, reservation_id)
    quantity = adjusted.new_stock - adjusted.previous_stock
    if reservation is None or reservation.status not in SOLD or quantity <= 0:
        return
    added: dict[str, int] = {}
    counted = 0
    for item in reservation.items:
        same = item.product_id == adjusted.product_id and item.variant_key == adjusted.variant_key
        take = min(quantity - counted, item.restorable) if same else 0
        counted += take
        if take:
            added[item.key] = take
    if counted == 0:
        return
    updated = transitions.restore(
        reservation, plan.now, added=added, reference=reference, reason="return"
    )
    save_reservation(plan, updated)


# -- what staff are told ------------------------------------------------------------------


def _log_manual(plan: Plan[Any], doc: StockRefunds, record: RefundRecord | None) -> None:
    if record is None:
        return
    plan.log_error(
        "stock_restore",
        "medium",
        f"Partial refund {record.refund_id} names no {LINES_KEY}: stocksync cannot tell which "
        "items came back. Restock them by hand with an adjust of reason `return` and "
        f"reference `{record.refund_id}`: those units then count as returned on this sale, "
        "so a later full refund restores only the rest.",
        details={
            "refundId": record.refund_id,
            "amount": record.amount,
            "chargeAmount": doc.charge_amount,
            "paymentIntentId": doc.payment_intent_id,
            "chargeId": doc.charge_id,
        },
        session_id=doc.session_id,
        dedupe_key=f"manual-restock:{record.refund_id}",
    )


def _log_problem(plan: Plan[Any], doc: StockRefunds, record: RefundRecord, problem: str) -> None:
    plan.log_error(
        "stock_restore",
        "high",
        f"Refund {record.refund_id} names lines that do not match what was sold ({problem}); "
        f"restock by hand with an adjust of reason `return` and reference `{record.refund_id}`.",
        details={"refundId": record.refund_id, "problem": problem},
        session_id=doc.session_id,
        dedupe_key=f"manual-restock:{record.refund_id}",
    )


def _log_ended(
    plan: Plan[Any], doc: StockRefunds, record: RefundRecord, *, took_back: bool
) -> None:
    plan.log_error(
        "stock_restore",
        "high" if took_back else "medium",
        f"Refund {record.refund_id} is {record.status}: the money did not go back, so the sale "
        "stands"
        + (" and the units it had restored were taken out of stock again" if took_back else "")
        + ". If the customer is refunded another way, restock with an adjust of reason "
        f"`return` and reference `{record.refund_id}`.",
        details={"refundId": record.refund_id, "status": record.status},
        session_id=doc.session_id,
        dedupe_key=f"refund-ended:{record.refund_id}",
    )


__all__ = ["LINES_KEY", "UNMATCHED", "load_refunds", "merge_facts", "plan_refunds"]
