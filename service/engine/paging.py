"""Walking every row of a query, page by page (keyset on `_id`), and reading query rows
tolerantly. The one paging helper of the engine and the read models (which reach it
through the facade); the read models' cursor pages for the API are built on the same
`rows_of` (`service.read_models.paging`).

Keyset, not offsets: a query filters `_id > $after` and orders by `_id asc`, so rows
written while the walk runs neither shift a page nor appear twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Final

from cms_client.store import DocumentStore

#: Upper bound on the pages one walk reads, so a walk always ends.
MAX_PAGES: Final = 1000


def rows_of(value: Any) -> list[dict[str, Any]]:
    """A query's answer as rows (anything else: no rows)."""
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def rows_with_id(value: Any) -> list[dict[str, Any]]:
    """A query's rows that carry a string `_id`."""
    return [row for row in rows_of(value) if isinstance(row.get("_id"), str)]


def strings_of(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


async def pages_by_id(
    store: DocumentStore,
    query: Callable[[int], str],
    params: Mapping[str, Any] | None = None,
    *,
    page_size: int,
    max_pages: int = MAX_PAGES,
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every row of `query(limit)` (GROQ filtering `_id > $after`, `order(_id asc)`, sliced
    to `limit`), one page at a time; rows without a string `_id` are left out."""
    after = ""
    for _ in range(max_pages):
        rows = rows_of(await store.query(query(page_size), {**(params or {}), "after": after}))
        page = rows_with_id(rows)
        if page:
            yield page
        if len(rows) < page_size or not page:
            return
        after = page[-1]["_id"]
