"""Reservations for staff: what each checkout holds, newest first."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from cms_client.store import DocumentStore
from schemas.base import Model, Timestamp
from schemas.reservation import (
    RESERVATION_TYPE,
    ReservationStatus,
    ShortfallLine,
    StockReservation,
)
from service.engine import is_overdue
from service.read_models.paging import Page, fetch_page


class ReservationLine(Model):
    product_id: str = Field(description="The product's `_id`.")
    title: str | None = None
    size: str | None = None
    variant_key: str | None = None
    quantity: int
    released_quantity: int
    committed_quantity: int
    restored_quantity: int


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
