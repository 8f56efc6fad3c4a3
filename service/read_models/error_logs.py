"""Error logs for staff: list them, and mark one resolved.

Resolving changes no stock, so it is a plain guarded patch of the log (retried on a
revision conflict), not an engine operation.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import Field

from cms_client import mutations as m
from cms_client.errors import RevisionConflict
from cms_client.store import DocumentStore
from schemas.base import Model, Timestamp, format_timestamp
from schemas.records import ERROR_LOG_TYPE, ErrorLog, ErrorType, Severity
from service.engine.errors import ConflictRetriesExhausted
from service.read_models.paging import Page, fetch_page

RESOLVE_ATTEMPTS = 5


class ErrorLogView(Model):
    id: str
    type: ErrorType
    severity: Severity
    message: str
    details: Any = Field(default=None, description="The stored JSON details, parsed.")
    session_id: str | None = None
    product_id: str | None = None
    resolved: bool
    resolved_at: Timestamp | None = None
    resolved_by: str | None = None
    resolution_note: str | None = None
    created_at: Timestamp


class ErrorLogList(Model):
    error_logs: list[ErrorLogView]
    pagination: Page


class ErrorLogNotFound(LookupError):
    def __init__(self, log_id: str) -> None:
        super().__init__(f"no error log {log_id!r}")
        self.log_id = log_id


def _details(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def view(log: ErrorLog) -> ErrorLogView:
    return ErrorLogView(
        id=log.id,
        type=log.error_type,
        severity=log.severity,
        message=log.message,
        details=_details(log.details),
        session_id=log.session_id,
        product_id=log.product_id,
        resolved=log.resolved,
        resolved_at=log.resolved_at,
        resolved_by=log.resolved_by,
        resolution_note=log.resolution_note,
        created_at=log.created_at,
    )


async def list_error_logs(
    store: DocumentStore,
    *,
    severity: Severity | None = None,
    resolved: bool | None = None,
    error_type: ErrorType | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> ErrorLogList:
    params: dict[str, Any] = {}
    filters = [f'_type == "{ERROR_LOG_TYPE}"']
    if severity is not None:
        filters.append("severity == $severity")
        params["severity"] = severity
    if resolved is not None:
        filters.append("coalesce(resolved, false) == $resolved")
        params["resolved"] = resolved
    if error_type is not None:
        filters.append("type == $errorType")
        params["errorType"] = error_type
    page, pagination = await fetch_page(store, filters, params, cursor=cursor, limit=limit)
    return ErrorLogList(
        error_logs=[view(ErrorLog.model_validate(row)) for row in page], pagination=pagination
    )


async def resolve_error_log(
    store: DocumentStore,
    log_id: str,
    *,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> tuple[ErrorLogView, bool]:
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
            return view(log), False
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
        return view(updated), True
    raise ConflictRetriesExhausted("resolve", RESOLVE_ATTEMPTS)
