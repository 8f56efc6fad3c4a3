"""A small shop dataset and a `run` helper; expected results in the tests are written by hand."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import UTC, datetime
from typing import Any

import pytest

from cms_client.groq import ListSource, evaluate

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

DOCS: list[dict[str, Any]] = [
    {
        "_id": "p1",
        "_type": "product",
        "title": "Mug",
        "price": 12,
        "stock": 5,
        "slug": {"current": "mug"},
        "tags": ["kitchen", "gift"],
        "variants": [
            {"_key": "a", "size": "s", "sku": "MUG-S", "stock": 2},
            {"_key": "b", "size": "m", "sku": "MUG-M", "stock": 0},
        ],
    },
    {
        "_id": "p2",
        "_type": "product",
        "title": "Tee",
        "price": 20,
        "stock": 0,
        "slug": {"current": "tee"},
        "tags": ["apparel"],
        "variants": [
            {"_key": "c", "size": "m", "sku": "TEE-M", "stock": 3},
            {"_key": "d", "size": "l", "sku": "TEE-L", "stock": 1},
        ],
    },
    {"_id": "drafts.p1", "_type": "product", "title": "Mug (draft)", "price": 13},
    {"_id": "p3", "_type": "product", "title": "Cap", "price": 8.5},
    {
        "_id": "inventory.reservation.s1",
        "_type": "stockReservation",
        "_rev": "r1",
        "status": "active",
        "expiresAt": "2025-03-01T11:00:00Z",
        "items": [
            {"_key": "i1", "productId": "p1", "quantity": 2},
            {"_key": "i2", "productId": "p2", "quantity": 1},
        ],
        "product": {"_type": "reference", "_ref": "p1"},
    },
    {
        "_id": "inventory.reservation.s2",
        "_type": "stockReservation",
        "_rev": "r2",
        "status": "active",
        # 12:00 UTC, written with an offset.
        "expiresAt": "2025-03-01T13:00:00+01:00",
        "items": [{"_key": "i3", "productId": "p2", "quantity": 4}],
    },
    {
        "_id": "inventory.reservation.s3",
        "_type": "stockReservation",
        "_rev": "r3",
        "status": "released",
        "expiresAt": "2025-03-01T10:00:00Z",
        "items": [],
    },
    {"_id": "e1", "_type": "errorLog", "severity": "critical", "resolved": False},
    {"_id": "e2", "_type": "errorLog", "severity": "critical"},
    {"_id": "e3", "_type": "errorLog", "severity": "critical", "resolved": True},
    {"_id": "e4", "_type": "errorLog", "severity": "warning", "resolved": False},
]

Run = Callable[..., Any]


@pytest.fixture
def run() -> Run:
    """`run(query, docs=None, at=NOW, **params)`: evaluate over DOCS (or `docs`) at time `at`.

    Keyword arguments other than `docs` and `at` are the query's parameters."""

    def _run(
        query: str,
        docs: list[dict[str, Any]] | None = None,
        at: datetime = NOW,
        **params: Any,
    ) -> Any:
        return evaluate(query, ListSource(DOCS if docs is None else docs), params, now=at)

    return _run


class SpySource(ListSource):
    """Records the type names the engine asks for."""

    def __init__(self, docs: Iterable[dict[str, Any]]) -> None:
        super().__init__(docs)
        self.calls: list[frozenset[str] | None] = []

    def documents(self, type_names: Collection[str] | None = None) -> Iterable[dict[str, Any]]:
        self.calls.append(None if type_names is None else frozenset(type_names))
        return super().documents(type_names)


class IgnoringSource:
    """A source that ignores the type hint and always returns everything."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs

    def documents(self, type_names: Collection[str] | None = None) -> Iterable[dict[str, Any]]:
        return list(self.docs)
