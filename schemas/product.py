"""`product`: the editor-owned catalogue document that carries the stock counters.

The shop's own Studio type has many more fields (price, images, ...); they are kept as
extra fields and never touched. stocksync only reads the fields below and patches the two
counters. A product with `variants` keeps its stock per variant; the product-level counters
are then unused.

Reading is tolerant (design rule 10): Studios, scripts and imports save whatever their own
schema allows, so fields stocksync only shows (title, slug, size, sku) are read in any
shape, and only the stock fields it counts with must be whole numbers. `read_product`
answers a `Quarantine` (which field, why) for a document whose stock fields cannot be
interpreted, instead of raising: one odd product must never break the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Annotated, Any, Final, Literal

from pydantic import BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.config import JsonDict

from schemas.base import Counter, Model, SanityDocument, json_type
from schemas.display import as_text, first_text

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


def _list_of(rows: str) -> Callable[[Any], Any]:
    """A validator: missing -> no rows; anything but a list cannot be counted with."""

    def read(value: Any) -> Any:
        if value is None:
            return []
        if not isinstance(value, list):
            raise ValueError(f"must be a list of {rows}, not {json_type(value)}")
        return value

    return read


_variant_list = _list_of("variants")
_location_list = _list_of("location rows")


def _slug(value: Any) -> Any:
    """`{"_type": "slug", "current": "x"}` as Studio saves it; a script's plain `"x"` too."""
    if isinstance(value, str):
        return {"current": value}
    return value if isinstance(value, Mapping) else None


def _threshold(value: Any) -> Any:
    """An editor's threshold in a shape stocksync cannot use falls back to the default."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _key(value: Any) -> Any:
    return value if isinstance(value, str) else None


#: Text stocksync only shows (title) or matches (size, sku): any shape reads as text or None.
ShownText = Annotated[str | None, BeforeValidator(first_text)]
MatchedText = Annotated[str | None, BeforeValidator(as_text)]


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

    current: MatchedText = None


class LocationRef(Model):
    model_config = ConfigDict(extra="allow")

    ref: str | None = Field(default=None, alias="_ref")


class LocationStock(Model):
    """Stock of one product or variant at one location."""

    model_config = ConfigDict(extra="allow", title="LocationStock")

    key: str | None = Field(default=None, alias="_key")
    location: LocationRef | None = Field(
        default=None,
        description="The stock location.",
        json_schema_extra={"x-studio-type": "reference", "x-studio-to": "stockLocation"},
    )
    stock: Counter = Field(
        default=0,
        title="Stock",
        description="Units on hand here. stocksync keeps the product's stock the sum.",
        json_schema_extra=_STOCK,
    )
    reserved: Counter = Field(
        default=0,
        title="Reserved",
        description="Units held here by open checkouts. Managed by stocksync.",
        json_schema_extra=_COUNTER,
    )

    @property
    def location_id(self) -> str | None:
        return self.location.ref if self.location else None


class Variant(Model):
    """One sellable size of a product, with its own stock."""

    model_config = ConfigDict(extra="allow", title="Variant")

    key: Annotated[str | None, BeforeValidator(_key)] = Field(default=None, alias="_key")
    size: MatchedText = Field(default=None, description="Size as shown to customers, e.g. m.")
    sku: MatchedText = Field(default=None, title="SKU")
    stock_quantity: Counter = Field(
        default=0, title="Stock", description=_STOCK_HELP, json_schema_extra=_STOCK
    )
    reserved_quantity: Counter = Field(
        default=0,
        title="Reserved",
        description="Units held by open checkouts. Managed by stocksync.",
        json_schema_extra=_COUNTER,
    )
    stripe_price_id: MatchedText = Field(
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
    location_stock: Annotated[list[LocationStock], BeforeValidator(_location_list)] = Field(
        default_factory=list,
        title="Stock by location",
        description="Stock per location; when present the stock and reserved counters are "
        "its sums (change stock per location through stocksync: adjust with a location, "
        "or transfer).",
    )


class Product(SanityDocument):
    """A catalogue product as stocksync reads it (counters missing -> 0)."""

    model_config = ConfigDict(extra="allow", title="Product")

    type: Literal["product"] = Field(default=PRODUCT_TYPE, alias="_type")
    title: ShownText = None
    slug: Annotated[Slug | None, BeforeValidator(_slug)] = None
    sku: MatchedText = Field(
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
    low_stock_threshold: Annotated[int | None, BeforeValidator(_threshold)] = Field(
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
    location_stock: Annotated[list[LocationStock], BeforeValidator(_location_list)] = Field(
        default_factory=list,
        title="Stock by location",
        description="Stock per location; when present the stock and reserved counters are "
        "its sums (change stock per location through stocksync: adjust with a location, "
        "or transfer).",
    )
    variants: Annotated[list[Variant], BeforeValidator(_variant_list)] = Field(
        default_factory=list,
        description="Sizes with their own stock. When present, stock is kept per variant.",
    )

    @property
    def slug_current(self) -> str | None:
        return self.slug.current if self.slug else None

    @property
    def display_title(self) -> str:
        """What people see: the title as text, or the `_id` when there is none."""
        return self.title or self.id


class Quarantine(Model):
    """Why a product document cannot be counted with: the first field found, and the reason.

    Stock of a quarantined product is neither shown nor changed until an editor fixes the
    field; every other product keeps working.
    """

    product_id: str = Field(description="The product's `_id`.")
    title: str = Field(description="The title as text, or the `_id`.")
    field: str = Field(description="The field in Sanity's path syntax, e.g. variants[2].size.")
    reason: str


def read_product(doc: Mapping[str, Any]) -> Product | Quarantine:
    """The product, or its `Quarantine` when a stock field cannot be interpreted."""
    try:
        return Product.model_validate(doc)
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        doc_id = doc.get("_id")
        product_id = doc_id if isinstance(doc_id, str) else "?"
        return Quarantine(
            product_id=product_id,
            title=first_text(doc.get("title")) or product_id,
            field=field_path(problem["loc"]),
            reason=_reason(problem),
        )


def field_path(loc: Sequence[int | str]) -> str:
    """`("variants", 2, "stockQuantity")` -> `variants[2].stockQuantity`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "document"


def _reason(problem: Mapping[str, Any]) -> str:
    if problem.get("type") in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be an object, not {json_type(problem.get('input'))}"
    if problem.get("type") == "string_type":
        return f"must be text, not {json_type(problem.get('input'))}"
    message = str(problem.get("msg", "cannot be read"))
    # pydantic's "Value error, ..." prefix says nothing to an editor.
    return message.removeprefix("Value error, ")


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
    "location_stock",
    "variants",
)
