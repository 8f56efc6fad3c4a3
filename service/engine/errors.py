"""The inventory engine's errors: one class per thing a caller can do something about.

Every error has a stable `code` (for JSON bodies and logs), a human `message` and
`details` (JSON-ready). Store failures are not wrapped: `cms_client.errors.StoreUnavailable`
and `RateLimited` reach the caller as they are (the work did not happen; retry later).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from schemas.operations import LineOutcome
from schemas.product import Quarantine


class InventoryError(Exception):
    """Base of the engine's domain errors."""

    code: ClassVar[str] = "inventory_error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class InvalidRequest(InventoryError):
    """The request breaks a limit or names nothing sensible (bad quantity, too many lines)."""

    code = "invalid_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, details={"field": field} if field else {})
        self.field = field


class InsufficientStock(InventoryError):
    """A reserve could not hold every line; nothing was held.

    `lines` lists every merged line with what was asked and what was available, and a
    `code` per line: ok, insufficient_stock, product_not_found, variant_not_found or
    variant_required.
    """

    code = "insufficient_stock"

    def __init__(self, lines: Sequence[LineOutcome]) -> None:
        self.lines = list(lines)
        failing = [line for line in self.lines if line.code != "ok"]
        message = "; ".join(line.message for line in failing) or "stock reservation failed"
        super().__init__(message, details={"lines": [line.to_json_dict() for line in self.lines]})


class ReservationNotFound(InventoryError):
    code = "reservation_not_found"

    def __init__(self, session_id: str) -> None:
        super().__init__(
            f"no reservation for session {session_id!r}", details={"sessionId": session_id}
        )
        self.session_id = session_id


class ReservationNotActive(InventoryError):
    """The reservation exists but no longer holds stock (released, expired, committed...)."""

    code = "reservation_not_active"

    def __init__(self, session_id: str, status: str) -> None:
        super().__init__(
            f"reservation for session {session_id!r} is {status}, not active",
            details={"sessionId": session_id, "status": status},
        )
        self.session_id = session_id
        self.status = status


class ReservationNotCommitted(InventoryError):
    """Stock can only be restored for a reservation that was paid (committed)."""

    code = "reservation_not_committed"

    def __init__(self, session_id: str, status: str) -> None:
        super().__init__(
            f"reservation for session {session_id!r} is {status}; nothing was sold to restore",
            details={"sessionId": session_id, "status": status},
        )
        self.session_id = session_id
        self.status = status


class ReservationConflict(InventoryError):
    """The session already holds a reservation for other lines."""

    code = "reservation_conflict"

    def __init__(self, session_id: str) -> None:
        super().__init__(
            f"session {session_id!r} already has a reservation with other lines",
            details={"sessionId": session_id},
        )
        self.session_id = session_id


class ProductNotFound(InventoryError):
    code = "product_not_found"

    def __init__(self, product_id: str) -> None:
        super().__init__(f"product {product_id!r} not found", details={"productId": product_id})
        self.product_id = product_id


class VariantNotFound(InventoryError):
    code = "variant_not_found"

    def __init__(self, product_id: str, variant: str | None) -> None:
        what = f"variant {variant!r}" if variant else "a variant (size or variantKey)"
        super().__init__(
            f"product {product_id!r} has no {what}" if variant else f"{product_id!r} needs {what}",
            details={"productId": product_id, "variant": variant},
        )
        self.product_id = product_id
        self.variant = variant


class InvalidAdjustment(InventoryError):
    """An adjustment that would leave stock below zero, or names no change."""

    code = "invalid_adjustment"


class BelowReserved(InvalidAdjustment):
    """An adjustment that would leave less stock than open checkouts hold (paying them would
    oversell), without the staff override."""

    code = "below_reserved"


class IdempotencyKeyReused(InventoryError):
    """The idempotency key was used before for a different operation or request."""

    code = "idempotency_key_reused"

    def __init__(self, key: str, operation: str) -> None:
        super().__init__(
            f"idempotency key was already used for a different {operation} request",
            details={"operation": operation},
        )
        self.key = key
        self.operation = operation


class RetryLater(InventoryError):
    """The work may be sent again later (503 with Retry-After; webhooks answer 5xx so the
    sender retries)."""


class ConflictRetriesExhausted(RetryLater):
    """Concurrent writers kept winning; nothing was written. Safe to retry later."""

    code = "conflict_retries_exhausted"

    def __init__(self, operation: str, attempts: int) -> None:
        super().__init__(
            f"{operation} gave up after {attempts} revision conflicts",
            details={"operation": operation, "attempts": attempts},
        )
        self.operation = operation
        self.attempts = attempts


class LocationNotFound(InventoryError):
    """A location slug that names no stock location."""

    code = "location_not_found"

    def __init__(self, slug: str) -> None:
        super().__init__(f"no stock location {slug!r}", details={"location": slug})
        self.slug = slug


class LocationStockShort(InventoryError):
    """A transfer asked for more units than the source location has available."""

    code = "insufficient_stock"


class OutcomeUnknown(RetryLater):
    """The store took the transaction but its answer was lost, and a read-back could not
    tell whether it applied (the store stayed unreachable). Design rule 11: never answer a
    guess, so neither "done" nor "nothing changed" is claimed."""

    code = "outcome_unknown"

    def __init__(self, operation: str) -> None:
        super().__init__(
            f"the document store did not confirm the {operation}: it applied in full or not "
            "at all, and stocksync could not yet read back which. Check the product before "
            "sending it again, or send it again with the same Idempotency-Key or session "
            "(a replay never applies twice)",
            details={"operation": operation},
        )
        self.operation = operation


class ProductQuarantined(InventoryError):
    """The product's stock fields cannot be interpreted (design rule 10): its stock is not
    changed until an editor fixes the field named."""

    code = "product_quarantined"

    def __init__(self, quarantine: Quarantine) -> None:
        super().__init__(
            f"product {quarantine.product_id} ({quarantine.title}) is quarantined: "
            f"{quarantine.field} {quarantine.reason}; fix it in the Studio",
            details={
                "productId": quarantine.product_id,
                "field": quarantine.field,
                "reason": quarantine.reason,
            },
        )
        self.quarantine = quarantine
