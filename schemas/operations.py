"""Requests and results of the inventory operations (engine level, not HTTP).

The HTTP layer translates storefront payloads into these and results back. Results dump to
JSON with camelCase names; idempotency records store them that way and replays parse them
back, so a replay returns exactly the original result.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import Model, Timestamp, WholeNumber
from schemas.product import InventoryPolicy, Quarantine
from schemas.reservation import Fulfilment, ReservationStatus, RestoreReason


def _unset(value: object) -> bool:
    """Fields added for policies and locations are left out when unset, so answers about
    products without them read exactly as before."""
    return value is None


AdjustReason = Literal["restock", "correction", "damage", "return", "initial"]
StockState = Literal["in_stock", "low_stock", "out_of_stock", "backorder", "preorder"]
LineCode = Literal[
    "ok",
    "insufficient_stock",
    "product_not_found",
    "variant_not_found",
    "variant_required",
    "product_quarantined",
]


class LineRequest(Model):
    """A cart line: a product (`_id` or slug), optionally a variant, and a quantity.

    The variant is chosen by `variant_key` (the variant's `_key`) or else by `size`
    (case-insensitive). Bounds on quantity and line count are configurable and checked by
    the engine.
    """

    product_id: str = Field(min_length=1, max_length=200)
    quantity: WholeNumber = Field(ge=1)
    variant_key: str | None = Field(default=None, max_length=200)
    size: str | None = Field(default=None, max_length=100)


class LineOutcome(Model):
    """What one (merged) reserve line asked for and what was available before this request."""

    product_id: str = Field(description="The product as the caller named it (`_id` or slug).")
    resolved_id: str | None = Field(default=None, description="The product's `_id`.")
    title: str | None = None
    variant_key: str | None = None
    size: str | None = None
    requested: int
    available: int
    code: LineCode = "ok"
    message: str = ""
    backordered: int | None = Field(
        exclude_if=_unset,
        default=None,
        description="Units not covered by stock (products with an inventory policy only).",
    )
    fulfilment: Fulfilment | None = Field(
        exclude_if=_unset,
        default=None,
        description="stock, backorder or preorder (products with a policy only).",
    )
    backorder_available: int | None = Field(
        exclude_if=_unset,
        default=None,
        description="Units that could still be sold beyond stock, before this.",
    )


class ItemChange(Model):
    """Units of one product or variant moved by an operation."""

    product_id: str = Field(description="The product's document `_id`.")
    slug: str | None = Field(default=None, description="The product's slug, when it has one.")
    variant_key: str | None = None
    size: str | None = None
    quantity: int


class ShortfallOutcome(Model):
    product_id: str
    variant_key: str | None = None
    size: str | None = None
    requested: int
    committed: int
    missing: int


class ReserveResult(Model):
    session_id: str
    reservation_id: str
    status: ReservationStatus
    expires_at: Timestamp
    lines: list[LineOutcome]
    replayed: bool = False
    reclaimed: list[str] = Field(
        default_factory=list,
        description="Session ids of expired holds this reserve released to make room.",
    )


class ReleaseResult(Model):
    session_id: str
    reservation_id: str
    status: ReservationStatus
    released: list[ItemChange]
    replayed: bool = False


class CommitResult(Model):
    session_id: str
    reservation_id: str
    status: ReservationStatus
    payment_ref: str | None
    late: bool = Field(default=False, description="The hold had been released or had expired.")
    committed: list[ItemChange]
    backordered: list[ItemChange] | None = Field(
        exclude_if=_unset,
        default=None,
        description="Paid units owed as backorders (not taken from stock).",
    )
    shortfall: list[ShortfallOutcome] = Field(default_factory=list)
    replayed: bool = False


class RestoreResult(Model):
    session_id: str
    reservation_id: str
    reference: str
    reason: RestoreReason
    status: ReservationStatus
    restored: list[ItemChange]
    replayed: bool = False


class PaymentIntentResult(Model):
    session_id: str
    reservation_id: str
    status: ReservationStatus
    payment_intent_id: str
    expires_at: Timestamp


class AdjustResult(Model):
    product_id: str = Field(description="The product's `_id`.")
    variant_key: str | None = None
    size: str | None = None
    reason: AdjustReason
    previous_stock: int
    new_stock: int
    reserved: int
    available: int
    ledger_id: str | None = Field(default=None, description="None when nothing changed.")
    backorder_filled: int | None = Field(
        exclude_if=_unset,
        default=None,
        description="Units of this restock that filled open backorders first.",
    )
    backordered: int | None = Field(
        exclude_if=_unset,
        default=None,
        description="Units still owed on backorder (products with a policy).",
    )
    location: str | None = Field(
        exclude_if=_unset, default=None, description="The location changed (its slug)."
    )
    location_stock: int | None = Field(
        exclude_if=_unset, default=None, description="Stock at that location now."
    )
    replayed: bool = False


class ExpireResult(Model):
    expired: list[str] = Field(default_factory=list, description="Session ids expired.")
    failed: list[str] = Field(
        default_factory=list, description="Session ids left for the next run (conflicts)."
    )


class CellDrift(Model):
    """A counter that did not match the active reservations, and what it was set to."""

    product_id: str
    variant_key: str | None = None
    size: str | None = None
    recorded: int
    expected: int
    counter: str | None = Field(
        exclude_if=_unset,
        default=None,
        description="The counter repaired, when not `reservedQuantity`.",
    )
    location: str | None = Field(
        exclude_if=_unset, default=None, description="Stock location (`_id`), if any."
    )


class ReconcileResult(Model):
    products_checked: int = 0
    repaired: list[CellDrift] = Field(default_factory=list)
    negative_stock: list[CellDrift] = Field(
        default_factory=list, description="Stock below zero: reported, not changed."
    )
    settling: list[str] = Field(
        default_factory=list, description="Products changed too recently to judge; next run."
    )
    failed: list[str] = Field(default_factory=list)
    quarantined: list[Quarantine] = Field(
        default_factory=list,
        description="Products whose stock fields cannot be read: skipped until an editor "
        "fixes the field named.",
    )
    unquarantined: list[str] = Field(
        default_factory=list,
        description="Products quarantined before that read again: their quarantine errorLogs "
        "were resolved (by `stocksync`), so health stops naming them.",
    )

    @property
    def unsettled(self) -> bool:
        """Whether anything was left for a later run or a person (the CLI's exit code)."""
        return bool(self.settling or self.failed or self.quarantined)


class PurgeResult(Model):
    idempotency_records: int = 0
    error_logs: int = 0


class VariantStatus(Model):
    variant_key: str | None
    size: str | None
    sku: str | None = None
    total: int
    reserved: int
    available: int
    state: StockState
    inventory_policy: InventoryPolicy | None = Field(
        exclude_if=_unset, default=None, description="Products with an inventory policy only."
    )
    backorder_available: int | None = Field(
        exclude_if=_unset,
        default=None,
        description="Units that can still be sold beyond stock (omitted: no limit, or deny).",
    )
    backordered: int | None = Field(
        exclude_if=_unset, default=None, description="Paid units owed (backorders)."
    )
    available_from: str | None = Field(
        exclude_if=_unset, default=None, description="Pre-orders: shipping date."
    )
    locations: list[LocationFigures] | None = Field(
        exclude_if=_unset, default=None, description="Stock per location (if kept so)."
    )


class ProductStatus(Model):
    product_id: str = Field(description="The product as the caller named it (`_id` or slug).")
    id: str = Field(description="The product's `_id`.")
    title: str | None
    slug: str | None
    sku: str | None = None
    total: int
    reserved: int
    available: int
    state: StockState
    low_stock_threshold: int
    inventory_policy: InventoryPolicy | None = Field(
        exclude_if=_unset, default=None, description="Products with an inventory policy only."
    )
    backorder_available: int | None = Field(
        exclude_if=_unset,
        default=None,
        description="Units that can still be sold beyond stock (omitted: no limit, or deny).",
    )
    backordered: int | None = Field(
        exclude_if=_unset, default=None, description="Paid units owed (backorders)."
    )
    available_from: str | None = Field(
        exclude_if=_unset, default=None, description="Pre-orders: shipping date."
    )
    locations: list[LocationFigures] | None = Field(
        exclude_if=_unset, default=None, description="Stock per location (if kept so)."
    )
    location: str | None = Field(
        exclude_if=_unset, default=None, description="Figures of this location only."
    )
    variants: list[VariantStatus] | None = None


class QuarantinedStatus(Model):
    """A product named in a status request whose stock fields cannot be read."""

    product_id: str = Field(description="The product as the caller named it (`_id` or slug).")
    id: str = Field(description="The product's `_id`.")
    title: str
    field: str = Field(description="The field in Sanity's path syntax, e.g. variants[2].size.")
    reason: str


class StatusResult(Model):
    products: list[ProductStatus]
    not_found: list[str] = Field(default_factory=list)
    quarantined: list[QuarantinedStatus] = Field(
        default_factory=list,
        description="Named products whose stock fields cannot be read (field and reason).",
    )
    checked_at: Timestamp


class ReserveRequest(Model):
    session_id: str = Field(min_length=1)
    lines: list[LineRequest]
    ttl_seconds: WholeNumber | None = Field(default=None, ge=1)


class ReleaseRequest(Model):
    session_id: str = Field(min_length=1)
    lines: list[LineRequest] | None = None


class CommitRequest(Model):
    session_id: str = Field(min_length=1)
    payment_ref: str | None = None


class RestoreRequest(Model):
    session_id: str = Field(min_length=1)
    reference: str = Field(min_length=1)
    reason: RestoreReason = "refund"
    lines: list[LineRequest] | None = None


class TransferRequest(Model):
    product_id: str = Field(min_length=1)
    variant_key: str | None = None
    size: str | None = None
    from_location: str = Field(min_length=1, description="Slug of the location units leave.")
    to_location: str = Field(min_length=1, description="Slug of the location units go to.")
    quantity: int = Field(ge=1)
    note: str | None = None
    actor: str = "system"


class TransferResult(Model):
    product_id: str
    variant_key: str | None = None
    size: str | None = None
    from_location: str
    to_location: str
    quantity: int
    from_stock: int = Field(description="Stock left at `from`.")
    to_stock: int = Field(description="Stock at `to` now.")
    ledger_ids: list[str]
    replayed: bool = False


class LocationFigures(Model):
    """One product's or variant's stock at one location."""

    location: str = Field(description="The location's slug (else its `_id`).")
    name: str | None = None
    active: bool
    stock: int
    reserved: int
    available: int = Field(description="0 at an inactive location.")


class AdjustRequest(Model):
    product_id: str = Field(min_length=1)
    #: Slug of the location the change is at (required for products stocked by location).
    location: str | None = None
    variant_key: str | None = None
    size: str | None = None
    set_to: WholeNumber | None = None
    delta: WholeNumber | None = None
    reason: AdjustReason
    actor: str = "system"
    note: str | None = None
    #: Staff override: set stock below what open checkouts hold (they may then oversell).
    allow_below_reserved: bool = False
    #: With reason `return`: the refund (`re_...`) or checkout session the units came back
    #: from; they then count as returned on that sale.
    reference: str | None = None
