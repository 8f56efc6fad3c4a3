"""Typed errors of the document store, the same for the embedded lake and for Sanity.

Callers branch on these classes, never on message text. `SanityClient` decides the class from
the error body's item types (`items[].error.type`), exactly as Sanity sends them; the lake
raises the same classes and its HTTP server renders them back into Sanity's bodies, so both
stores look the same from above.
"""

from __future__ import annotations

from typing import Any


class StoreError(Exception):
    """Base class of every document-store failure."""

    #: The `traceparent` header of the failed Sanity response, for Sanity support to trace
    #: the request; None for the embedded lake and when no response came back.
    traceparent: str | None = None

    def __init__(self, message: str, *, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: The error body as Sanity sends it (`{"error": {...}}`), when there is one.
        self.body = body


class MutationError(StoreError):
    """A transaction was refused as a whole (HTTP 409 `mutationError`); nothing was written."""

    def __init__(
        self,
        message: str,
        *,
        index: int,
        document_id: str | None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, body=body)
        #: Position of the failing mutation in the `mutations` array.
        self.index = index
        self.document_id = document_id


class RevisionConflict(MutationError):
    """`ifRevisionID` did not match (`documentRevisionIDDoesNotMatchError`)."""

    def __init__(
        self,
        message: str,
        *,
        index: int,
        document_id: str | None,
        current_revision: str | None,
        expected_revision: str | None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, index=index, document_id=document_id, body=body)
        self.current_revision = current_revision
        self.expected_revision = expected_revision


class DocumentExists(MutationError):
    """`create` of an id that exists (`documentAlreadyExistsError`)."""


class DocumentMissing(MutationError):
    """A patch (or guard) named a document that does not exist.

    Sanity's exact error type for this case is not documented (reference notes, open
    question 2); the lake answers 409 `mutationError` with item type `documentNotFoundError`
    and the id, and the client maps that type here.
    """


class RateLimited(StoreError):
    """HTTP 429. `retry_after` is in seconds when the server said."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, body: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, body=body)
        self.retry_after = retry_after


class StoreUnavailable(StoreError):
    """5xx, timeouts and connection errors: the outcome of a write is unknown."""


class BadRequest(StoreError):
    """HTTP 400: the request itself is wrong (bad id, bad mutation, bad or unsupported GROQ)."""


class QueryError(BadRequest):
    """A GROQ query that fails to parse or uses a construct outside the supported subset."""

    def __init__(
        self,
        message: str,
        *,
        query: str = "",
        position: int | None = None,
        construct: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, body=body)
        self.query = query
        self.position = position
        self.construct = construct


class Unauthorized(StoreError):
    """HTTP 401/403: the token is missing, wrong, or lacks the permission."""


class QueryTimeout(StoreUnavailable):
    """A query ran past the store's deadline and was cut (the lake's `queryTimeoutError`).

    A `StoreUnavailable`: the store did not answer in time, and the same query may pass when
    the store is less busy; nothing was written.
    """
