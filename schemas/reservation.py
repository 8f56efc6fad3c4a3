"""`stockReservation`: the hold one checkout session has on stock (service-owned).

Its id comes from the checkout session id (`schemas.ids.reservation_id`), so a session can
hold at most one reservation and a concurrent second `create` fails. The status moves

    active -> released | expired | committed
    released | expired -> committed          (a payment that arrived late)
    committed -> partially_refunded -> refunded

and every move sets its own timestamp once (the moves and their table live in
`service.engine.model.transitions`). Reservations, not the product counters, are the
source of truth for reserved quantities: `reconcile` recomputes the counters from them.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field

from schemas.base import TEXT, Model, SanityDocument, Timestamp

RESERVATION_TYPE: Final = "stockReservation"

ReservationStatus = Literal[
    "active", "released", "expired", "committed", "refunded", "partially_refunded"
]

#: Statuses in which the reservation still holds stock.
HOLDING: frozenset[str] = frozenset({"active"})
#: Statuses in which stock was deducted for a payment.
SOLD: frozenset[str] = frozenset({"committed", "partially_refunded", "refunded"})

RestoreReason = Literal["refund", "cancellation", "return"]


Fulfilment = Literal["stock", "backorder", "preorder"]


class Allocation(Model):
    """Units of an item held at (or, once paid, taken from) one stock location."""

    key: str = Field(alias="_key")
    location: str = Field(description="The stockLocation's `_id`.")
    quantity: int = Field(ge=0, description="Units held there while active.")
    committed: int | None = Field(default=None, ge=0, description="Units taken there at payment.")
    restored: int | None = Field(default=None, ge=0, description="Units refunded back there.")


class ReservationItem(Model):
    """One product or variant held by the reservation (lines are merged per product/variant)."""

    key: str = Field(alias="_key")
    product_id: str = Field(description="The product's document `_id`.")
    variant_key: str | None = Field(default=None, description="`_key` of the variant, if any.")
    size: str | None = None
    title: str | None = None
    quantity: int = Field(ge=1, description="Units asked for and held at reserve time.")
    released_quantity: int = Field(default=0, ge=0, description="Units given back early.")
    committed_quantity: int = Field(default=0, ge=0, description="Units deducted at payment.")
    restored_quantity: int = Field(default=0, ge=0, description="Units put back by refunds.")
    backordered: int | None = Field(
        default=None,
        ge=0,
        description="Held units not covered by stock (backorder or pre-order) while active.",
    )
    fulfilment: Fulfilment | None = Field(
        default=None, description="How the line is fulfilled (products with a policy only)."
    )
    backorder_quantity: int | None = Field(
        default=None, ge=0, description="Paid units owed as a backorder (not taken from stock)."
    )
    backorder_filled: int | None = Field(
        default=None, ge=0, description="Backordered units filled by restocks since."
    )
    backorder_cancelled: int | None = Field(
        default=None, ge=0, description="Backordered units cancelled by refunds."
    )
    allocations: list[Allocation] | None = Field(
        default=None, description="Where the held units are (products with stock locations)."
    )

    @property
    def held(self) -> int:
        """Units this item holds while the reservation is active."""
        return self.quantity - self.released_quantity

    @property
    def held_backordered(self) -> int:
        """Held units beyond stock (counted in `backorderReservedQuantity`)."""
        return min(self.held, self.backordered or 0)

    @property
    def open_backorder(self) -> int:
        """Paid units still owed: backordered, not filled by a restock nor cancelled."""
        return max(
            0,
            (self.backorder_quantity or 0)
            - (self.backorder_filled or 0)
            - (self.backorder_cancelled or 0),
        )

    @property
    def restorable(self) -> int:
        """Units paid for (from stock or on backorder) and not restored yet."""
        return self.committed_quantity + (self.backorder_quantity or 0) - self.restored_quantity


class ShortfallLine(Model):
    """A paid line that could not be (fully) taken from stock."""

    key: str = Field(alias="_key")
    product_id: str
    variant_key: str | None = None
    size: str | None = None
    requested: int = Field(ge=0)
    committed: int = Field(ge=0)
    missing: int = Field(ge=0)


class RefundEntry(Model):
    """One restore applied to the reservation (one per reference, e.g. a refund id)."""

    key: str = Field(alias="_key")
    reference: str
    reason: RestoreReason
    quantity: int = Field(ge=0)
    at: Timestamp


class StockReservation(SanityDocument):
    type: Literal["stockReservation"] = Field(default=RESERVATION_TYPE, alias="_type")
    session_id: str = Field(description="The checkout session id this hold belongs to.")
    status: ReservationStatus = "active"
    items: list[ReservationItem] = Field(default_factory=list)
    product_ids: list[str] = Field(
        default_factory=list, description="`_id`s of the products held, for queries."
    )
    created_at: Timestamp
    expires_at: Timestamp
    released_at: Timestamp | None = None
    expired_at: Timestamp | None = None
    committed_at: Timestamp | None = None
    partially_refunded_at: Timestamp | None = None
    refunded_at: Timestamp | None = None
    payment_intent_id: str | None = None
    payment_ref: str | None = Field(default=None, description="Reference the payment came with.")
    late_commit: bool | None = Field(
        default=None, description="Paid after the hold had been released or had expired."
    )
    shortfall: list[ShortfallLine] = Field(default_factory=list)
    open_backorder: bool | None = Field(
        default=None, description="True while some paid units wait for a restock (a backorder)."
    )
    refunds: list[RefundEntry] = Field(default_factory=list)
    reserve_result: str | None = Field(
        default=None,
        description="The reserve's result as JSON, returned again on replays.",
        json_schema_extra=TEXT,
    )
