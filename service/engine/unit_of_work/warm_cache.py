"""Documents this instance wrote last, so its next write of them can skip the read.

Round trips are the currency (design, performance budget): a reserve is one read and one
write when cold. When this instance's own transaction was the last to touch a product, the
document that transaction returned (`return_documents`) is exactly what a fresh read would
give, `_rev` included, so the next reserve or release can plan on it and send its write at
once. The write still carries `ifRevisionID` on every document the plan rests on, so the
guard, not the cache, decides: if anyone else wrote in between, the transaction is refused,
the entry is dropped and the operation plans again on a fresh read. Documents the plan only
creates (the reservation, idempotency records) need no read at all: `create` fails if the
id exists, and that refusal too falls back to a fresh read, which then answers the replay.

Drafts, the one thing a guard cannot see. Studio creates `drafts.<id>` (and releases create
`versions.<release>.<id>`) without touching the published document, so its `_rev` does not
move and a warm write would commit without giving the new copy its delta (design rule 7); a
later publish of that copy would then carry stale counters. The rules that keep this
bounded and repairable:

1. Only a product whose family had no drafts or versions when it was last read fresh is
   served warm; a product with copies (an editor at work) is read every time.
2. That knowledge expires: `warm_cache_max_age` (default 5 s) after the last fresh read of
   the family, the next operation reads fresh again, so a new copy is found within seconds
   and gets every later delta. The cold path has the same blind spot between its read and
   its write (one round trip); the cache widens it to at most this bound.
3. A warm plan may only move reserved counters (reserve, release, expiry). A missed copy
   can then only carry a stale `reservedQuantity`, which the reservations rebuild: the
   Sanity webhook repairs it when the copy is published, and reconcile does the rest. Plans
   that move stock on hand (sale, refund, adjustment), which nothing could rebuild, always
   read fresh (the executor enforces this).

Service documents (reservations) have no Studio copies and are guarded by their own
revision, so they are served warm without an age bound.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cms_client.ids import is_published, published_id
from cms_client.store import Document, MutationResult
from schemas.reservation import RESERVATION_TYPE

PRODUCT_TYPE = "product"
_CACHED_TYPES = frozenset({PRODUCT_TYPE, RESERVATION_TYPE})


@dataclass(frozen=True)
class Warm:
    doc: Document
    #: When this document's drafts and versions were last read (and found to be none).
    family_read_at: datetime


class WarmCache:
    def __init__(self, *, max_age: timedelta, max_entries: int = 10_000) -> None:
        self.max_age = max_age
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Warm] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def serve(self, ids: Sequence[str], now: datetime) -> dict[str, Warm] | None:
        """Entries for every id in `ids`, or None when any one is missing or too old."""
        found: dict[str, Warm] = {}
        for doc_id in ids:
            entry = self._entries.get(doc_id)
            if entry is None:
                return None
            too_old = now - entry.family_read_at > self.max_age
            if entry.doc.get("_type") == PRODUCT_TYPE and too_old:
                return None
            found[doc_id] = entry
        for doc_id in found:
            self._entries.move_to_end(doc_id)
        return found

    def learn_read(
        self, requested: Sequence[str], results: Sequence[Document | None], now: datetime
    ) -> None:
        """A fresh read (with all versions) refreshes the entries it covers."""
        docs = {doc["_id"]: doc for doc in results if doc is not None}
        with_copies = {published_id(i) for i in docs if not is_published(i)}
        for doc_id in requested:
            if doc_id not in self._entries:
                continue
            doc = docs.get(doc_id)
            if doc is None or doc_id in with_copies:
                del self._entries[doc_id]
            else:
                self._entries[doc_id] = Warm(doc, now)

    def learn_write(
        self,
        result: MutationResult,
        *,
        family_read_at: dict[str, datetime],
        with_copies: Iterable[str],
        now: datetime,
    ) -> None:
        """Keep what this instance's committed transaction returned.

        `family_read_at` says when each document's family was last read (fresh or warm);
        documents created by the transaction have no family yet and count from `now`.
        Products with copies (`with_copies`) are not kept: point 1 of the module docstring.
        """
        skip = set(with_copies)
        for doc_id, doc in result.documents().items():
            if doc.get("_type") not in _CACHED_TYPES or not is_published(doc_id):
                continue
            if doc_id in skip:
                self._entries.pop(doc_id, None)
                continue
            self._entries[doc_id] = Warm(doc, family_read_at.get(doc_id, now))
            self._entries.move_to_end(doc_id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, ids: Iterable[str]) -> None:
        for doc_id in ids:
            self._entries.pop(doc_id, None)
