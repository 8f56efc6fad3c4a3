"""The one interface above this layer: `DocumentStore`.

Both the embedded `Lake` and the production `SanityClient` implement it; code above
`cms_client` holds a `DocumentStore` and cannot tell which one it has.

Mutations are passed in Sanity's own JSON shape (see `cms_client.mutations` for typed
builders), so the same list means the same thing to both stores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Document = dict[str, Any]
Mutation = dict[str, Any]
Perspective = Literal["published", "drafts", "raw"]
Visibility = Literal["sync", "async", "deferred"]
Operation = Literal["create", "update", "delete", "none"]


@dataclass(frozen=True)
class MutationResultItem:
    id: str
    operation: Operation
    #: The document after the transaction (None for a delete, or when not requested).
    document: Document | None = None


@dataclass(frozen=True)
class MutationResult:
    transaction_id: str
    results: list[MutationResultItem] = field(default_factory=list)

    def documents(self) -> dict[str, Document]:
        """Documents returned by the transaction, by id (last write wins)."""
        return {r.id: r.document for r in self.results if r.document is not None}


@runtime_checkable
class DocumentStore(Protocol):
    """A Sanity Content Lake dataset, as seen by stocksync."""

    #: "lake" for the embedded store, "sanity" for the real Content Lake.
    kind: str

    async def get_documents(
        self, ids: Sequence[str], *, include_all_versions: bool = False
    ) -> list[Document | None]:
        """Strongly consistent read by id (Sanity's `/data/doc`).

        Returns one entry per requested id, in request order, `None` for a missing id.
        With `include_all_versions`, the `drafts.` and `versions.<release>.` copies of the
        requested ids that exist are appended after those entries (ordered by id).
        """
        ...

    async def query(
        self,
        groq: str,
        params: Mapping[str, Any] | None = None,
        *,
        perspective: Perspective = "published",
    ) -> Any:
        """Run a GROQ query (eventually consistent on Sanity; never use before a write)."""
        ...

    async def mutate(
        self,
        mutations: Sequence[Mutation],
        *,
        transaction_id: str | None = None,
        return_documents: bool = True,
        visibility: Visibility = "sync",
        dry_run: bool = False,
        idempotent: bool = False,
    ) -> MutationResult:
        """Apply `mutations` as one atomic transaction.

        `idempotent=True` declares that replaying the request cannot apply it twice (every
        write is guarded by `ifRevisionID` or a `create` of a fixed id), which allows the
        production client to retry it after a timeout or 5xx.
        """
        ...

    async def aclose(self) -> None:
        """Release connections and files."""
        ...


class DelegatingStore:
    """A `DocumentStore` that passes every call to `inner`: the one base of the wrappers
    that watch, count or fail a store's calls. Subclasses override `before_call` (each
    call, named "read", "query" or "write", before it is sent) and `after_mutate` (each
    transaction's result)."""

    def __init__(self, inner: DocumentStore) -> None:
        self.inner = inner
        self.kind = inner.kind

    def before_call(self, call: str) -> None:
        """Called before each call is passed on; raising stops it."""

    def after_mutate(self, result: MutationResult, *, dry_run: bool) -> None:
        """Called with each transaction's result, after `inner` answered."""

    async def get_documents(
        self, ids: Sequence[str], *, include_all_versions: bool = False
    ) -> list[Document | None]:
        self.before_call("read")
        return await self.inner.get_documents(ids, include_all_versions=include_all_versions)

    async def query(
        self,
        groq: str,
        params: Mapping[str, Any] | None = None,
        *,
        perspective: Perspective = "published",
    ) -> Any:
        self.before_call("query")
        return await self.inner.query(groq, params, perspective=perspective)

    async def mutate(
        self,
        mutations: Sequence[Mutation],
        *,
        transaction_id: str | None = None,
        return_documents: bool = True,
        visibility: Visibility = "sync",
        dry_run: bool = False,
        idempotent: bool = False,
    ) -> MutationResult:
        self.before_call("write")
        result = await self.inner.mutate(
            mutations,
            transaction_id=transaction_id,
            return_documents=return_documents,
            visibility=visibility,
            dry_run=dry_run,
            idempotent=idempotent,
        )
        self.after_mutate(result, dry_run=dry_run)
        return result

    async def aclose(self) -> None:
        await self.inner.aclose()
