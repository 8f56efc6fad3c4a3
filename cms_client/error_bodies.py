"""Sanity's error bodies: the one place each shape is built, for the lake and its server.

Content Lake errors nest an object under "error" (`{"error": {"type", "description", ...}}`);
gateway-level errors (auth, not found, throttling, 5xx) use the `{statusCode, error,
message}` style, which the official client also understands.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from cms_client.errors import MutationError, QueryError


def status_body(status: int, message: str) -> dict[str, Any]:
    """A gateway-style body: `{statusCode, error: <reason phrase>, message}`."""
    return {"statusCode": status, "error": HTTPStatus(status).phrase, "message": message}


def bad_request_body(description: str) -> dict[str, Any]:
    return {"error": {"description": description, "type": "httpBadRequest"}}


def mutation_error_body(index: int, error: Mapping[str, Any]) -> dict[str, Any]:
    """Sanity's body for a transaction refused because mutation `index` failed with `error`.

    `error` is the item error: at least `type` and `description`, plus its own fields.
    """
    return {
        "error": {
            "type": "mutationError",
            "description": f"Mutation failed: {error['description']}",
            "items": [{"index": index, "error": dict(error)}],
        }
    }


def mutation_exception_body(exc: MutationError) -> dict[str, Any]:
    """The body of a `MutationError`: its own when it carries one, else built from its fields."""
    if exc.body is not None:
        return exc.body
    item: dict[str, Any] = {"description": exc.message, "type": "mutationError"}
    if exc.document_id is not None:
        item["id"] = exc.document_id
    return mutation_error_body(exc.index, item)


def query_error_body(exc: QueryError, query: str) -> dict[str, Any]:
    """Sanity's 400 body for a GROQ error: `{"error": {type: "queryParseError", ...}}`."""
    if exc.body is not None:
        return exc.body
    text = exc.query or query
    error: dict[str, Any] = {"description": exc.message, "type": "queryParseError", "query": text}
    if exc.position is not None:
        error["start"] = exc.position
        # The span covers the construct when it is the query's own text ("->", "match").
        construct = exc.construct or ""
        spans = bool(construct) and text.startswith(construct, exc.position)
        error["end"] = exc.position + (len(construct) if spans else 1)
    if exc.construct is not None:
        # Not a Sanity field: names what the lake's GROQ subset refused (`SanityClient` reads it).
        error["construct"] = exc.construct
    return {"error": error}
