"""Error logs: write one for a person to look at; resolve one (who, when, why).

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
from schemas.records import ERROR_LOG_TYPE, ErrorLog, ErrorType, Severity
from service.engine.errors import ConflictRetriesExhausted
from service.engine.model.plan import Plan
from service.engine.unit_of_work.executor import Attempt, Executor

RESOLVE_ATTEMPTS = 5


async def log_error(
    executor: Executor,
    error_type: ErrorType,
    severity: Severity,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    session_id: str | None = None,
    product_id: str | None = None,
    dedupe_key: str | None = None,
) -> str:
    """See `Inventory.log_error`."""

    async def step(att: Attempt) -> Plan[str]:
        plan = Plan[str](att.snapshot, now=att.now, token=att.token)
        log_id = plan.log_error(
            error_type,
            severity,
            message,
            details=details,
            session_id=session_id,
            product_id=product_id,
            dedupe_key=dedupe_key,
        )
        return plan.succeed(log_id)

    return await executor.run("log_error", step)


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
