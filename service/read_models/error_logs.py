"""Error logs for staff: list them (resolving one is the engine's
`resolve_error_log`, a write)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from cms_client.store import DocumentStore
from schemas.base import Model, Timestamp
from schemas.records import ERROR_LOG_TYPE, ErrorLog, ErrorType, Severity
from service.read_models.paging import Page, fetch_page


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
