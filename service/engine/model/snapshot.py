"""The documents one attempt read fresh, as the planner sees them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cms_client.ids import is_published, published_id
from cms_client.store import Document
from schemas.locations import LOCATION_TYPE


@dataclass
class Snapshot:
    """Documents by id, as read through the doc endpoint with all their versions.

    `read_ids` holds every id that was asked for, found or not: the planner treats an id it
    never asked for as unknown, and one it asked for but did not get as missing.
    """

    docs: dict[str, Document] = field(default_factory=dict)
    read_ids: set[str] = field(default_factory=set)
    #: published id -> ids of its drafts/versions, built on first use; ids are only ever
    #: added to `docs`, so the index is rebuilt only when their number changed. Without it a
    #: plan over N products (a 10,000-row import) scanned every document N times.
    _copies: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)
    _copies_of_count: int = field(default=-1, repr=False, compare=False)
    #: Ids of the stock location documents read, indexed the same way (a plan over N
    #: products needs them for each product).
    _locations: list[str] = field(default_factory=list, repr=False, compare=False)
    _locations_count: int = field(default=-1, repr=False, compare=False)

    @classmethod
    def of(cls, docs: Iterable[Document], *, missing: Iterable[str] = ()) -> Snapshot:
        """A snapshot built by hand (tests, pure planning)."""
        snapshot = cls()
        for doc in docs:
            snapshot.docs[doc["_id"]] = doc
            snapshot.read_ids.add(doc["_id"])
        snapshot.read_ids.update(missing)
        return snapshot

    def absorb(self, requested: Sequence[str], results: Sequence[Document | None]) -> None:
        """Add the answer of `get_documents(requested, include_all_versions=True)`."""
        for doc_id, doc in zip(requested, results, strict=False):
            self.read_ids.add(doc_id)
            if doc is not None:
                self.docs[doc_id] = doc
        for doc in results[len(requested) :]:
            if doc is not None:
                self.read_ids.add(doc["_id"])
                self.docs[doc["_id"]] = doc

    def with_docs(self, docs: Iterable[Document]) -> Snapshot:
        """A copy that also shows `docs` (planned, not stored: for planning only, never for
        guards), so a later member of a group sees what an earlier one creates."""
        view = Snapshot(dict(self.docs), set(self.read_ids))
        for doc in docs:
            view.docs[doc["_id"]] = doc
            view.read_ids.add(doc["_id"])
        return view

    def get(self, doc_id: str) -> Document | None:
        return self.docs.get(doc_id)

    def has_read(self, doc_id: str) -> bool:
        return doc_id in self.read_ids

    def copies_of(self, doc_id: str) -> list[Document]:
        """The `drafts.` and `versions.` copies of a published document, ordered by id."""
        if self._copies_of_count != len(self.docs):
            index: dict[str, list[str]] = {}
            for other_id in self.docs:
                if not is_published(other_id):
                    index.setdefault(published_id(other_id), []).append(other_id)
            for ids in index.values():
                ids.sort()
            self._copies, self._copies_of_count = index, len(self.docs)
        return [self.docs[other_id] for other_id in self._copies.get(doc_id, ())]

    def location_ids(self) -> list[str]:
        """Ids of the `stockLocation` documents read (their content is read where used)."""
        if self._locations_count != len(self.docs):
            self._locations = [
                doc_id for doc_id, doc in self.docs.items() if doc.get("_type") == LOCATION_TYPE
            ]
            self._locations_count = len(self.docs)
        return self._locations
