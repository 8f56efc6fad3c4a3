"""Where `*` gets its documents.

The caller has already applied the perspective (published, drafts, raw): a source holds
exactly the documents `*` sees. `type_names` is a hint, not a filter contract: a source may
return only documents of those `_type`s (so a big dataset is narrowed by an index first),
or everything; the engine still evaluates the whole filter on what it gets.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Iterator
from typing import Any, Protocol


class DocumentSource(Protocol):
    def documents(self, type_names: Collection[str] | None = None) -> Iterable[dict[str, Any]]:
        """The documents of the dataset, or at least those whose `_type` is in `type_names`."""
        ...


class ListSource:
    """Documents held in memory, in the order given, indexed by `_type` on first use.

    The list is a snapshot: later changes to a document's `_type` are not seen by the
    index. Query results share the document objects, so treat them as read-only.
    """

    def __init__(self, documents: Iterable[dict[str, Any]]) -> None:
        self._documents = list(documents)
        self._by_type: dict[str, list[dict[str, Any]]] | None = None
        self._positions: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self._documents)

    def documents(self, type_names: Collection[str] | None = None) -> Iterable[dict[str, Any]]:
        if type_names is None:
            return self._documents
        by_type = self._index()
        present = [name for name in set(type_names) if name in by_type]
        if not present:
            return []
        if len(present) == 1:
            return by_type[present[0]]
        return self._merged(present)

    def _index(self) -> dict[str, list[dict[str, Any]]]:
        if self._by_type is None:
            by_type: dict[str, list[dict[str, Any]]] = {}
            for position, doc in enumerate(self._documents):
                doc_type = doc.get("_type")
                if type(doc_type) is str:
                    by_type.setdefault(doc_type, []).append(doc)
                    self._positions.setdefault(doc_type, []).append(position)
            self._by_type = by_type
        return self._by_type

    def _merged(self, names: list[str]) -> Iterator[dict[str, Any]]:
        """Several types' documents back in their original order."""
        by_type = self._index()
        streams = [zip(self._positions[name], by_type[name], strict=True) for name in names]
        # Positions are unique, so documents themselves are never compared.
        for _, doc in heapq.merge(*streams):
            yield doc
