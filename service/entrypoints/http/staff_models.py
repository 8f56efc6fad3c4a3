"""Payloads of the staff routes."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from schemas.base import WholeNumber
from schemas.operations import AdjustReason, AdjustResult, ReconcileResult, TransferResult
from service.engine import HeldRefundsReport
from service.entrypoints.http.base_models import RequestModel, ResponseModel
from service.read_models.backorders import BackorderList
from service.read_models.error_logs import ErrorLogList, ErrorLogView
from service.read_models.history import ProductHistory
from service.read_models.locations import LocationList
from service.read_models.reservations import ReservationList

#: Largest stock figure an adjustment may set or move by.
STOCK_CEILING = 1_000_000


class AdjustRequestBody(RequestModel):
    """Exactly one of `setTo` and `delta`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"productId": "railcam", "delta": 10, "reason": "restock", "note": "PO 1234"},
                {"productId": "halloween-tee", "size": "m", "setTo": 4, "reason": "correction"},
            ]
        }
    )

    product_id: str = Field(min_length=1, max_length=200, description="Slug or `_id`.")
    size: str | None = Field(default=None, max_length=100)
    variant_key: str | None = Field(default=None, max_length=200)
    set_to: WholeNumber | None = Field(
        default=None, ge=0, le=STOCK_CEILING, description="New stock on hand."
    )
    delta: WholeNumber | None = Field(
        default=None,
        ge=-STOCK_CEILING,
        le=STOCK_CEILING,
        description="Change of stock on hand (negative for damage); the result may not go "
        "below zero.",
    )
    reason: AdjustReason
    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="With reason `return`: the Stripe refund (`re_...`) or checkout session the "
        "units came back from. They count as returned on that sale, so a later full refund "
        "restores only the rest (the follow-up a partial refund without lines asks for).",
    )
    note: str | None = Field(default=None, max_length=1000)
    location: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Slug of the stock location the change is at: required for products "
        "stocked by location (`locationStock`), refused for others.",
    )
    allow_below_reserved: bool = Field(
        default=False,
        description="Staff override: set stock below the units open checkouts hold (refused "
        "409 `below_reserved` otherwise, as paying those holds would oversell).",
    )


class AdjustResponse(ResponseModel):
    success: Literal[True] = True
    message: str
    actor: str = Field(description="The staff key's name, recorded in the ledger.")
    adjustment: AdjustResult


class TransferRequestBody(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"productId": "railcam", "from": "warehouse", "to": "shop", "quantity": 3}]
        }
    )

    product_id: str = Field(min_length=1, max_length=200, description="Slug or `_id`.")
    size: str | None = Field(default=None, max_length=100)
    variant_key: str | None = Field(default=None, max_length=200)
    from_location: str = Field(
        alias="from", min_length=1, max_length=200, description="Slug of the source location."
    )
    to_location: str = Field(
        alias="to", min_length=1, max_length=200, description="Slug of the target location."
    )
    quantity: int = Field(ge=1, le=STOCK_CEILING)
    note: str | None = Field(default=None, max_length=1000)


class TransferResponse(ResponseModel):
    success: Literal[True] = True
    message: str
    actor: str
    transfer: TransferResult


class LocationsResponse(LocationList):
    success: Literal[True] = True


class ReconcileResponse(ResponseModel):
    success: Literal[True] = True
    reconcile: ReconcileResult
    held_refunds: HeldRefundsReport


class ResolveResponse(ResponseModel):
    success: Literal[True] = True
    already_resolved: bool = Field(description="The log was resolved before this call.")
    error_log: ErrorLogView


class HistoryResponse(ProductHistory):
    success: Literal[True] = True


class ReservationsResponse(ReservationList):
    success: Literal[True] = True


class ErrorLogsResponse(ErrorLogList):
    success: Literal[True] = True


class BackordersResponse(BackorderList):
    success: Literal[True] = True
