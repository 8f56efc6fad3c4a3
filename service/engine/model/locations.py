"""Stock locations as the engine sees them, and where units are taken from or put back.

A cell (a product, or one variant) that has `locationStock` rows counts stock per location;
its `stockQuantity` / `reservedQuantity` are the sums. Allocation follows Saleor's strategy:
active locations in priority order (lower first; ties by slug, then `_id`), a line split
across locations when the first is short. Units come back the other way round: lowest
priority first, so stock drains from and returns to a shop's preferred locations last.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from cms_client.store import Document
from schemas.locations import LOCATION_TYPE, StockLocation

#: A change at one location: (stock delta, reserved delta).
LocationDelta = tuple[int, int]


@dataclass(frozen=True)
class Site:
    """A stock location as read (a reference to a missing document reads as inactive)."""

    id: str
    slug: str | None
    name: str | None
    priority: int
    active: bool

    @property
    def label(self) -> str:
        return self.name or self.slug or self.id

    @property
    def order(self) -> tuple[int, str, str]:
        return (self.priority, self.slug or "", self.id)


def site_of(location_id: str, doc: Document | None) -> Site:
    if doc is None or doc.get("_type") != LOCATION_TYPE:
        return Site(location_id, None, None, 1_000_000, False)
    try:
        location = StockLocation.model_validate(doc)
    except ValidationError:
        # A location document in a shape nobody can read sells nothing (design rule 10).
        return Site(location_id, None, None, 1_000_000, False)
    return Site(
        location_id, location.slug_current, location.name, location.priority, location.active
    )


def sites_from(docs: Iterable[Document]) -> dict[str, Site]:
    return {doc["_id"]: site_of(doc["_id"], doc) for doc in docs if "_id" in doc}


def location_refs(doc: Document | None) -> list[str]:
    """Every location a product document (or a copy) counts stock at."""
    if not isinstance(doc, dict):
        return []
    variants = doc.get("variants")
    rows: list[object] = [doc, *(variants if isinstance(variants, list) else [])]
    refs: list[str] = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        entries = row.get("locationStock")
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("location"), dict):
                ref = entry["location"].get("_ref")
                if isinstance(ref, str) and ref not in refs:
                    refs.append(ref)
    return refs


def take_in_order(available: Sequence[tuple[str, int]], units: int) -> list[tuple[str, int]]:
    """Take `units` from (location, available) pairs in the given order: the split."""
    taken: list[tuple[str, int]] = []
    left = units
    for location, free in available:
        if left <= 0:
            break
        share = min(left, max(0, free))
        if share > 0:
            taken.append((location, share))
            left -= share
    return taken


def merge(into: dict[str, LocationDelta], more: Mapping[str, LocationDelta]) -> None:
    for location, (stock, reserved) in more.items():
        before = into.get(location, (0, 0))
        into[location] = (before[0] + stock, before[1] + reserved)
