"""Test helpers for the engine: a request-counting store and a small catalogue."""

from __future__ import annotations

from collections import Counter
from typing import Any

from cms_client import mutations as m
from cms_client.store import DelegatingStore, Document, DocumentStore
from schemas.operations import LineRequest

RAILCAM = {
    "_id": "prod-railcam",
    "_type": "product",
    "title": "Railcam",
    "slug": {"current": "railcam"},
    "stockQuantity": 5,
    "reservedQuantity": 0,
    "price": 25,
}
TEE = {
    "_id": "prod-tee",
    "_type": "product",
    "title": "Halloween tee",
    "slug": {"current": "halloween-tee"},
    "lowStockThreshold": 1,
    "variants": [
        {"_key": "v-s", "size": "s", "stockQuantity": 3, "reservedQuantity": 0},
        {"_key": "v-m", "size": "m", "stockQuantity": 2, "reservedQuantity": 0},
        # Imported without a `_key` and without counters: read as 0/0, patched by position.
        {"size": "l"},
    ],
}
SOLD_OUT = {
    "_id": "prod-sleepers",
    "_type": "product",
    "title": "Railways and sleepers",
    "slug": {"current": "railways-and-sleepers"},
    "stockQuantity": 0,
}
CATALOGUE = (RAILCAM, TEE, SOLD_OUT)


def line(product_id: str, quantity: int = 1, size: str | None = None, **kw: Any) -> LineRequest:
    return LineRequest(product_id=product_id, quantity=quantity, size=size, **kw)


async def seed(store: DocumentStore, *docs: Document) -> None:
    await store.mutate([m.create(doc) for doc in (docs or CATALOGUE)])


class CountingStore(DelegatingStore):
    """A `DocumentStore` that passes every call through and counts it by kind."""

    def __init__(self, inner: DocumentStore) -> None:
        super().__init__(inner)
        self.calls: Counter[str] = Counter()

    def reset(self) -> None:
        self.calls.clear()

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def before_call(self, call: str) -> None:
        self.calls[call] += 1


async def doc(store: DocumentStore, doc_id: str) -> Document:
    (found,) = await store.get_documents([doc_id])
    assert found is not None, doc_id
    return found


async def ledger(store: DocumentStore, **filters: Any) -> list[Document]:
    entries = await store.query(
        '*[_type == "inventoryTransaction"] | order(createdAt asc, _id asc)', {}, perspective="raw"
    )
    return [e for e in entries if all(e.get(k) == v for k, v in filters.items())]


async def error_logs(store: DocumentStore) -> list[Document]:
    result: list[Document] = await store.query('*[_type == "errorLog"]', {}, perspective="raw")
    return result


def variant(product: Document, size: str) -> dict[str, Any]:
    for v in product["variants"]:
        if v.get("size") == size:
            return dict(v)
    raise AssertionError(size)
