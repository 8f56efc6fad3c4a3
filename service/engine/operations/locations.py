"""Naming stock locations: the API uses slugs, documents reference `_id`s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cms_client.store import DocumentStore
from service.engine.queries import LOCATIONS_BY_SLUG
from service.engine.unit_of_work.executor import Attempt


async def location_ids(store: DocumentStore, slugs: Sequence[str]) -> dict[str, str | None]:
    """slug -> `_id` (None: no such location). A query finds candidates only."""
    wanted = [slug for slug in dict.fromkeys(slugs) if slug]
    if not wanted:
        return {}
    rows: Any = await store.query(LOCATIONS_BY_SLUG, {"slugs": wanted})
    found: dict[str, str | None] = {slug: None for slug in wanted}
    for row in sorted(
        (r for r in rows if isinstance(r, dict)) if isinstance(rows, list) else [],
        key=lambda r: str(r.get("_id")),
    ):
        slug = row.get("slug")
        if isinstance(slug, str) and found.get(slug) is None:
            found[slug] = row["_id"]
    return found


async def read_locations(att: Attempt, found: dict[str, str | None]) -> dict[str, str | None]:
    """Read the found locations fresh; a slug whose document no longer carries it is None."""
    ids = [doc_id for doc_id in found.values() if doc_id]
    if ids:
        await att.read(ids)
    checked: dict[str, str | None] = {}
    for slug, doc_id in found.items():
        doc = att.snapshot.get(doc_id) if doc_id else None
        carried = doc is not None and (doc.get("slug") or {}).get("current") == slug
        checked[slug] = doc_id if carried else None
    return checked
