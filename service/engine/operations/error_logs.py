"""Resolve an error log: who resolved it, when, and why.

Resolving changes no stock, so it is one guarded patch of the log (design rule 1: read
fresh, patch with `ifRevisionID`, re-read and retry on a conflict, bounded), not a planned
transaction. It lives in the engine because it writes: read models only read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cms_client import mutations as m
from cms_client.errors import RevisionConflict
from cms_client.store import DocumentStore
from schemas.base import format_timestamp
from schemas.records import ERROR_LOG_TYPE, ErrorLog
from service.engine.errors import ConflictRetriesExhausted

RESOLVE_ATTEMPTS = 5


class ErrorLogNotFound(LookupError):
    def __init__(self, log_id: str) -> None:
        super().__init__(f"no error log {log_id!r}")
        self.log_id = log_id


async def resolve_error_log(
    store: DocumentStore,
    log_id: str,
    *,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> tuple[ErrorLog, bool]:
    """Mark the log resolved by `actor` (with `note`, when given); returns the log and
    whether this call resolved it (False: it already was, and is left as it was)."""
    resolution: dict[str, Any] = {
        "resolved": True,
        "resolvedAt": format_timestamp(now),
        "resolvedBy": actor,
    }
    if note:
        resolution["resolutionNote"] = note
    for _ in range(RESOLVE_ATTEMPTS):
        (doc,) = await store.get_documents([log_id])
        if doc is None or doc.get("_type") != ERROR_LOG_TYPE:
            raise ErrorLogNotFound(log_id)
        log = ErrorLog.model_validate(doc)
        if log.resolved:
            return log, False
        try:
            result = await store.mutate(
                [
                    m.patch(
                        log_id,
                        if_revision_id=doc["_rev"],
                        set=resolution,
                    )
                ],
                idempotent=True,
            )
        except RevisionConflict:
            continue
        written = result.documents().get(log_id)
        updated = (
            ErrorLog.model_validate(written)
            if written
            else log.model_copy(
                update={
                    "resolved": True,
                    "resolved_at": now,
                    "resolved_by": actor,
                    "resolution_note": note or None,
                }
            )
        )
        return updated, True
    raise ConflictRetriesExhausted("resolve", RESOLVE_ATTEMPTS)
