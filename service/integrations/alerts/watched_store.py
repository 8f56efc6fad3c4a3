"""`WatchedStore`: a `DocumentStore` that tells listeners about every committed transaction.

The engine is given this store instead of the plain one, so whatever path runs an operation
(API, webhooks, cron, console), its committed transaction is seen once, after the commit,
without the engine or any route knowing. Listeners run synchronously and must be cheap; an
exception in a listener is logged and never reaches the operation, which has committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from cms_client.store import DelegatingStore, DocumentStore, MutationResult

logger = logging.getLogger("stocksync.alerts")

Listener = Callable[[MutationResult], None]


class WatchedStore(DelegatingStore):
    """Delegates everything to `inner`; calls each listener with each committed result."""

    def __init__(self, inner: DocumentStore) -> None:
        super().__init__(inner)
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def after_mutate(self, result: MutationResult, *, dry_run: bool) -> None:
        if dry_run:
            return
        for listener in self._listeners:
            try:
                listener(result)
            except Exception:
                logger.exception("a commit listener failed (the transaction stands)")
