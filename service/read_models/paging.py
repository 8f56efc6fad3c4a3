"""Keyset pagination over `createdAt desc, _id desc`, with an opaque cursor.

Offsets would shift while new ledger entries arrive at the head; a cursor naming the last
row seen does not.

A cursor is checked, not trusted: bounded length, then exactly a timestamp and a valid
document id. Its values only ever travel as GROQ parameters of a list the caller may read
anyway, so a forged but well-formed cursor can only start that list elsewhere; what it can
no longer do is carry a lone surrogate or deep nesting to the parser or the store (500s).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field

from cms_client.ids import id_problem
from cms_client.store import DocumentStore
from schemas.base import Model
from service.engine import InvalidRequest

#: Filter clause continuing after the cursor row (`$cursorAt`, `$cursorId`).
AFTER_CURSOR = "(createdAt < $cursorAt || (createdAt == $cursorAt && _id < $cursorId))"
NEWEST_FIRST = "order(createdAt desc, _id desc)"
#: A cursor this service writes is ~100 characters (a timestamp and an id of at most 128).
MAX_CURSOR_LENGTH = 400
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})"
)


class Page(Model):
    limit: int
    has_more: bool
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last."
    )


def encode_cursor(row: Mapping[str, Any]) -> str:
    raw = json.dumps([row.get("createdAt"), row.get("_id")], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    value: Any = None
    if len(cursor) <= MAX_CURSOR_LENGTH and cursor.isascii():
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            value = json.loads(base64.urlsafe_b64decode(padded.encode()))
        except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
            value = None
    if not (isinstance(value, list) and len(value) == 2):
        raise InvalidRequest("cursor is not one this service handed out", field="cursor")
    created_at, doc_id = value
    if (
        not isinstance(created_at, str)
        or _TIMESTAMP.fullmatch(created_at) is None
        or not isinstance(doc_id, str)
        or id_problem(doc_id) is not None
    ):
        raise InvalidRequest("cursor is not one this service handed out", field="cursor")
    return created_at, doc_id


def cursor_clause(cursor: str | None, params: dict[str, Any]) -> list[str]:
    """The filter clause for `cursor` (none for the first page), filling `params`."""
    if cursor is None:
        return []
    params["cursorAt"], params["cursorId"] = decode_cursor(cursor)
    return [AFTER_CURSOR]


def paged(rows: Sequence[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], Page]:
    """Split `limit + 1` fetched rows into the page and its continuation."""
    page = list(rows[:limit])
    more = len(rows) > limit
    return page, Page(
        limit=limit, has_more=more, next_cursor=encode_cursor(page[-1]) if more and page else None
    )


def rows_of(value: Any) -> list[dict[str, Any]]:
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


async def fetch_page(
    store: DocumentStore,
    filters: Sequence[str],
    params: Mapping[str, Any],
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], Page]:
    """One page, newest first, of the documents matching every filter (`limit + 1` fetched
    to learn whether another page follows)."""
    page_params = dict(params)
    clauses = [*filters, *cursor_clause(cursor, page_params)]
    rows = rows_of(
        await store.query(
            f"*[{' && '.join(clauses)}] | {NEWEST_FIRST} [0...{int(limit) + 1}]", page_params
        )
    )
    return paged(rows, limit)
