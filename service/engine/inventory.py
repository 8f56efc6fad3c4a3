"""`Inventory`: the engine's facade, the one way anything in stocksync changes stock.

The HTTP API, the Stripe and Sanity webhooks, the cron routes and the CLI call these
methods. Each method is a thin door: the operation itself lives in its own module under
`service.engine.operations` (reserve, release, commit, restore, refunds, adjust, payment,
stock_import, status, sweep, reconcile, error_logs), and runs as read fresh -> pure plan ->
one guarded transaction (see `service.engine.unit_of_work.executor`). Results are the typed
payloads of `schemas.operations`; failures are the typed errors of `service.engine.errors`
(each with a stable `code`). Store failures (`cms_client.errors.StoreUnavailable`,
`RateLimited`) pass through: the work did not happen, or its outcome is unknown, and the
caller should retry later.

Exactly-once: `reserve`, `release` and `commit` are guarded by the reservation's own
revision and status; `restore` records its reference; every mutating method also takes
`idempotency_keys` (for example a webhook event id and an "object + effect" key), whose
records are created in the same transaction as the effect and whose stored result is
returned again, marked `replayed`, to any later call with the same key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import timedelta
from random import Random
from typing import Any

from cms_client.clock import Clock, utc_now
from cms_client.store import DocumentStore
from schemas.operations import (
    AdjustReason,
    AdjustResult,
    CommitResult,
    ExpireResult,
    LineRequest,
    PaymentIntentResult,
    PurgeResult,
    ReconcileResult,
    ReleaseResult,
    ReserveResult,
    RestoreResult,
    StatusResult,
    TransferResult,
)
from schemas.records import ErrorType, Severity
from schemas.refunds import RefundFacts, RefundsResult
from schemas.reservation import RestoreReason, StockReservation
from schemas.stock_csv import ImportRow
from service.engine.operations import adjust as adjust_op
from service.engine.operations import cart_check as cart_check_op
from service.engine.operations import error_logs as error_logs_op
from service.engine.operations import payment as payment_op
from service.engine.operations import reconcile as reconcile_op
from service.engine.operations import refunds as refunds_op
from service.engine.operations import release as release_op
from service.engine.operations import restore as restore_op
from service.engine.operations import status as status_op
from service.engine.operations import stock_import as stock_import_op
from service.engine.operations import sweep as sweep_op
from service.engine.operations import transfer as transfer_op
from service.engine.operations.cart_check import CartCheckResult
from service.engine.operations.commit import CommitCall, Committing
from service.engine.operations.context import EngineContext
from service.engine.operations.reserve import Reserving
from service.engine.operations.stock_import import ImportResult
from service.engine.planners.reserve_group import ReserveCall
from service.engine.settings import EngineSettings
from service.engine.unit_of_work.executor import Executor, Sleep, new_token
from service.engine.unit_of_work.group_commit import CommitGroups
from service.engine.unit_of_work.pacing import MutationPacing, pacing_of
from service.engine.unit_of_work.resolver import ProductResolver


class Inventory:
    """Stock operations over one `DocumentStore` (embedded lake or Sanity).

    One instance per process: it caches product names (slug -> `_id`), which products a
    reservation holds and (`settings.warm_cache`) the documents its own writes returned, so
    a warm reserve or release is one write and a warm commit one read and one write. With
    `settings.coalesce`, concurrent reserves of the same products share one transaction.
    `clock`, `sleep` and `rng` are injected so tests control time, waits and jitter.
    """

    def __init__(
        self,
        store: DocumentStore,
        *,
        clock: Clock = utc_now,
        settings: EngineSettings | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: Random | None = None,
        token_factory: Callable[[], str] = new_token,
        pacing: MutationPacing | None = None,
    ) -> None:
        """`pacing`: the mutate limiter of the store, when `store` wraps a paced one (by
        default `store`'s own, if it has one; see `service.engine.unit_of_work.pacing`)."""
        self.store = store
        self.clock = clock
        self.settings = settings or EngineSettings()
        self.resolver = ProductResolver(store)
        self.executor = Executor(
            store,
            clock=clock,
            settings=self.settings,
            sleep=sleep,
            rng=rng or Random(),
            resolver=self.resolver,
            token_factory=token_factory,
            pacing=pacing if pacing is not None else pacing_of(store),
        )
        self._ctx = EngineContext(self.executor)
        self._reserving = Reserving(self._ctx)
        self._committing = Committing(self._ctx)
        #: The group-commit queues (tests watch them fill).
        self.reserve_groups: CommitGroups[ReserveCall, ReserveResult] = self._reserving.groups
        self.commit_groups: CommitGroups[CommitCall, CommitResult] = self._committing.groups

    def watch_reclaimed_holds(self, callback: Callable[[list[str]], None] | None) -> None:
        """`callback(session_ids)` after every reserve write that released overdue holds
        to make room (called after the commit, on the event loop: it must not block)."""
        self._ctx.holds_reclaimed = callback

    async def reserve(
        self,
        session_id: str,
        lines: Sequence[LineRequest],
        *,
        ttl: timedelta | None = None,
        idempotency_keys: Sequence[str] = (),
    ) -> ReserveResult:
        """Hold stock for a checkout session: every line or none.

        Lines are merged per product/variant first. A product is named by `_id` or slug; a
        variant by `variant_key` or by `size` (case-insensitive). `ttl` defaults to
        `settings.default_ttl` and is bounded to [min_ttl, max_ttl]. Expired holds on the
        products this reserve finds short are released first (even if it still fails).

        Calling again with the same lines returns the original result (`replayed=True`)
        while the hold is active. Raises `InsufficientStock` (per-line requested/available
        and code), `ReservationConflict` (same session, other lines),
        `ReservationNotActive` (same lines, hold already released/expired/committed),
        `InvalidRequest` (limits), `ConflictRetriesExhausted`.

        With `settings.coalesce`, reserves of the same products that this instance runs
        at the same time are planned in arrival order into one transaction (group
        commit, `service.engine.unit_of_work.group_commit`); each still gets exactly its own
        answer or error.
        """
        return await self._reserving.reserve(
            session_id, lines, ttl=ttl, idempotency_keys=idempotency_keys
        )

    async def release(
        self,
        session_id: str,
        lines: Sequence[LineRequest] | None = None,
        *,
        idempotency_keys: Sequence[str] = (),
    ) -> ReleaseResult:
        """Give a hold back: all of it (`lines=None`, status released) or some lines of it
        (the reservation stays active with less held).

        Only an active reservation can be released, so a release applies once; a partial
        release repeated without an idempotency key releases again. Raises
        `ReservationNotFound`, `ReservationNotActive`, `InvalidRequest` (a line the hold
        does not have, or more than it holds).
        """
        return await release_op.release(
            self._ctx, session_id, lines, idempotency_keys=idempotency_keys
        )

    async def commit(
        self,
        session_id: str,
        payment_ref: str | None = None,
        *,
        idempotency_keys: Sequence[str] = (),
    ) -> CommitResult:
        """The checkout was paid: deduct the held stock (stock and reserved both decrease).

        Exactly once per reservation: a reservation already committed (or since refunded)
        returns its commit result with `replayed=True`, whatever `payment_ref` says. A hold
        that was released or expired is committed late from available stock; what cannot be
        covered is recorded as `shortfall` (on the result and the reservation) with a
        critical errorLog. Stock never goes below zero. Raises `ReservationNotFound`.
        """
        return await self._committing.commit(
            session_id, payment_ref, idempotency_keys=idempotency_keys
        )

    async def restore(
        self,
        session_id: str,
        lines: Sequence[LineRequest] | None = None,
        *,
        reference: str,
        reason: RestoreReason = "refund",
        idempotency_keys: Sequence[str] = (),
    ) -> RestoreResult:
        """Put sold units back in stock (refund, cancellation or return).

        `lines=None` restores everything still restorable; otherwise the named lines, up to
        what was sold and not restored yet. Exactly once per `reference` (the refund id):
        a repeat returns the first result with `replayed=True`. Status becomes refunded when
        nothing is left to restore, else partially_refunded. Raises `ReservationNotFound`,
        `ReservationNotCommitted`, `InvalidRequest`.
        """
        return await restore_op.restore(
            self._ctx,
            session_id,
            lines,
            reference=reference,
            reason=reason,
            idempotency_keys=idempotency_keys,
        )

    async def settle_refunds(self, facts: RefundFacts) -> RefundsResult:
        """Record what a Stripe event says about the refunds of one payment and move stock
        to match all that is known (`service.engine.planners.refunds`): restored while a
        refund is going back, taken out again when it failed or was canceled, held while
        the payment is not recorded. Any order and any repeat of the facts ends in the same
        stock. A session link already recorded on the refunds wins over `facts.session_id`.
        Raises `InvalidRequest` when the facts name no payment.
        """
        return await refunds_op.settle_refunds(self._ctx, facts)

    async def unmatched_refunds(
        self, *, session_id: str | None = None, payment_intent_id: str | None = None
    ) -> list[RefundFacts]:
        """Refund documents still waiting for their payment (all, or those naming this
        session or payment intent), as facts that settle them again (a query: may lag)."""
        return await refunds_op.unmatched_refunds(
            self._ctx, session_id=session_id, payment_intent_id=payment_intent_id
        )

    async def record_payment_intent(
        self, session_id: str, payment_intent_id: str
    ) -> PaymentIntentResult:
        """Remember the payment intent of an unpaid checkout (delayed payment methods).

        An active hold is kept for `settings.payment_hold` from now, so the sweep does not
        release stock the customer is paying for. Idempotent. Raises `ReservationNotFound`.
        """
        return await payment_op.record_payment_intent(self._ctx, session_id, payment_intent_id)

    async def session_paid_with(self, payment_intent_id: str) -> str | None:
        """The checkout session whose reservation recorded this payment intent (unpaid
        checkouts) or was paid with it, if any.

        A query (may lag a second on Sanity); the operation that follows reads fresh.
        """
        return await payment_op.session_paid_with(self._ctx, payment_intent_id)

    async def reservation(self, session_id: str) -> StockReservation | None:
        """The session's reservation, read fresh (None when there is none)."""
        return await self._ctx.reservation(session_id)

    async def adjust(
        self,
        product_id: str,
        *,
        reason: AdjustReason,
        set_to: int | None = None,
        delta: int | None = None,
        variant_key: str | None = None,
        size: str | None = None,
        actor: str = "system",
        note: str | None = None,
        reference: str | None = None,
        idempotency_keys: Sequence[str] = (),
        allow_below_reserved: bool = False,
        location: str | None = None,
    ) -> AdjustResult:
        """Change stock on hand of a product or variant, with a ledger entry by `actor`.

        Exactly one of `set_to` and `delta`. Reasons: restock, correction, damage, return,
        initial. Drafts and release versions get the same delta. Raises `InvalidAdjustment`
        (negative result, or not exactly one of set_to/delta), `ProductNotFound`,
        `VariantNotFound`. Lowering stock below what open checkouts hold raises
        `BelowReserved` unless `allow_below_reserved` (damage happens: available then shows 0
        and pending payments may record a shortfall). `location` (a slug) is required for
        a product stocked by location, and refused for one that is not
        (`InvalidRequest`, `LocationNotFound`); a restock fills open backorders first.
        """
        return await adjust_op.adjust(
            self._ctx,
            product_id,
            reason=reason,
            set_to=set_to,
            delta=delta,
            variant_key=variant_key,
            size=size,
            actor=actor,
            note=note,
            reference=reference,
            idempotency_keys=idempotency_keys,
            allow_below_reserved=allow_below_reserved,
            location=location,
        )

    async def transfer(
        self,
        product_id: str,
        *,
        source: str,
        target: str,
        quantity: int,
        variant_key: str | None = None,
        size: str | None = None,
        actor: str = "system",
        note: str | None = None,
        idempotency_keys: Sequence[str] = (),
    ) -> TransferResult:
        """Move `quantity` available units of a product or variant from the location
        `source` to `target` (slugs) in one transaction, a `transfer` ledger entry on each
        side; totals do not change. Raises `LocationStockShort` when `source` has fewer
        units nobody holds, `LocationNotFound`, `ProductNotFound`, `VariantNotFound`,
        `InvalidRequest` (same location, or a product not stocked by location)."""
        return await transfer_op.transfer(
            self._ctx,
            product_id,
            source=source,
            target=target,
            quantity=quantity,
            variant_key=variant_key,
            size=size,
            actor=actor,
            note=note,
            idempotency_keys=idempotency_keys,
        )

    async def import_stock(
        self,
        rows: Sequence[ImportRow],
        *,
        actor: str,
        reference: str | None = None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
        progress: Callable[[int], object] | None = None,
    ) -> ImportResult:
        """Apply many stock adjustments (an import file's rows) all together or not at all.

        Every row is checked on one fresh read of its products first; `dry_run` stops there
        and writes nothing. Otherwise any invalid row raises `ImportRejected` (its `result`
        lists every row, bad ones with `error`) and nothing is written; else each row that
        changes stock writes one ledger entry (its reason, `reference` or the row's own, by
        `actor`), in chunks of whole products per transaction, undone if a later chunk fails
        (see `service.engine.operations.stock_import`). With `idempotency_key` a repeat returns
        the first result (`replayed`), or raises `ImportInProgress` while it runs. `progress`
        is called with the number of rows applied after each transaction.
        """
        return await stock_import_op.import_stock(
            self.executor,
            rows,
            actor=actor,
            reference=reference,
            dry_run=dry_run,
            idempotency_key=idempotency_key,
            progress=progress,
        )

    async def check_cart(self, lines: Sequence[LineRequest]) -> CartCheckResult:
        """Judge cart lines as a reserve would, on a fresh read, holding nothing: one
        outcome per line in order (lines of one product and size judged on their total;
        codes and messages as a reserve's). Raises `InvalidRequest` beyond
        `settings.status_max_products` different products."""
        return await cart_check_op.check_cart(self._ctx, lines)

    async def status(
        self, product_ids: Sequence[str], *, location: str | None = None
    ) -> StatusResult:
        """Total, reserved, available (never below 0) and state per product and variant.

        Products are named by `_id` or slug; unknown names are listed in `not_found`. State:
        out_of_stock (nothing available), low_stock (available <= the product's
        `lowStockThreshold`, default `settings.low_stock_threshold`) or in_stock. One store
        read for up to `settings.status_max_products` names (a second only when a cached
        slug has moved to another product). Raises `InvalidRequest` beyond the limit.
        With `location` (a slug), the figures are that location's (`LocationNotFound`).
        """
        return await status_op.status(self._ctx, product_ids, location)

    async def expire(self) -> ExpireResult:
        """Expire every active hold past `expiresAt` + `settings.expire_grace`.

        Each expiry is its own guarded transaction (status expired, reserved decreased,
        `expiry` ledger entries); a hold that a payment or release takes at the same moment
        is left to that operation. Holds that kept conflicting are listed in `failed`.
        """
        return await sweep_op.expire(self._ctx)

    async def reconcile(self, product_ids: Sequence[str] | None = None) -> ReconcileResult:
        """Recompute reserved counts from the active reservations: of every product, or of
        the products named (`_id` or slug; unknown names are skipped).

        Drift is repaired with guarded writes (published document and every copy), a
        `reconcile` ledger entry per counter and an errorLog saying what drifted; stock below
        zero is reported (`negative_stock`, a critical errorLog once per value). Products
        changed within `settings.reconcile_settle` are left for the next run (`settling`).
        """
        return await reconcile_op.reconcile(self._ctx, product_ids)

    async def purge(self) -> PurgeResult:
        """Delete idempotency records past their expiry and resolved error logs older than
        `settings.error_log_retention`."""
        return await sweep_op.purge(self._ctx)

    async def log_error(
        self,
        error_type: ErrorType,
        severity: Severity,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        session_id: str | None = None,
        product_id: str | None = None,
        dedupe_key: str | None = None,
    ) -> str:
        """Write an errorLog for a person to look at; returns its id.

        With `dedupe_key`, the log has an id derived from the key and is created only once,
        so a retried webhook logs its problem once.
        """
        return await error_logs_op.log_error(
            self.executor,
            error_type,
            severity,
            message,
            details=details,
            session_id=session_id,
            product_id=product_id,
            dedupe_key=dedupe_key,
        )
