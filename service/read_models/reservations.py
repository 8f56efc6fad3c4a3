"""Reservations for staff: what each checkout holds, newest first."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from cms_client.store import DocumentStore
from schemas.base import Model, Timestamp
from schemas.reservation import (
    RESERVATION_TYPE,
    Allocation,
    Fulfilment,
    ReservationStatus,
    ShortfallLine,
    StockReservation,
)
from service.engine import is_overdue
from service.read_models.paging import Page, fetch_page


def _unset(value: object) -> bool:
    return value is None


class ReservationLine(Model):
    product_id: str = Field(description="The product's `_id`.")
    title: str | None = None
    size: str | None = None
    variant_key: str | None = None
    quantity: int
    released_quantity: int
    committed_quantity: int
    restored_quantity: int
    # Shown only when set (policies, locations), so other reservations read as before.
    backordered: int | None = Field(
        default=None,
        exclude_if=_unset,
        description="Held units beyond stock while active (backorder or pre-order).",
    )
    fulfilment: Fulfilment | None = Field(default=None, exclude_if=_unset)
    backorder_quantity: int | None = Field(
        default=None, exclude_if=_unset, description="Paid units owed as a backorder."
    )
    open_backorder: int | None = Field(
        default=None, exclude_if=_unset, description="Of those, still open after fills."
    )
    allocations: list[Allocation] | None = Field(
        default=None,
        exclude_if=_unset,
        description="Where the units are held or were taken (stock locations).",
    )


class ReservationView(Model):
    session_id: str
    reservation_id: str
    status: ReservationStatus
    created_at: Timestamp
    expires_at: Timestamp
    overdue: bool = Field(
        description="Active and past expiresAt plus the grace a late payment gets: the next "
        "sweep (or a reserve that needs the stock) expires it."
    )
    payment_intent_id: str | None = None
    items: list[ReservationLine]
    shortfall: list[ShortfallLine] = Field(default_factory=list)


class ReservationList(Model):
    reservations: list[ReservationView]
    pagination: Page


def _view(reservation: StockReservation, now: datetime, grace: timedelta) -> ReservationView:
    return ReservationView(
        session_id=reservation.session_id,
        reservation_id=reservation.id,
        status=reservation.status,
        created_at=reservation.created_at,
        expires_at=reservation.expires_at,
        overdue=is_overdue(reservation, now, grace),
        payment_intent_id=reservation.payment_intent_id,
        items=[
            ReservationLine(
                product_id=item.product_id,
                title=item.title,
                size=item.size,
                variant_key=item.variant_key,
                quantity=item.quantity,
                released_quantity=item.released_quantity,
                committed_quantity=item.committed_quantity,
                restored_quantity=item.restored_quantity,
                backordered=item.backordered,
                fulfilment=item.fulfilment,
                backorder_quantity=item.backorder_quantity,
                open_backorder=item.open_backorder if item.backorder_quantity else None,
                allocations=item.allocations,
            )
            for item in reservation.items
        ],
        shortfall=reservation.shortfall,
    )


async def list_reservations(
    store: DocumentStore,
    *,
    now: datetime,
    grace: timedelta,
    status: ReservationStatus | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> ReservationList:
    params: dict[str, Any] = {}
    filters = [f'_type == "{RESERVATION_TYPE}"']
    if status is not None:
        filters.append("status == $status")
        params["status"] = status
    page, pagination = await fetch_page(store, filters, params, cursor=cursor, limit=limit)
    return ReservationList(
        reservations=[_view(StockReservation.model_validate(row), now, grace) for row in page],
        pagination=pagination,
    )
