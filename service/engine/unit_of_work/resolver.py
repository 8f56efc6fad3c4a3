"""Product names (`_id` or slug) -> product `_id`s, with an in-process cache.

Storefronts name products by slug, and the doc endpoint reads by `_id` only, so a cold
name costs one query. The answer is cached, and every use is checked against the fresh
document read that follows (the document must still exist and still carry that slug), so
a renamed or deleted product is re-resolved rather than trusted.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from cms_client.ids import is_published
from cms_client.store import Document, DocumentStore
from service.engine.queries import PRODUCTS_BY_REF


def names_product(ref: str, doc: Document | None) -> bool:
    """Whether `doc` is the published product that `ref` names (by `_id` or slug)."""
    if doc is None or doc.get("_type") != "product" or not is_published(doc["_id"]):
        return False
    if doc["_id"] == ref:
        return True
    slug = doc.get("slug")
    return isinstance(slug, dict) and slug.get("current") == ref


class ProductResolver:
    def __init__(self, store: DocumentStore, *, max_entries: int = 10_000) -> None:
        self._store = store
        self._max_entries = max_entries
        self._cache: OrderedDict[str, str] = OrderedDict()
        #: Store queries made (for the request budget).
        self.queries = 0

    def cached(self, ref: str) -> str | None:
        product_id = self._cache.get(ref)
        if product_id is not None:
            self._cache.move_to_end(ref)
        return product_id

    def remember(self, ref: str, product_id: str) -> None:
        self._cache[ref] = product_id
        self._cache.move_to_end(ref)
        while len(self._cache) > self._max_entries:
            self._cache.popitem(last=False)

    def forget(self, refs: Iterable[str]) -> None:
        for ref in refs:
            self._cache.pop(ref, None)

    async def lookup(self, refs: Sequence[str]) -> dict[str, str]:
        """Resolve `refs` with one query; names that match nothing are left out.

        An `_id` match wins over a slug match; among products sharing a slug (Studio does
        not enforce unique slugs) the smallest `_id` wins, so the choice is stable.
        """
        wanted = sorted(set(refs))
        if not wanted:
            return {}
        self.queries += 1
        rows: Any = await self._store.query(PRODUCTS_BY_REF, {"refs": wanted})
        by_id: dict[str, str] = {}
        by_slug: dict[str, str] = {}
        for row in rows if isinstance(rows, list) else []:
            product_id = row.get("_id") if isinstance(row, dict) else None
            if not isinstance(product_id, str) or not is_published(product_id):
                continue
            by_id[product_id] = product_id
            slug = row.get("slug")
            if isinstance(slug, str) and (slug not in by_slug or product_id < by_slug[slug]):
                by_slug[slug] = product_id
        found: dict[str, str] = {}
        for ref in wanted:
            product_id = by_id.get(ref) or by_slug.get(ref)
            if product_id is not None:
                found[ref] = product_id
                self.remember(ref, product_id)
        return found
