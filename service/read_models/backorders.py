"""Open backorders for staff: paid units still owed, oldest payment first.

A query over the reservations (the source of truth for what each sale still owes): a
restock fills these in this order (see the engine's `fill_oldest_first`).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from cms_client.store import DocumentStore
from schemas.base import Model, Timestamp
from schemas.reservation import StockReservation


def _open_backorders(limit: int) -> str:
    """Paid reservations that still owe units, oldest payment first."""
    return (
        '*[_type == "stockReservation" && openBackorder == true]'
        f" | order(committedAt asc, _id asc) [0...{int(limit)}]"
    )


class OpenBackorder(Model):
    session_id: str
    product_id: str = Field(description="The product's `_id`.")
    title: str | None = None
    size: str | None = None
    variant_key: str | None = None
    quantity: int = Field(description="Units still owed (after partial fills and cancels).")
    since: Timestamp = Field(description="When it was paid.")


class BackorderList(Model):
    backorders: list[OpenBackorder]
    total_units: int


async def open_backorders(
    store: DocumentStore, *, product_id: str | None = None, limit: int = 500
) -> BackorderList:
    """Every open backorder line (of one product `_id`, if given), oldest first."""
    rows: Any = await store.query(_open_backorders(limit), {})
    found: list[OpenBackorder] = []
    for row in rows if isinstance(rows, list) else []:
        reservation = StockReservation.model_validate(row)
        for item in reservation.items:
            if item.open_backorder <= 0 or (product_id and item.product_id != product_id):
                continue
            found.append(
                OpenBackorder(
                    session_id=reservation.session_id,
                    product_id=item.product_id,
                    title=item.title,
                    size=item.size,
                    variant_key=item.variant_key,
                    quantity=item.open_backorder,
                    since=reservation.committed_at or reservation.created_at,
                )
            )
    return BackorderList(backorders=found, total_units=sum(b.quantity for b in found))
