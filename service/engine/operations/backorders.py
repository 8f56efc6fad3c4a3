"""Finding the reservations that owe units (open backorders) before a restock fills them.

The query only finds candidates (design rule 1); the attempt then reads them fresh, so the
fill is planned on their current state and each patch is guarded by its `_rev`.
"""

from __future__ import annotations

from typing import Any

from cms_client.store import DocumentStore
from service.engine.model.stock import BACKORDERED_FIELD
from service.engine.queries import OPEN_BACKORDERS_OF
from service.engine.unit_of_work.executor import Attempt


def _owes(doc: dict[str, Any] | None) -> bool:
    """Whether the product as read has units on backorder (itself or any variant)."""
    if doc is None:
        return False
    variants = doc.get("variants")
    # A Studio document may hold anything here (true, a string): tolerant, as reading is.
    listed = variants if isinstance(variants, list) else []
    cells = [doc, *(v for v in listed if isinstance(v, dict))]
    return any(
        isinstance(c.get(BACKORDERED_FIELD), int | float)
        and not isinstance(c.get(BACKORDERED_FIELD), bool)
        and c[BACKORDERED_FIELD] > 0
        for c in cells
    )


async def read_open_backorders(
    att: Attempt, store: DocumentStore, product_id: str | None
) -> list[str]:
    """Ids of reservations with open backorders of `product_id`, read fresh into `att`
    (none, and no query, when the product owes nothing)."""
    if product_id is None or not _owes(att.snapshot.get(product_id)):
        return []
    rows: Any = await store.query(OPEN_BACKORDERS_OF, {"product": product_id})
    ids = [row["_id"] for row in rows if isinstance(row, dict) and "_id" in row]
    if ids:
        await att.read(ids)
    return ids
