"""Service-owned bookkeeping documents: `idempotencyRecord` and `errorLog`."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field

from schemas.base import TEXT, SanityDocument, Timestamp

IDEMPOTENCY_TYPE: Final = "idempotencyRecord"
ERROR_LOG_TYPE: Final = "errorLog"

ErrorType = Literal[
    "stock_validation",
    "stock_reservation",
    "stock_deduction",
    "stock_restore",
    "webhook_processing",
    "reconciliation",
]
Severity = Literal["low", "medium", "high", "critical"]


class IdempotencyRecord(SanityDocument):
    """Proof that an operation ran for a key, with the response to replay.

    Created with `create` in the same transaction as the operation's effect, so a duplicate
    (even a concurrent one) can never apply the effect twice.
    """

    type: Literal["idempotencyRecord"] = Field(default=IDEMPOTENCY_TYPE, alias="_type")
    key: str
    operation: str
    fingerprint: str = Field(description="sha256 of the canonical request.")
    response: str = Field(
        description="The operation's result as a JSON string.", json_schema_extra=TEXT
    )
    created_at: Timestamp
    expires_at: Timestamp


class ErrorLog(SanityDocument):
    """Something a person should look at (critical: money taken without stock)."""

    type: Literal["errorLog"] = Field(default=ERROR_LOG_TYPE, alias="_type")
    error_type: ErrorType = Field(alias="type")
    severity: Severity
    message: str = Field(json_schema_extra=TEXT)
    details: str | None = Field(default=None, description="JSON string.", json_schema_extra=TEXT)
    session_id: str | None = None
    product_id: str | None = None
    resolved: bool = False
    resolved_at: Timestamp | None = None
    resolved_by: str | None = None
    resolution_note: str | None = Field(
        default=None, description="What the person who resolved it said (optional)."
    )
    created_at: Timestamp
