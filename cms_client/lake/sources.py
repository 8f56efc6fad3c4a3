"""What the GROQ engine reads: the lake's documents, by type, under a perspective.

The engine asks a source for `documents(type_names)` (None: every type) and filters the
rest itself, so only the types a query names are loaded. Parsed documents are cached by id
and write sequence (`storage.py`), which changes on every write from any process; a query
over 100k documents parses only what changed since the last one. Cached documents are
shared: the engine reads them and `Lake.query` copies its result before handing it out.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping

from cms_client.errors import BadRequest
from cms_client.ids import is_draft, is_published
from cms_client.lake.query_threads import Budget
from cms_client.lake.storage import LakeDatabase
from cms_client.store import Document

PERSPECTIVES = ("published", "drafts", "raw")
#: About the size of the service's largest dataset, times two; older entries go first.
CACHE_LIMIT = 250_000
#: Documents parsed between two looks at the query's budget.
_LOAD_BATCH = 500


class DocumentCache:
    """Parsed documents by id, valid while the stored write sequence is the same."""

    def __init__(self, limit: int = CACHE_LIMIT) -> None:
        self.limit = limit
        self._entries: dict[str, tuple[int, Document]] = {}

    def load(
        self, db: LakeDatabase, rows: Iterable[tuple[str, int]], budget: Budget | None = None
    ) -> list[Document]:
        """The documents for `(id, seq)` rows, parsing only those not cached at that seq.

        Several query threads share the cache without a lock (a cut query must never leave
        one held): each entry is replaced whole, and a document is taken from the cache only
        at the seq this reader's snapshot listed, else read again from its own snapshot.
        """
        wanted = list(rows)
        found: dict[str, Document] = {}
        missing: list[str] = []
        for doc_id, seq in wanted:
            entry = self._entries.get(doc_id)
            if entry is not None and entry[0] == seq:
                found[doc_id] = entry[1]
            else:
                missing.append(doc_id)
        if budget is not None:
            budget.check()
        for start in range(0, len(missing), _LOAD_BATCH):
            for doc_id, (seq, body) in db.bodies(missing[start : start + _LOAD_BATCH]).items():
                document = json.loads(body)
                found[doc_id] = document
                self.store(doc_id, seq, document)
            if budget is not None:
                budget.check()
        return [found[doc_id] for doc_id, _seq in wanted if doc_id in found]

    def store(self, doc_id: str, seq: int, document: Document) -> None:
        """Remember `document` as written at `seq`; the caller must not change it after."""
        self._entries.pop(doc_id, None)
        self._entries[doc_id] = (seq, document)
        excess = len(self._entries) - self.limit
        if excess > 0:
            for stale in list(self._entries)[:excess]:
                self._entries.pop(stale, None)

    def clear(self) -> None:
        self._entries = {}

    def forget(self, doc_id: str) -> None:
        self._entries.pop(doc_id, None)


def check_perspective(perspective: str) -> None:
    if perspective not in PERSPECTIVES:
        raise BadRequest(
            f'Perspective "{perspective}" is not supported by the lake '
            f"(use one of {', '.join(PERSPECTIVES)})",
            body={
                "error": {
                    "type": "httpBadRequest",
                    "description": f'Invalid perspective "{perspective}"',
                }
            },
        )


class StoredDocuments:
    """The committed documents of a dataset, seen through a perspective.

    `published` leaves out `drafts.` and `versions.` ids; `raw` shows everything; `drafts`
    shows each draft in place of its published document (under the published id, with
    `_originalId` naming the draft) and published documents without a draft as they are.
    Release versions are not part of the drafts view.
    """

    def __init__(
        self,
        db: LakeDatabase,
        cache: DocumentCache,
        perspective: str,
        budget: Budget | None = None,
    ) -> None:
        check_perspective(perspective)
        self.db = db
        self.cache = cache
        self.perspective = perspective
        self.budget = budget

    def documents(self, type_names: Collection[str] | None = None) -> Iterator[Document]:
        if self.budget is not None:
            # Every (sub)query reads through here: a query cut at its deadline stops here.
            self.budget.check()
        rows = self.db.listing(type_names)
        if self.perspective == "raw":
            yield from self.cache.load(self.db, ((i, s) for i, _p, s in rows), self.budget)
        elif self.perspective == "published":
            yield from self.cache.load(self.db, ((i, s) for i, p, s in rows if i == p), self.budget)
        else:
            yield from self._drafts_view(rows)

    def _drafts_view(self, rows: list[tuple[str, str, int]]) -> Iterator[Document]:
        drafted = {p for i, p, _s in rows if is_draft(i)}
        visible = [
            (i, s) for i, p, s in rows if is_draft(i) or (is_published(i) and p not in drafted)
        ]
        overlaid: dict[str, Document] = {}
        for document in self.cache.load(self.db, visible, self.budget):
            doc_id = document["_id"]
            if is_draft(doc_id):
                public_id = doc_id[len("drafts.") :]
                overlaid[public_id] = {**document, "_id": public_id, "_originalId": doc_id}
            else:
                overlaid[doc_id] = document
        for doc_id in sorted(overlaid):
            yield overlaid[doc_id]


class TransactionDocuments:
    """The raw view a mutation's query selects from: the stored documents with the
    transaction's earlier mutations applied (`working`: id -> document, None if deleted)."""

    def __init__(
        self,
        db: LakeDatabase,
        cache: DocumentCache,
        working: Mapping[str, Document | None],
    ) -> None:
        self.stored = StoredDocuments(db, cache, "raw")
        self.working = working

    def documents(self, type_names: Collection[str] | None = None) -> Iterator[Document]:
        merged: dict[str, Document] = {}
        for document in self.stored.documents(type_names):
            if document["_id"] not in self.working:
                merged[document["_id"]] = document
        for doc_id, changed in self.working.items():
            if changed is not None and (type_names is None or changed["_type"] in type_names):
                merged[doc_id] = changed
        for doc_id in sorted(merged):
            yield merged[doc_id]
