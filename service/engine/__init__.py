"""The inventory engine: the only home of stock rules, and this module is its only way in.

Other packages import from `service.engine` only (an import-linter contract enforces it;
see docs/architecture.md). What it offers:

- `Inventory`: the operations on stock (reserve, release, commit, restore, adjust,
  record_payment_intent, status, expire, reconcile, purge, log_error); its method
  docstrings are the API, and each method calls its module in `operations/`.
- Use cases that combine them (`operations/`): `commit_paid` and the held refunds,
  `product_changed` (a Sanity edit), `run_cleanup` / `run_reconcile` (housekeeping),
  `resolve_error_log`.
- The shop's states, defined once (`model/states.py`): `stock_state`, `worst_state`,
  `got_worse`, `is_overdue`, `overdue_cutoff` and `OVERDUE_HOLD` (its GROQ form).
- `ProductStock` and `product_status` (reading a product document as the engine does),
  `EngineSettings`, `MutationPacing` / `pacing_of`, the domain errors, and the result
  payloads re-exported from `schemas.operations`.
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
    LocationNotFound,
    LocationStockShort,
    OutcomeUnknown,
    ProductNotFound,
    ProductQuarantined,
    ReservationConflict,
    ReservationNotActive,
    ReservationNotCommitted,
    ReservationNotFound,
    RetryLater,
    VariantNotFound,
)
from service.engine.inventory import Inventory
from service.engine.model.states import (
    STOCK_STATE_RANK,
    got_worse,
    is_overdue,
    overdue_cutoff,
    stock_state,
    worst_state,
)
from service.engine.model.stock import ProductStock
from service.engine.operations.cart_check import CartCheckResult
from service.engine.operations.editor_change import (
    EditorChange,
    ProductChangeResult,
    product_changed,
)
from service.engine.operations.error_logs import ErrorLogNotFound, resolve_error_log
from service.engine.operations.held_refunds import (
    HeldRefundsReport,
    apply_held_refunds,
    commit_paid,
)
from service.engine.operations.housekeeping import (
    CleanupReport,
    ReconcileReport,
    run_cleanup,
    run_reconcile,
)
from service.engine.operations.stock_import import (
    ImportInProgress,
    ImportRejected,
    ImportResult,
    ImportRowResult,
)
from service.engine.planners.status import product_status
from service.engine.queries import OVERDUE_HOLD
from service.engine.settings import EngineSettings
from service.engine.unit_of_work.executor import SERVICE_TRANSACTION_PREFIX
from service.engine.unit_of_work.pacing import MutationPacing, pacing_of

__all__ = [
    "OVERDUE_HOLD",
    "SERVICE_TRANSACTION_PREFIX",
    "STOCK_STATE_RANK",
    "AdjustResult",
    "CartCheckResult",
    "CleanupReport",
    "CommitResult",
    "ConflictRetriesExhausted",
    "EditorChange",
    "EngineSettings",
    "ErrorLogNotFound",
    "ExpireResult",
    "HeldRefundsReport",
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
    "LocationNotFound",
    "LocationStockShort",
    "MutationPacing",
    "OutcomeUnknown",
    "PaymentIntentResult",
    "ProductChangeResult",
    "ProductNotFound",
    "ProductQuarantined",
    "ProductStatus",
    "ProductStock",
    "PurgeResult",
    "ReconcileReport",
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
    "apply_held_refunds",
    "commit_paid",
    "got_worse",
    "is_overdue",
    "overdue_cutoff",
    "pacing_of",
    "product_changed",
    "product_status",
    "resolve_error_log",
    "run_cleanup",
    "run_reconcile",
    "stock_state",
    "worst_state",
]
