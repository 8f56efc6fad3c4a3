"""Knobs of the inventory engine, with the defaults the shop gets when it sets nothing."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator


class EngineSettings(BaseModel):
    """Limits, durations and retry policy of `Inventory` (the service config fills them)."""

    model_config = ConfigDict(frozen=True)

    default_ttl: timedelta = Field(
        default=timedelta(minutes=30), description="Hold time when reserve is given none."
    )
    max_ttl: timedelta = Field(
        default=timedelta(minutes=60), description="Longest hold a reserve may ask for."
    )
    min_ttl: timedelta = Field(default=timedelta(minutes=1), description="Shortest hold.")
    max_quantity_per_line: int = Field(default=50, ge=1)
    max_lines: int = Field(default=100, ge=1)
    max_session_id_length: int = Field(default=255, ge=8)
    expire_grace: timedelta = Field(
        default=timedelta(minutes=2),
        description="How long after expiresAt a hold still waits for a late payment.",
    )
    payment_hold: timedelta = Field(
        default=timedelta(days=20),
        description="How long a hold is kept once a delayed payment (bank debit) is pending: "
        "SEPA Direct Debit may take 14 business days to settle, so at least 20 calendar days.",
    )
    refund_hold: timedelta = Field(
        default=timedelta(days=3),
        description="How long refunds wait for a payment stocksync has not recorded before "
        "they count as `no_matching_payment` (Stripe retries a payment's events for 3 days).",
    )
    low_stock_threshold: int = Field(default=5, ge=0)
    status_max_products: int = Field(default=100, ge=1)
    idempotency_retention: timedelta = Field(
        default=timedelta(days=7), description="Stripe retries for 3 days; keep records longer."
    )
    error_log_retention: timedelta = Field(
        default=timedelta(days=30), description="Resolved error logs older than this are purged."
    )
    reconcile_settle: timedelta = Field(
        default=timedelta(seconds=10),
        description="Products changed this recently are left to the next reconcile: a query "
        "may not show the reservation that changed them yet.",
    )
    sweep_batch_size: int = Field(default=100, ge=1, le=1000)
    max_attempts: int = Field(default=12, ge=1, description="Tries per operation on conflicts.")
    serialize_writers: bool = Field(
        default=True,
        description="Queue this instance's writers of one product instead of letting them "
        "race on revision guards (saves round trips; correctness never depends on it).",
    )
    coalesce: bool = Field(
        default=True,
        description="Group commit: this instance's concurrent reserves of the same products "
        "share one transaction (each keeps its own reservation, ledger entries and answer).",
    )
    coalesce_max_group: int = Field(
        default=50, ge=1, description="Most reserves in one group transaction."
    )
    warm_cache: bool = Field(
        default=True,
        description="Keep the documents this instance's own writes returned, so its next "
        "reserve or release of them writes without reading first (a conflict reads fresh).",
    )
    warm_cache_max_age: timedelta = Field(
        default=timedelta(seconds=5),
        description="How long a product's drafts and versions, as last read, are trusted "
        "to be none: a warm write cannot see a draft created since (see warm_cache.py).",
    )
    contention_window: timedelta = Field(
        default=timedelta(seconds=2),
        description="How long after a conflict a document counts as contended: its writes "
        "send the read a retry would need alongside (see contention.py); 0 turns that off.",
    )
    backoff_base: float = Field(default=0.01, ge=0, description="Seconds; doubles per retry.")
    backoff_max: float = Field(default=0.5, ge=0, description="Seconds; cap of one wait.")

    @model_validator(mode="after")
    def _ttl_bounds(self) -> EngineSettings:
        if not self.min_ttl <= self.default_ttl <= self.max_ttl:
            raise ValueError("need min_ttl <= default_ttl <= max_ttl")
        return self
