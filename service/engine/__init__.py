"""The inventory engine: a pure planning core and one guarded executor.

Other layers use only what this module exports: `Inventory` (the facade; its method
docstrings are the API), `EngineSettings`, the domain errors, and the result payloads
re-exported from `schemas.operations`.
"""

from __future__ import annotations

from schemas.operations import (
    AdjustResult,
    CommitResult,
    ExpireResult,
    LineOutcome,
    LineRequest,
    PaymentIntentResult,
    ProductStatus,
    PurgeResult,
    ReconcileResult,
    ReleaseResult,
    ReserveResult,
    RestoreResult,
    StatusResult,
    VariantStatus,
)
from service.engine.errors import (
    ConflictRetriesExhausted,
    IdempotencyKeyReused,
    InsufficientStock,
    InvalidAdjustment,
    InvalidRequest,
    InventoryError,
    OutcomeUnknown,
    ProductNotFound,
    ReservationConflict,
    ReservationNotActive,
    ReservationNotCommitted,
    ReservationNotFound,
    RetryLater,
    VariantNotFound,
)
from service.engine.executor import SERVICE_TRANSACTION_PREFIX
from service.engine.inventory import Inventory
from service.engine.planners.status import stock_state
from service.engine.settings import EngineSettings
from service.engine.stock_import import (
    ImportInProgress,
    ImportRejected,
    ImportResult,
    ImportRowResult,
)

__all__ = [
    "SERVICE_TRANSACTION_PREFIX",
    "AdjustResult",
    "CommitResult",
    "ConflictRetriesExhausted",
    "EngineSettings",
    "ExpireResult",
    "IdempotencyKeyReused",
    "ImportInProgress",
    "ImportRejected",
    "ImportResult",
    "ImportRowResult",
    "InsufficientStock",
    "InvalidAdjustment",
    "InvalidRequest",
    "Inventory",
    "InventoryError",
    "LineOutcome",
    "LineRequest",
    "OutcomeUnknown",
    "PaymentIntentResult",
    "ProductNotFound",
    "ProductStatus",
    "PurgeResult",
    "ReconcileResult",
    "ReleaseResult",
    "ReservationConflict",
    "ReservationNotActive",
    "ReservationNotCommitted",
    "ReservationNotFound",
    "ReserveResult",
    "RestoreResult",
    "RetryLater",
    "StatusResult",
    "VariantNotFound",
    "VariantStatus",
    "stock_state",
]
