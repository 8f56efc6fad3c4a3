"""The reservation state machine: every status move a reservation can make, as one
function each, and the table that says which moves exist.

    active -> active                      (part released; payment intent recorded)
    active -> released | expired | committed
    released | expired -> committed       (a payment that arrived late)
    committed | partially_refunded | refunded -> committed | partially_refunded | refunded
                                          (units restored, or a refund that failed or was
                                           canceled taken back)

Planners decide *whether* a move happens and what stock moves with it; the new reservation
always comes from here, so a status and its timestamp (set once, on first entry) can never
disagree, and a move the table does not allow is a bug that fails loudly
(`IllegalTransition`) instead of a silently wrong document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from schemas.reservation import (
    RefundEntry,
    ReservationItem,
    ReservationStatus,
    RestoreReason,
    ShortfallLine,
    StockReservation,
)

#: Which statuses a reservation may move to from each status.
TRANSITIONS: Mapping[ReservationStatus, frozenset[ReservationStatus]] = {
    "active": frozenset({"active", "released", "expired", "committed"}),
    "released": frozenset({"released", "committed"}),
    "expired": frozenset({"expired", "committed"}),
    "committed": frozenset({"committed", "partially_refunded", "refunded"}),
    "partially_refunded": frozenset({"committed", "partially_refunded", "refunded"}),
    "refunded": frozenset({"committed", "partially_refunded", "refunded"}),
}

#: The timestamp each status sets when a reservation first enters it.
_ENTERED_AT: Mapping[ReservationStatus, str] = {
    "released": "released_at",
    "expired": "expired_at",
    "committed": "committed_at",
    "partially_refunded": "partially_refunded_at",
    "refunded": "refunded_at",
}


class IllegalTransition(RuntimeError):
    """A planner asked for a move the state machine does not have (a bug, never input)."""

    def __init__(self, reservation: StockReservation, to: ReservationStatus) -> None:
        super().__init__(f"reservation {reservation.id}: no move {reservation.status} -> {to}")


def _move(
    reservation: StockReservation, to: ReservationStatus, now: datetime, **fields: Any
) -> StockReservation:
    if to not in TRANSITIONS[reservation.status]:
        raise IllegalTransition(reservation, to)
    update: dict[str, Any] = {"status": to, **fields}
    stamp = _ENTERED_AT.get(to)
    if stamp is not None and getattr(reservation, stamp) is None:
        update[stamp] = now
    return reservation.model_copy(update=update)


def _items_with(
    reservation: StockReservation, field: str, values: Mapping[str, int]
) -> list[ReservationItem]:
    """The reservation's items with `field` set per item key (others unchanged)."""
    return [
        item.model_copy(update={field: values[item.key]}) if item.key in values else item
        for item in reservation.items
    ]


def with_item_fields(
    reservation: StockReservation, fields: Mapping[str, Mapping[str, Any]], **extra: Any
) -> StockReservation:
    """The same status with more recorded per item (item key -> fields) and on the
    reservation: what backorders and locations add to a move (no status change)."""
    items = [
        item.model_copy(update=dict(fields[item.key])) if item.key in fields else item
        for item in reservation.items
    ]
    return reservation.model_copy(update={"items": items, **extra})


def expire(reservation: StockReservation, now: datetime) -> StockReservation:
    """An overdue hold ends: its items keep what the cart held (a late payment needs it)."""
    return _move(reservation, "expired", now, expired_at=now)


def release(
    reservation: StockReservation, now: datetime, quantities: Mapping[str, int]
) -> StockReservation:
    """Give back `quantities` (item key -> units). All of what is held ends the hold
    (released; items keep what the cart held, a late payment needs it); less keeps it
    active with less held."""
    whole = all(quantities.get(item.key, 0) == item.held for item in reservation.items)
    if whole:
        return _move(reservation, "released", now, released_at=now)
    released = {
        item.key: item.released_quantity + quantities.get(item.key, 0) for item in reservation.items
    }
    return _move(
        reservation, "active", now, items=_items_with(reservation, "released_quantity", released)
    )


def record_payment_intent(
    reservation: StockReservation, now: datetime, payment_intent_id: str, hold_until: datetime
) -> StockReservation:
    """Remember an unpaid checkout's payment intent; an active hold lasts at least until
    `hold_until`. Any status may learn its intent; only an active hold is extended."""
    update: dict[str, Any] = {"payment_intent_id": payment_intent_id}
    if reservation.status == "active" and reservation.expires_at < hold_until:
        update["expires_at"] = hold_until
    return reservation.model_copy(update=update)


def commit(
    reservation: StockReservation,
    now: datetime,
    *,
    taken: Mapping[str, int],
    payment_ref: str | None,
    shortfall: Sequence[ShortfallLine],
) -> StockReservation:
    """Paid: `taken` (item key -> units deducted) is what left stock. From released or
    expired the commit is late (recorded as such)."""
    late = reservation.status != "active"
    return _move(
        reservation,
        "committed",
        now,
        items=_items_with(reservation, "committed_quantity", dict(taken)),
        payment_ref=payment_ref,
        late_commit=late or None,
        shortfall=list(shortfall),
    )


def restore(
    reservation: StockReservation,
    now: datetime,
    *,
    added: Mapping[str, int],
    reference: str,
    reason: RestoreReason,
) -> StockReservation:
    """Units put back once more (`added`, item key -> units), under one refund entry.
    Refunded when nothing restorable is left, else partially refunded."""
    restored = {
        item.key: item.restored_quantity + added.get(item.key, 0) for item in reservation.items
    }
    items = _items_with(reservation, "restored_quantity", restored)
    entry = RefundEntry(
        key=f"r{len(reservation.refunds)}",
        reference=reference,
        reason=reason,
        quantity=sum(added.values()),
        at=now,
    )
    fully = all(item.restorable == 0 for item in items)
    to: ReservationStatus = "refunded" if fully else "partially_refunded"
    return _move(reservation, to, now, items=items, refunds=[*reservation.refunds, entry])


def set_restored(
    reservation: StockReservation,
    now: datetime,
    restored: Mapping[str, int],
    refunds: Sequence[RefundEntry],
) -> StockReservation:
    """A sale's restored units, as now known (item key -> units; a refund that failed
    takes units back): refunded when nothing restorable is left, partially refunded when
    some was restored, committed again when nothing is."""
    items = _items_with(reservation, "restored_quantity", restored)
    total = sum(item.restored_quantity for item in items)
    fully = all(item.restorable == 0 for item in items)
    to: ReservationStatus = (
        "refunded" if fully and total else "partially_refunded" if total else "committed"
    )
    return _move(reservation, to, now, items=items, refunds=list(refunds))
