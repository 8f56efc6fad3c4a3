"""Payloads of the storefront routes, with the field names of the storefront contract
(section 1.4 of the contract stocksync replaces); fields were only added, never renamed.

In that contract every `productId` is the product's slug; stocksync also accepts `_id`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from schemas.base import Timestamp, WholeNumber
from schemas.operations import (
    ItemChange,
    LineCode,
    LineOutcome,
    LocationFigures,
    ProductStatus,
    QuarantinedStatus,
    ReleaseResult,
    ReserveResult,
    StockState,
    VariantStatus,
)
from schemas.product import InventoryPolicy
from schemas.reservation import Fulfilment, ReservationStatus
from service.config import LINES_CEILING, QUANTITY_CEILING, TTL_CEILING_MINUTES
from service.entrypoints.http.base_models import LineModel, RequestModel, ResponseModel


def _unset(value: object) -> bool:
    """Policy fields show only for products that have a policy (others read as before)."""
    return value is None


ProductRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="The product's slug (`slug.current`) or document `_id`.",
        examples=["railcam"],
    ),
]
SessionId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        description="The checkout session id (e.g. Stripe's `cs_...`); one reservation "
        "per session.",
        examples=["cs_test_a1b2c3"],
    ),
]
Size = Annotated[
    str | None,
    Field(
        max_length=100,
        description="Size of a sized product, compared case-insensitively (`M` finds `m`).",
        examples=["m"],
    ),
]
VariantKey = Annotated[
    str | None,
    Field(
        max_length=200,
        description="`_key` of the variant; wins over `size` when both are given.",
    ),
]


class StockOperation(LineModel):
    """One cart line (other fields of the line are ignored)."""

    product_id: ProductRef
    quantity: WholeNumber = Field(
        ge=1,
        le=QUANTITY_CEILING,
        description="Units; at most STOCKSYNC_MAX_QUANTITY_PER_LINE (default 50) per product "
        "or size.",
    )
    size: Size = None
    variant_key: VariantKey = None


class ReserveStockRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "operations": [
                        {"productId": "railcam", "quantity": 1},
                        {"productId": "halloween-tee", "quantity": 2, "size": "M"},
                    ],
                    "sessionId": "cs_test_a1b2c3",
                    "expirationMinutes": 30,
                }
            ]
        }
    )

    operations: list[StockOperation] = Field(
        min_length=1,
        max_length=LINES_CEILING,
        description="Cart lines; at most STOCKSYNC_MAX_LINES (default 100). Lines of the same "
        "product and size are added up before checking.",
    )
    session_id: SessionId
    expiration_minutes: WholeNumber | None = Field(
        default=None,
        ge=1,
        le=TTL_CEILING_MINUTES,
        description="Hold time; default STOCKSYNC_RESERVATION_TTL_MINUTES (30), longer asks "
        "are cut to STOCKSYNC_RESERVATION_MAX_TTL_MINUTES (60).",
    )


class ReservedLine(ResponseModel):
    product_id: str = Field(description="As the request named it.")
    resolved_id: str | None = Field(default=None, description="The product's `_id`.")
    product_title: str | None = None
    size: str | None = None
    variant_key: str | None = None
    quantity: int
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
    available: int = Field(
        description="Units still available to other shoppers once this hold is counted."
    )

    @classmethod
    def of(cls, line: LineOutcome) -> ReservedLine:
        return cls(
            product_id=line.product_id,
            resolved_id=line.resolved_id,
            product_title=line.title,
            size=line.size,
            variant_key=line.variant_key,
            quantity=line.requested,
            # The engine reports what it found before holding; the shopper wants what is left.
            available=max(0, line.available - line.requested),
            backordered=line.backordered,
            fulfilment=line.fulfilment,
        )


class ReservationInfo(ResponseModel):
    reservation_id: str
    status: ReservationStatus
    expires_at: Timestamp
    replayed: bool = Field(description="True when this session had already reserved these lines.")
    reclaimed: list[str] = Field(
        description="Sessions whose expired holds were released to make room."
    )
    lines: list[ReservedLine]


class ReserveStockResponse(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "success": True,
                    "errors": [],
                    "message": "Stock reserved successfully",
                    "sessionId": "cs_test_a1b2c3",
                    "expiresAt": "2026-11-21T12:30:00.000Z",
                    "reservation": {
                        "reservationId": "inventory.reservation.cs_test_a1b2c3",
                        "status": "active",
                        "expiresAt": "2026-11-21T12:30:00.000Z",
                        "replayed": False,
                        "reclaimed": [],
                        "lines": [
                            {
                                "productId": "halloween-tee",
                                "resolvedId": "product-halloween-tee",
                                "productTitle": "Halloween Tee",
                                "size": "m",
                                "variantKey": "size-m",
                                "quantity": 2,
                                "available": 0,
                            }
                        ],
                    },
                }
            ]
        }
    )

    success: Literal[True] = True
    errors: list[str] = Field(default_factory=list, description="Always empty on success.")
    message: str = "Stock reserved successfully"
    session_id: str
    expires_at: Timestamp
    reservation: ReservationInfo

    @classmethod
    def of(cls, result: ReserveResult) -> ReserveStockResponse:
        return cls(
            message="Stock already reserved for this session"
            if result.replayed
            else "Stock reserved successfully",
            session_id=result.session_id,
            expires_at=result.expires_at,
            reservation=ReservationInfo(
                reservation_id=result.reservation_id,
                status=result.status,
                expires_at=result.expires_at,
                replayed=result.replayed,
                reclaimed=result.reclaimed,
                lines=[ReservedLine.of(line) for line in result.lines],
            ),
        )


class ReleaseStockRequest(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"sessionId": "cs_test_a1b2c3"}]})

    session_id: SessionId
    operations: list[StockOperation] | None = Field(
        default=None,
        min_length=1,
        max_length=LINES_CEILING,
        description="Release only these lines (the hold stays active with the rest); omit to "
        "release the whole hold.",
    )


class ReleasedLine(ResponseModel):
    product_id: str = Field(description="The product's `_id`.")
    size: str | None = None
    variant_key: str | None = None
    quantity: int

    @classmethod
    def of(cls, change: ItemChange) -> ReleasedLine:
        return cls(
            product_id=change.product_id,
            size=change.size,
            variant_key=change.variant_key,
            quantity=change.quantity,
        )


class ReleaseStockResponse(ResponseModel):
    success: Literal[True] = True
    message: str = "Stock released successfully"
    session_id: str
    status: ReservationStatus = Field(description="released, or active after a partial release.")
    released: list[ReleasedLine]
    replayed: bool = False

    @classmethod
    def of(cls, result: ReleaseResult) -> ReleaseStockResponse:
        return cls(
            session_id=result.session_id,
            status=result.status,
            released=[ReleasedLine.of(change) for change in result.released],
            replayed=result.replayed,
        )


class VariantStock(ResponseModel):
    size: str | None = None
    variant_key: str | None = None
    sku: str | None = None
    total_stock: int
    reserved_stock: int
    available_stock: int
    in_stock: bool
    state: StockState
    locations: list[LocationFigures] | None = Field(
        exclude_if=_unset, default=None, description="Stock per location (if kept so)."
    )
    inventory_policy: InventoryPolicy | None = Field(
        exclude_if=_unset,
        default=None,
        description="deny, backorder or preorder (products with a policy only).",
    )
    backorder_available: int | None = Field(
        exclude_if=_unset,
        default=None,
        description="Units that can still be sold beyond stock; omitted when no limit applies.",
    )
    backordered: int | None = Field(
        exclude_if=_unset, default=None, description="Paid units owed (backorders)."
    )
    available_from: str | None = Field(
        exclude_if=_unset, default=None, description="Pre-orders: shipping date."
    )

    @classmethod
    def of(cls, variant: VariantStatus) -> VariantStock:
        return cls(
            size=variant.size,
            variant_key=variant.variant_key,
            sku=variant.sku,
            total_stock=variant.total,
            reserved_stock=variant.reserved,
            available_stock=variant.available,
            in_stock=variant.available > 0,
            state=variant.state,
            inventory_policy=variant.inventory_policy,
            backorder_available=variant.backorder_available,
            backordered=variant.backordered,
            available_from=variant.available_from,
            locations=variant.locations,
        )


class ProductStock(ResponseModel):
    product_id: str = Field(description="As the request named it.")
    id: str = Field(description="The product's `_id`.")
    title: str | None = None
    slug: str | None = None
    sku: str | None = Field(
        default=None, description="The product's SKU (sizes: `variants[].sku`)."
    )
    total_stock: int = Field(description="For sized products, the sum over sizes.")
    reserved_stock: int
    available_stock: int
    in_stock: bool
    state: StockState
    low_stock_threshold: int
    locations: list[LocationFigures] | None = Field(
        exclude_if=_unset, default=None, description="Stock per location (if kept so)."
    )
    location: str | None = Field(
        exclude_if=_unset, default=None, description="Figures of this location only."
    )
    inventory_policy: InventoryPolicy | None = Field(
        exclude_if=_unset,
        default=None,
        description="deny, backorder or preorder (products with a policy only).",
    )
    backorder_available: int | None = Field(
        exclude_if=_unset,
        default=None,
        description="Units that can still be sold beyond stock; omitted when no limit applies.",
    )
    backordered: int | None = Field(
        exclude_if=_unset, default=None, description="Paid units owed (backorders)."
    )
    available_from: str | None = Field(
        exclude_if=_unset, default=None, description="Pre-orders: shipping date."
    )
    variants: list[VariantStock] | None = Field(default=None, description="Sized products only.")

    @classmethod
    def of(cls, product: ProductStatus) -> ProductStock:
        return cls(
            product_id=product.product_id,
            id=product.id,
            title=product.title,
            slug=product.slug,
            sku=product.sku,
            total_stock=product.total,
            reserved_stock=product.reserved,
            available_stock=product.available,
            in_stock=product.available > 0,
            state=product.state,
            low_stock_threshold=product.low_stock_threshold,
            inventory_policy=product.inventory_policy,
            backorder_available=product.backorder_available,
            backordered=product.backordered,
            available_from=product.available_from,
            locations=product.locations,
            location=product.location,
            variants=[VariantStock.of(v) for v in product.variants]
            if product.variants is not None
            else None,
        )


class QuarantinedProduct(ResponseModel):
    product_id: str = Field(description="As the request named it.")
    id: str = Field(description="The product's `_id`.")
    title: str = Field(description="The title as text, or the `_id`.")
    field: str = Field(description="The field, e.g. `stockQuantity` or `variants[2]`.")
    reason: str = Field(examples=["must be a whole number, not 5.5"])

    @classmethod
    def of(cls, entry: QuarantinedStatus) -> QuarantinedProduct:
        return cls(**entry.model_dump())


class StockStatusResponse(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "success": True,
                    "stockStatus": [
                        {
                            "productId": "railcam",
                            "id": "product-railcam",
                            "title": "Railcam",
                            "slug": "railcam",
                            "totalStock": 5,
                            "reservedStock": 2,
                            "availableStock": 3,
                            "inStock": True,
                            "state": "low_stock",
                            "lowStockThreshold": 5,
                        }
                    ],
                    "notFound": [],
                    "timestamp": "2026-11-21T12:00:00.000Z",
                }
            ]
        }
    )

    success: Literal[True] = True
    stock_status: list[ProductStock]
    not_found: list[str] = Field(description="Names that match no product.")
    quarantined: list[QuarantinedProduct] = Field(
        default_factory=list,
        description="Named products whose stock fields cannot be read (a fractional or text "
        "stockQuantity, variants that are not a list...): no figures are shown for them "
        "until an editor fixes the field named. Every other product is answered as usual.",
    )
    timestamp: Timestamp


class CartItem(LineModel):
    """One cart line to check (other fields of the line are ignored)."""

    product_id: ProductRef
    quantity: WholeNumber = Field(ge=1, le=QUANTITY_CEILING)
    size: Size = None
    variant_key: VariantKey = None


class StockCheckRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {"productId": "railcam", "quantity": 2},
                        {"productId": "halloween-tee", "quantity": 1, "size": "m"},
                    ]
                }
            ]
        }
    )

    items: list[CartItem] = Field(
        max_length=LINES_CEILING, description="Cart lines; at most STOCKSYNC_MAX_LINES."
    )


class StockCheck(ResponseModel):
    product_id: str
    size: str | None = None
    variant_key: str | None = None
    requested_quantity: int
    available_stock: int
    in_stock: bool = Field(
        description="Whether the cart's total for this product and size is available."
    )
    product_title: str | None = None
    code: LineCode
    error: str | None = Field(default=None, description="Why the line cannot be bought.")


class StockCheckResponse(ResponseModel):
    success: Literal[True] = True
    all_in_stock: bool
    stock_checks: list[StockCheck]
    timestamp: Timestamp
