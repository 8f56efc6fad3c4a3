"""`inventoryTransaction`: the ledger, one entry per product or variant change (service-owned).

Every change stocksync makes to a counter writes an entry in the same transaction, so the
ledger explains every service change of `stockQuantity` and `reservedQuantity`.
`quantityChange` is signed and refers to the counter the entry's type is about:
`reservedQuantity` (plus `backorderReservedQuantity`: units held beyond stock) for
reservation, release, expiry and reconcile; `backorderedQuantity` for backorder (paid units
owed), backorder_fill (a restock filled them) and backorder_cancel (a refund cancelled them);
`stockQuantity` for every other type. The previous and new values of both counters are
always recorded.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field

from schemas.base import Model, SanityDocument, Timestamp

LEDGER_TYPE: Final = "inventoryTransaction"

LedgerEntryType = Literal[
    "reservation",
    "release",
    "expiry",
    "sale",
    "refund",
    "cancellation",
    "restock",
    "correction",
    "damage",
    "return",
    "initial",
    "editor",
    "reconcile",
    "backorder",
    "backorder_fill",
    "backorder_cancel",
    "transfer",
]

#: Entry types whose `quantityChange` is a change of `reservedQuantity`.
RESERVED_TYPES: frozenset[str] = frozenset({"reservation", "release", "expiry", "reconcile"})
#: Entry types whose `quantityChange` is a change of `backorderedQuantity`.
BACKORDER_TYPES: frozenset[str] = frozenset({"backorder", "backorder_fill", "backorder_cancel"})


class LocationChange(Model):
    """What one entry changed at one stock location (products stocked by location)."""

    key: str = Field(alias="_key")
    location: str = Field(description="The stockLocation `_id`.")
    stock_change: int = 0
    reserved_change: int = 0


class InventoryTransaction(SanityDocument):
    type: Literal["inventoryTransaction"] = Field(default=LEDGER_TYPE, alias="_type")
    product_id: str
    product_title: str | None = None
    variant_key: str | None = None
    size: str | None = None
    entry_type: LedgerEntryType = Field(alias="type")
    quantity_change: int
    previous_stock_quantity: int
    new_stock_quantity: int
    previous_reserved_quantity: int
    new_reserved_quantity: int
    previous_backordered_quantity: int | None = Field(
        default=None, description="Products with an inventory policy: open backorders before."
    )
    new_backordered_quantity: int | None = None
    location: str | None = Field(
        default=None, description="The stockLocation `_id`, when the change is at one place."
    )
    location_changes: list[LocationChange] | None = Field(
        default=None, description="Products stocked by location: the change at each one."
    )
    reason: str | None = None
    reference_id: str | None = Field(
        default=None, description="Checkout session, refund, event or order the change is for."
    )
    actor: str = Field(default="system", description="Staff member's name, or system.")
    transaction_id: str | None = Field(
        default=None, description="The store transaction that applied the change."
    )
    created_at: Timestamp

    @property
    def stock_change(self) -> int:
        return self.new_stock_quantity - self.previous_stock_quantity

    @property
    def reserved_change(self) -> int:
        return self.new_reserved_quantity - self.previous_reserved_quantity
