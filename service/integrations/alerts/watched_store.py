"""`WatchedStore`: a `DocumentStore` that tells listeners about every committed transaction.

The engine is given this store instead of the plain one, so whatever path runs an operation
(API, webhooks, cron, console), its committed transaction is seen once, after the commit,
without the engine or any route knowing. Listeners run synchronously and must be cheap; an
exception in a listener is logged and never reaches the operation, which has committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cms_client.store import (
    Document,
    DocumentStore,
    Mutation,
    MutationResult,
    Perspective,
    Visibility,
)

logger = logging.getLogger("stocksync.alerts")

Listener = Callable[[MutationResult], None]


class WatchedStore:
    """Delegates everything to `inner`; calls each listener with each committed result."""

    def __init__(self, inner: DocumentStore) -> None:
        self.inner = inner
        self.kind = inner.kind
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def get_documents(
        self, ids: Sequence[str], *, include_all_versions: bool = False
    ) -> list[Document | None]:
        return await self.inner.get_documents(ids, include_all_versions=include_all_versions)

    async def query(
        self,
        groq: str,
        params: Mapping[str, Any] | None = None,
        *,
        perspective: Perspective = "published",
    ) -> Any:
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
        result = await self.inner.mutate(
            mutations,
            transaction_id=transaction_id,
            return_documents=return_documents,
            visibility=visibility,
            dry_run=dry_run,
            idempotent=idempotent,
        )
        if not dry_run:
            for listener in self._listeners:
                try:
                    listener(result)
                except Exception:
                    logger.exception("a commit listener failed (the transaction stands)")
        return result

    async def aclose(self) -> None:
        await self.inner.aclose()
