"""`product`: the editor-owned catalogue document that carries the stock counters.

The shop's own Studio type has many more fields (price, images, ...); they are kept as
extra fields and never touched. stocksync only reads the fields below and patches the two
counters. A product with `variants` keeps its stock per variant; the product-level counters
are then unused.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final, Literal

from pydantic import BeforeValidator, ConfigDict, Field
from pydantic.config import JsonDict

from schemas.base import Counter, Model, SanityDocument

PRODUCT_TYPE: Final = "product"

_READ_ONLY: JsonDict = {"readOnly": True}
#: Stock on hand is the editors' number: Studio may change it (the Sanity webhook records the
#: change in the ledger as type `editor`), so it is validated but not read-only.
_STOCK: JsonDict = {"minimum": 0}
#: Reserved units are derived from the reservations; only stocksync writes them.
_COUNTER: JsonDict = {"minimum": 0, "readOnly": True}
#: Reorder settings: editors' whole numbers >= 0.
_COUNT: JsonDict = {"minimum": 0}

_STOCK_HELP = (
    "Units on hand. Editors may change it here (recorded in stocksync's ledger as an editor "
    "change); stocksync's adjust API and console also record a reason."
)


def _none_as_empty(value: Any) -> Any:
    return [] if value is None else value


def _optional_count(value: Any) -> Any:
    """Reorder settings are advice, not stock: a value that is not a whole number >= 0
    (typed by hand in Studio without the generated rule, or by a script) reads as unset
    instead of making the product unreadable."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value < 0 or (isinstance(value, float) and not value.is_integer()):
        return None
    return int(value)


#: A whole number >= 0 or unset; anything else reads as unset.
OptionalCount = Annotated[int | None, BeforeValidator(_optional_count)]

_REORDER_POINT_HELP = (
    "Available units at or below which stocksync lists this for reordering and sends one "
    "reorder alert (again only after stock has risen above it)."
)
_REORDER_QUANTITY_HELP = "Units to order when it reaches its reorder point."
_SUGGESTED = "stocksync suggests the units that bring cover to 30 days at the recent sales rate"

#: What happens when a line asks for more than is available: refuse it (`deny`, the
#: default), or sell the rest on backorder or as a pre-order.
InventoryPolicy = Literal["deny", "backorder", "preorder"]
_POLICIES: frozenset[str] = frozenset({"deny", "backorder", "preorder"})
_POLICY_HELP = (
    "deny: sell only what is in stock (default). backorder: keep selling beyond stock, up to "
    "the backorder limit; paid units beyond stock wait as backorders that a restock fills "
    "oldest first. preorder: the same, shown as a pre-order until the available-from date."
)
_LIMIT_HELP = (
    "Units that may be owed beyond stock (held by open checkouts plus paid and not yet filled)."
)
_AVAILABLE_FROM_HELP = "Pre-orders: the date the product ships from."
_BACKORDERED_HELP = "Paid units not yet filled from stock (open backorders). Managed by stocksync."
_BACKORDER_HELD_HELP = (
    "Units beyond stock held by open checkouts (backorders or pre-orders not paid yet). "
    "Managed by stocksync."
)


def _optional_policy(value: Any) -> Any:
    """An unknown policy (a typo in a script) reads as unset, which sells like `deny`:
    never more than is in stock (design rule 10)."""
    return value if isinstance(value, str) and value in _POLICIES else None


def _optional_date(value: Any) -> Any:
    """A Sanity `date` (YYYY-MM-DD, or a datetime string); anything else reads as unset."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return value if isinstance(value, date) else None


OptionalPolicy = Annotated[InventoryPolicy | None, BeforeValidator(_optional_policy)]
OptionalDate = Annotated[date | None, BeforeValidator(_optional_date)]


class Slug(Model):
    model_config = ConfigDict(extra="allow")

    current: str | None = None


class Variant(Model):
    """One sellable size of a product, with its own stock."""

    model_config = ConfigDict(extra="allow", title="Variant")

    key: str | None = Field(default=None, alias="_key")
    size: str | None = Field(default=None, description="Size as shown to customers, e.g. m.")
    sku: str | None = Field(default=None, title="SKU")
    stock_quantity: Counter = Field(
        default=0, title="Stock", description=_STOCK_HELP, json_schema_extra=_STOCK
    )
    reserved_quantity: Counter = Field(
        default=0,
        title="Reserved",
        description="Units held by open checkouts. Managed by stocksync.",
        json_schema_extra=_COUNTER,
    )
    stripe_price_id: str | None = Field(
        default=None, title="Stripe price id", json_schema_extra=_READ_ONLY
    )
    reorder_point: OptionalCount = Field(
        default=None,
        title="Reorder point",
        description=f"{_REORDER_POINT_HELP} Empty: the product's reorder point.",
        json_schema_extra=_COUNT,
    )
    reorder_quantity: OptionalCount = Field(
        default=None,
        title="Reorder quantity",
        description=f"{_REORDER_QUANTITY_HELP} Empty: the product's, else {_SUGGESTED}.",
        json_schema_extra=_COUNT,
    )
    inventory_policy: OptionalPolicy = Field(
        default=None,
        title="Inventory policy",
        description=_POLICY_HELP + " Empty: the product's.",
        json_schema_extra={"enum": ["deny", "backorder", "preorder"]},
    )
    backorder_limit: OptionalCount = Field(
        default=None,
        title="Backorder limit",
        description=_LIMIT_HELP + " Empty: the product's (no limit when it has none either).",
        json_schema_extra=_COUNT,
    )
    available_from: OptionalDate = Field(
        default=None,
        title="Available from",
        description=_AVAILABLE_FROM_HELP + " Empty: the product's.",
    )
    backordered_quantity: Counter = Field(
        default=0,
        title="Backordered",
        description=_BACKORDERED_HELP,
        json_schema_extra=_COUNTER,
    )
    backorder_reserved_quantity: Counter = Field(
        default=0,
        title="Held beyond stock",
        description=_BACKORDER_HELD_HELP,
        json_schema_extra=_COUNTER,
    )


class Product(SanityDocument):
    """A catalogue product as stocksync reads it (counters missing -> 0)."""

    model_config = ConfigDict(extra="allow", title="Product")

    type: Literal["product"] = Field(default=PRODUCT_TYPE, alias="_type")
    title: str | None = None
    slug: Slug | None = None
    sku: str | None = Field(
        default=None,
        title="SKU",
        description="Stock-keeping unit of the product (sized products: each size has its own).",
    )
    stock_quantity: Counter = Field(
        default=0,
        title="Stock",
        description=f"{_STOCK_HELP} Products without variants only.",
        json_schema_extra=_STOCK,
    )
    reserved_quantity: Counter = Field(
        default=0,
        title="Reserved",
        description="Units held by open checkouts. Managed by stocksync.",
        json_schema_extra=_COUNTER,
    )
    low_stock_threshold: int | None = Field(
        default=None,
        ge=0,
        title="Low-stock threshold",
        description="Available units at or below which the product shows as low stock "
        "(stocksync's default when empty).",
    )
    reorder_point: OptionalCount = Field(
        default=None,
        title="Reorder point",
        description=f"{_REORDER_POINT_HELP} With variants: for each size without its own.",
        json_schema_extra=_COUNT,
    )
    reorder_quantity: OptionalCount = Field(
        default=None,
        title="Reorder quantity",
        description=f"{_REORDER_QUANTITY_HELP} Empty: {_SUGGESTED}. "
        "With variants: for each size without its own.",
        json_schema_extra=_COUNT,
    )
    inventory_policy: OptionalPolicy = Field(
        default=None,
        title="Inventory policy",
        description=_POLICY_HELP + " With variants: for each size without its own.",
        json_schema_extra={"enum": ["deny", "backorder", "preorder"]},
    )
    backorder_limit: OptionalCount = Field(
        default=None,
        title="Backorder limit",
        description=_LIMIT_HELP + " Empty: no limit. With variants: for each size without its own.",
        json_schema_extra=_COUNT,
    )
    available_from: OptionalDate = Field(
        default=None,
        title="Available from",
        description=_AVAILABLE_FROM_HELP + " With variants: for each size without its own.",
    )
    backordered_quantity: Counter = Field(
        default=0,
        title="Backordered",
        description=_BACKORDERED_HELP,
        json_schema_extra=_COUNTER,
    )
    backorder_reserved_quantity: Counter = Field(
        default=0,
        title="Held beyond stock",
        description=_BACKORDER_HELD_HELP,
        json_schema_extra=_COUNTER,
    )
    variants: Annotated[list[Variant], BeforeValidator(_none_as_empty)] = Field(
        default_factory=list,
        description="Sizes with their own stock. When present, stock is kept per variant.",
    )

    @property
    def slug_current(self) -> str | None:
        return self.slug.current if self.slug else None


#: The product fields stocksync owns or reads; the generated Studio schema covers these.
PRODUCT_STOCK_FIELDS = (
    "sku",
    "stock_quantity",
    "reserved_quantity",
    "low_stock_threshold",
    "reorder_point",
    "reorder_quantity",
    "inventory_policy",
    "backorder_limit",
    "available_from",
    "backordered_quantity",
    "backorder_reserved_quantity",
    "variants",
)
