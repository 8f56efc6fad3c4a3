"""`Inventory`: the engine's facade, the one way anything in stocksync changes stock.

The HTTP API, the Stripe and Sanity webhooks, the cron routes and the CLI call these
methods; each runs as read fresh -> pure plan -> one guarded transaction (see
`service.engine.unit_of_work.executor`). Results are the typed payloads of `schemas.operations`;
failures are the typed errors of `service.engine.errors` (each with a stable `code`).
Store failures (`cms_client.errors.StoreUnavailable`, `RateLimited`) pass through: the work
did not happen, or its outcome is unknown, and the caller should retry later.

Exactly-once: `reserve`, `release` and `commit` are guarded by the reservation's own
revision and status; `restore` records its reference; every mutating method also takes
`idempotency_keys` (for example a webhook event id and an "object + effect" key), whose
records are created in the same transaction as the effect and whose stored result is
returned again, marked `replayed`, to any later call with the same key.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from cms_client.clock import Clock, utc_now
from cms_client.store import DocumentStore, MutationResult
from schemas.base import format_timestamp
from schemas.ids import refunds_id, reservation_id
from schemas.operations import (
    AdjustReason,
    AdjustRequest,
    AdjustResult,
    CommitRequest,
    CommitResult,
    ExpireResult,
    LineRequest,
    PaymentIntentResult,
    PurgeResult,
    ReconcileResult,
    ReleaseRequest,
    ReleaseResult,
    ReserveRequest,
    ReserveResult,
    RestoreRequest,
    RestoreResult,
    StatusResult,
)
from schemas.records import ErrorType, Severity
from schemas.refunds import RefundFacts, RefundsResult
from schemas.reservation import RestoreReason, StockReservation
from schemas.stock_csv import ImportRow
from service.engine.errors import InsufficientStock, InvalidRequest, InventoryError
from service.engine.model.plan import Plan
from service.engine.operations import sweep
from service.engine.operations.backorders import read_open_backorders
from service.engine.operations.status import read_status
from service.engine.operations.stock_import import (
    ImportRejected,
    ImportResult,
    StockImport,
    journal_id,
    summary,
)
from service.engine.planners.adjust import plan_adjust, validate_adjust
from service.engine.planners.commit import plan_commit
from service.engine.planners.lifecycle import plan_release
from service.engine.planners.payment import plan_record_payment_intent
from service.engine.planners.refunds import count_return, plan_refunds
from service.engine.planners.reserve import validate_reserve
from service.engine.planners.reserve_group import (
    ReserveCall,
    ReserveOutcome,
    plan_reserve_group,
)
from service.engine.planners.restore import plan_restore, restore_key
from service.engine.queries import (
    REFUNDS_OF_REFUND,
    RESERVATION_BY_PAYMENT,
    UNMATCHED_REFUNDS,
    overdue_or_next,
)
from service.engine.settings import EngineSettings
from service.engine.unit_of_work.executor import Attempt, Executor, Sleep, new_token
from service.engine.unit_of_work.group_commit import CommitGroups
from service.engine.unit_of_work.idempotency import plan_keyed, record_ids
from service.engine.unit_of_work.pacing import MutationPacing, pacing_of
from service.engine.unit_of_work.resolver import ProductResolver

ResultT = TypeVar("ResultT", bound=BaseModel)


@dataclass(frozen=True)
class _CommitCall:
    request: CommitRequest
    reservation_id: str
    keys: tuple[str, ...]


CommitOutcome = CommitResult | InventoryError
RequestT = TypeVar("RequestT", bound=BaseModel)


def _request(model: type[RequestT], **fields: Any) -> RequestT:
    """Build a request payload; a value out of bounds is the caller's `InvalidRequest`."""
    try:
        return model(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        # Name the field as the JSON payloads do (camelCase).
        where = ".".join(to_camel(p) if isinstance(p, str) else str(p) for p in first["loc"])
        raise InvalidRequest(f"{where}: {first['msg']}", field=where) from None


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
        #: Group keys whose last fresh batch found every member short: a batch of them most
        #: likely writes nothing, so it does not wait for a write slot (only a hint).
        self._short_groups: OrderedDict[str, None] = OrderedDict()
        self._held_products: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        #: No hold is overdue before this (see `_overdue_holds`).
        self._no_overdue_until: datetime | None = None
        self.reserve_groups: CommitGroups[ReserveCall, ReserveResult] = CommitGroups(
            self._reserve_batch,
            max_size=self.settings.coalesce_max_group,
            before_seal=self._before_reserve_batch,
        )
        #: Payments of the same products ride one transaction too (like reserves).
        self.commit_groups: CommitGroups[_CommitCall, CommitResult] = CommitGroups(
            self._commit_group,
            max_size=self.settings.coalesce_max_group,
            before_seal=self._before_commit_batch,
        )

    # -- checkout holds --------------------------------------------------------------------

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
        request = _request(
            ReserveRequest,
            session_id=session_id,
            lines=list(lines),
            ttl_seconds=int(ttl.total_seconds()) if ttl is not None else None,
        )
        validate_reserve(request, self.settings)
        call = ReserveCall(request, reservation_id(session_id), tuple(idempotency_keys))
        if self.settings.coalesce:
            # Same products, same group: their writes would queue behind each other anyway.
            return await self.reserve_groups.submit(self._group_key(call.refs), call)
        (outcome,) = await self._reserve_batch([call])
        if isinstance(outcome, InventoryError):
            raise outcome
        return outcome

    async def _reserve_batch(self, calls: Sequence[ReserveCall]) -> list[ReserveOutcome]:
        """Reserve for every call in one transaction: one outcome per call, in order."""
        refs = list(dict.fromkeys(ref for call in calls for ref in call.refs))
        creates = [doc_id for call in calls for doc_id in call.created_ids]

        async def step(att: Attempt) -> Plan[list[ReserveOutcome]]:
            resolved = await att.read_products(refs, creates=creates)
            plan = Plan[list[ReserveOutcome]](att.snapshot, now=att.now, token=att.token)
            short = plan_reserve_group(plan, calls, resolved=resolved, settings=self.settings)
            # A warm plan that finds stock short is planned again on a fresh read anyway.
            if short and att.fresh:
                holds = await self._overdue_holds(att, short)
                if holds:
                    plan = Plan[list[ReserveOutcome]](att.snapshot, now=att.now, token=att.token)
                    plan_reserve_group(
                        plan, calls, resolved=resolved, settings=self.settings, overdue=holds
                    )
            return plan

        # Named as the callers name them too: a batch keyed by a slug not yet resolved and
        # one keyed by its `_id` must not race each other on the same product.
        products = [*refs, *(pid for ref in refs if (pid := self.resolver.cached(ref)))]
        key = self._group_key(refs)
        outcomes: list[ReserveOutcome] = await self.executor.run(
            "reserve",
            step,
            after_write=self._remember_holds,
            lock=[*(call.reservation_id for call in calls), *products],
            warm=True,
            # Refusals need no write slot (a hint: a write still waits in the store).
            pace_first=key not in self._short_groups,
        )
        if all(isinstance(outcome, InsufficientStock) for outcome in outcomes):
            self._short_groups[key] = None
            if len(self._short_groups) > 10_000:
                self._short_groups.popitem(last=False)
        else:
            self._short_groups.pop(key, None)
        return outcomes

    def _group_key(self, refs: Iterable[str]) -> str:
        """Reserves of the same products share a group: their writes would queue anyway."""
        return "|".join(sorted({self.resolver.cached(ref) or ref for ref in refs}))

    async def _before_reserve_batch(self, key: str) -> None:
        """Wait for the next write slot before sealing the batch, so the batch reads fresh
        and writes at once, and buyers arriving meanwhile ride in the same transaction. A
        group last found sold out skips the wait: its refusals need no slot (should stock
        be back, its write then waits in the store's limiter instead)."""
        if key not in self._short_groups:
            await self.executor.pace(spread=True)

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
        request = _request(
            ReleaseRequest, session_id=session_id, lines=list(lines) if lines else None
        )
        self._check_line_count(request.lines)
        rid = reservation_id(session_id)

        async def step(att: Attempt) -> Plan[ReleaseResult]:
            await self._read_reservation(att, rid, creates=record_ids(idempotency_keys))
            return self._keyed(
                att,
                idempotency_keys,
                "release",
                request,
                ReleaseResult,
                lambda plan: plan_release(plan, request, rid),
            )

        return await self.executor.run(
            "release", step, after_write=self._remember_holds, lock=self._hold_lock(rid), warm=True
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
        request = _request(CommitRequest, session_id=session_id, payment_ref=payment_ref)
        rid = reservation_id(session_id)
        call = _CommitCall(request, rid, tuple(idempotency_keys))
        if self.settings.coalesce:
            # Payments of the same products would queue behind each other's writes anyway:
            # like reserves, they share a transaction (each keeps its own answer).
            products = await self._products_held_by(rid)
            if products:
                return await self.commit_groups.submit(self._group_key(products), call)
        (outcome,) = await self._commit_batch([call])
        if isinstance(outcome, InventoryError):
            raise outcome
        return outcome

    async def _products_held_by(self, rid: str) -> tuple[str, ...]:
        """The products a reservation holds: known to this instance, or read once."""
        known = self._held_products.get(rid)
        if known is not None:
            return known
        (doc,) = await self.store.get_documents([rid])
        if doc is None:
            return ()
        products = tuple(p for p in doc.get("productIds") or [] if isinstance(p, str))
        self._remember_products(rid, products)
        return products

    async def _commit_group(
        self, calls: Sequence[_CommitCall], *, paced: bool = True
    ) -> list[CommitOutcome]:
        """A group's batch (its leader waited for the write slot before sealing it). One
        transaction commits each reservation once: further payments of a reservation in the
        same batch (a webhook and the success page at once) run after it, and replay."""
        first: dict[str, int] = {}
        for index, call in enumerate(calls):
            first.setdefault(call.reservation_id, index)
        now = [call for index, call in enumerate(calls) if first[call.reservation_id] == index]
        later = [call for index, call in enumerate(calls) if first[call.reservation_id] != index]
        outcomes = iter(await self._commit_batch(now, paced=paced))
        rest = iter(await self._commit_group(later, paced=False) if later else [])
        return [
            next(outcomes) if first[call.reservation_id] == index else next(rest)
            for index, call in enumerate(calls)
        ]

    async def _commit_batch(
        self, calls: Sequence[_CommitCall], *, paced: bool = False
    ) -> list[CommitOutcome]:
        """Commit every call in one transaction: one outcome per call, in order (a member
        that fails leaves the others alone)."""
        rids = [call.reservation_id for call in calls]
        records = [record for call in calls for record in record_ids(call.keys)]

        async def step(att: Attempt) -> Plan[list[CommitOutcome]]:
            await att.read([*rids, *records, *self._known_products(rids)])
            products = [
                item["productId"]
                for rid in rids
                if (doc := att.snapshot.get(rid)) is not None
                for item in doc.get("items") or []
                if isinstance(item, dict) and isinstance(item.get("productId"), str)
            ]
            await att.read(products)
            plan = Plan[list[CommitOutcome]](att.snapshot, now=att.now, token=att.token)
            outcomes: list[CommitOutcome] = []
            for call in calls:
                fork: Plan[CommitResult] = plan.fork()

                def body(member: Plan[CommitResult], call: _CommitCall = call) -> object:
                    return plan_commit(member, call.request, call.reservation_id)

                plan_keyed(
                    fork,
                    call.keys,
                    "commit",
                    call.request,
                    CommitResult,
                    body,
                    retention=self.settings.idempotency_retention,
                )
                if fork.error is not None:
                    outcomes.append(fork.error)
                    continue
                plan.adopt(fork)
                outcomes.append(fork.outcome())
            return plan.succeed(outcomes)

        lock = [*rids, *self._known_products(rids)]
        return await self.executor.run(
            "commit", step, after_write=self._remember_holds, lock=lock, pace_first=not paced
        )

    def _known_products(self, rids: Iterable[str]) -> list[str]:
        return list(dict.fromkeys(p for rid in rids for p in self._held_products.get(rid, ())))

    async def _before_commit_batch(self, key: str) -> None:
        """Wait for the next write slot before sealing, so payments arriving meanwhile ride
        in the same transaction (as reserves do)."""
        await self.executor.pace(spread=True)

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
        request = _request(
            RestoreRequest,
            session_id=session_id,
            reference=reference,
            reason=reason,
            lines=list(lines) if lines else None,
        )
        self._check_line_count(request.lines)
        rid = reservation_id(session_id)
        keys = [restore_key(rid, reference), *idempotency_keys]

        async def step(att: Attempt) -> Plan[RestoreResult]:
            await self._read_reservation(att, rid, also=record_ids(keys))
            return self._keyed(
                att,
                keys,
                "restore",
                request,
                RestoreResult,
                lambda plan: plan_restore(plan, request, rid),
            )

        return await self.executor.run(
            "restore", step, after_write=self._remember_holds, lock=self._hold_lock(rid)
        )

    async def settle_refunds(self, facts: RefundFacts) -> RefundsResult:
        """Record what a Stripe event says about the refunds of one payment and move stock
        to match all that is known (`service.engine.planners.refunds`): restored while a
        refund is going back, taken out again when it failed or was canceled, held while
        the payment is not recorded. Any order and any repeat of the facts ends in the same
        stock. A session link already recorded on the refunds wins over `facts.session_id`.
        Raises `InvalidRequest` when the facts name no payment.
        """
        key = facts.payment_key
        if key is None:
            raise InvalidRequest("a refund must name its payment intent or charge")
        doc_id = refunds_id(key)
        given = reservation_id(facts.session_id) if facts.session_id else None

        async def step(att: Attempt) -> Plan[RefundsResult]:
            await att.read([doc_id, *([given] if given else [])])
            existing = att.snapshot.get(doc_id)
            recorded = existing.get("sessionId") if existing is not None else None
            session = recorded if isinstance(recorded, str) and recorded else facts.session_id
            rid = reservation_id(session) if session else None
            if rid is not None:
                await self._read_reservation(att, rid)
            plan = Plan[RefundsResult](att.snapshot, now=att.now, token=att.token)
            return plan_refunds(plan, facts, doc_id, rid, held_for=self.settings.refund_hold)

        lock = [doc_id, *(self._hold_lock(given) if given else [])]
        return await self.executor.run("settle_refunds", step, lock=lock)

    async def _sale_named(self, reference: str) -> str | None:
        """The reservation a staff return names: a refund's (`re_...`, from its refund
        records) or a checkout session's; None when it names none."""
        if reference.startswith("re_"):
            row: Any = await self.store.query(REFUNDS_OF_REFUND, {"refund": reference})
            session = row.get("sessionId") if isinstance(row, dict) else None
            return reservation_id(session) if isinstance(session, str) and session else None
        rid = reservation_id(reference)
        (doc,) = await self.store.get_documents([rid])
        return rid if doc is not None else None

    async def unmatched_refunds(
        self, *, session_id: str | None = None, payment_intent_id: str | None = None
    ) -> list[RefundFacts]:
        """Refund documents still waiting for their payment (all, or those naming this
        session or payment intent), as facts that settle them again (a query: may lag)."""
        rows: Any = await self.store.query(
            UNMATCHED_REFUNDS,
            {
                "session": session_id or "",
                "intent": payment_intent_id or "",
                "all": not (session_id or payment_intent_id),
            },
        )
        found: list[RefundFacts] = []
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict):
                continue
            found.append(
                RefundFacts(
                    payment_intent_id=row.get("paymentIntentId") or None,
                    charge_id=row.get("chargeId") or None,
                    session_id=session_id or row.get("sessionId") or None,
                )
            )
        return found

    async def record_payment_intent(
        self, session_id: str, payment_intent_id: str
    ) -> PaymentIntentResult:
        """Remember the payment intent of an unpaid checkout (delayed payment methods).

        An active hold is kept for `settings.payment_hold` from now, so the sweep does not
        release stock the customer is paying for. Idempotent. Raises `ReservationNotFound`.
        """
        rid = reservation_id(session_id)

        async def step(att: Attempt) -> Plan[PaymentIntentResult]:
            await att.read([rid])
            plan = Plan[PaymentIntentResult](att.snapshot, now=att.now, token=att.token)
            return plan_record_payment_intent(
                plan, session_id, rid, payment_intent_id, hold=self.settings.payment_hold
            )

        return await self.executor.run("record_payment_intent", step, lock=[rid])

    async def session_paid_with(self, payment_intent_id: str) -> str | None:
        """The checkout session whose reservation recorded this payment intent (unpaid
        checkouts) or was paid with it, if any.

        A query (may lag a second on Sanity); the operation that follows reads fresh.
        """
        row: Any = await self.store.query(RESERVATION_BY_PAYMENT, {"ref": payment_intent_id})
        session = row.get("sessionId") if isinstance(row, dict) else None
        return session if isinstance(session, str) else None

    async def reservation(self, session_id: str) -> StockReservation | None:
        """The session's reservation, read fresh (None when there is none)."""
        (doc,) = await self.store.get_documents([reservation_id(session_id)])
        return StockReservation.model_validate(doc) if doc else None

    # -- stock on hand ---------------------------------------------------------------------

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
    ) -> AdjustResult:
        """Change stock on hand of a product or variant, with a ledger entry by `actor`.

        Exactly one of `set_to` and `delta`. Reasons: restock, correction, damage, return,
        initial. Drafts and release versions get the same delta. Raises `InvalidAdjustment`
        (negative result, or not exactly one of set_to/delta), `ProductNotFound`,
        `VariantNotFound`. Lowering stock below what open checkouts hold raises
        `BelowReserved` unless `allow_below_reserved` (damage happens: available then shows 0
        and pending payments may record a shortfall).
        """
        request = _request(
            AdjustRequest,
            product_id=product_id,
            variant_key=variant_key,
            size=size,
            set_to=set_to,
            delta=delta,
            reason=reason,
            actor=actor,
            note=note,
            allow_below_reserved=allow_below_reserved,
            reference=reference,
        )
        validate_adjust(request)
        # A return naming a refund or a checkout counts on that sale (if it is one).
        sale = await self._sale_named(reference) if reason == "return" and reference else None

        async def step(att: Attempt) -> Plan[AdjustResult]:
            resolved = await att.read_products([product_id], also=record_ids(idempotency_keys))
            if sale is not None:
                await self._read_reservation(att, sale)
            owing = await read_open_backorders(att, self.store, resolved.get(product_id))

            def body(plan: Plan[AdjustResult]) -> object:
                planned = plan_adjust(plan, request, resolved=resolved, backorders=owing)
                if sale is not None and planned.error is None and planned.result is not None:
                    count_return(plan, sale, planned.result, reference or "")
                return planned

            return self._keyed(att, idempotency_keys, "adjust", request, AdjustResult, body)

        return await self.executor.run(
            "adjust", step, lock=[self.resolver.cached(product_id) or product_id]
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
        token = self.executor.token_factory()
        reference = reference or f"import-{self.clock():%Y%m%d-%H%M%S}-{token[-6:]}"
        key = f"import:{actor}:{idempotency_key}" if idempotency_key else None
        run = StockImport(
            self.executor,
            rows=rows,
            actor=actor,
            reference=reference,
            journal=journal_id(key, token),
            log_error=self.log_error,
            progress=progress,
        )
        if key is not None and not dry_run:
            earlier = await run.replayed()
            if earlier is not None:
                return earlier
        checked, resolved = await run.check()
        result = summary(checked, dry_run=dry_run, reference=reference, applied=False)
        if dry_run:
            return result
        if result.invalid:
            raise ImportRejected(result)
        return await run.apply(resolved)

    async def status(self, product_ids: Sequence[str]) -> StatusResult:
        """Total, reserved, available (never below 0) and state per product and variant.

        Products are named by `_id` or slug; unknown names are listed in `not_found`. State:
        out_of_stock (nothing available), low_stock (available <= the product's
        `lowStockThreshold`, default `settings.low_stock_threshold`) or in_stock. One store
        read for up to `settings.status_max_products` names (a second only when a cached
        slug has moved to another product). Raises `InvalidRequest` beyond the limit.
        """
        names = list(dict.fromkeys(product_ids))
        if not names:
            raise InvalidRequest("name at least one product", field="productIds")
        if len(names) > self.settings.status_max_products:
            raise InvalidRequest(
                f"at most {self.settings.status_max_products} products per request",
                field="productIds",
            )
        return await read_status(
            self.store, self.resolver, names, now=self.clock(), settings=self.settings
        )

    # -- housekeeping ----------------------------------------------------------------------

    async def expire(self) -> ExpireResult:
        """Expire every active hold past `expiresAt` + `settings.expire_grace`.

        Each expiry is its own guarded transaction (status expired, reserved decreased,
        `expiry` ledger entries); a hold that a payment or release takes at the same moment
        is left to that operation. Holds that kept conflicting are listed in `failed`.
        """
        return await sweep.expire(self.executor, self._remember_products, self._read_reservation)

    async def reconcile(self, product_ids: Sequence[str] | None = None) -> ReconcileResult:
        """Recompute reserved counts from the active reservations: of every product, or of
        the products named (`_id` or slug; unknown names are skipped).

        Drift is repaired with guarded writes (published document and every copy), a
        `reconcile` ledger entry per counter and an errorLog saying what drifted; stock below
        zero is reported (`negative_stock`, a critical errorLog once per value). Products
        changed within `settings.reconcile_settle` are left for the next run (`settling`).
        """
        if product_ids is None:
            return await sweep.reconcile(self.executor)
        names = list(dict.fromkeys(product_ids))
        found = {n: self.resolver.cached(n) for n in names}
        missing = [n for n, pid in found.items() if pid is None]
        if missing:
            found.update(await self.resolver.lookup(missing))
        ids = list(dict.fromkeys(pid for pid in found.values() if pid))
        return await sweep.reconcile(self.executor, ids)

    async def purge(self) -> PurgeResult:
        """Delete idempotency records past their expiry and resolved error logs older than
        `settings.error_log_retention`."""
        return await sweep.purge(self.store, now=self.clock(), settings=self.settings)

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

        return await self.executor.run("log_error", step)

    # -- plumbing --------------------------------------------------------------------------

    def _keyed(
        self,
        att: Attempt,
        keys: Sequence[str],
        operation: str,
        request: BaseModel,
        result_type: type[ResultT],
        body: Callable[[Plan[ResultT]], object],
    ) -> Plan[ResultT]:
        """Plan `body` behind the idempotency records of `keys`."""
        return plan_keyed(
            Plan[ResultT](att.snapshot, now=att.now, token=att.token),
            keys,
            operation,
            request,
            result_type,
            body,
            retention=self.settings.idempotency_retention,
        )

    def _hold_lock(self, rid: str) -> list[str]:
        """The reservation and the products it holds (when known) for the writer lock."""
        return [rid, *self._held_products.get(rid, ())]

    def _check_line_count(self, lines: Sequence[LineRequest] | None) -> None:
        if lines is not None and len(lines) > self.settings.max_lines:
            raise InvalidRequest(f"at most {self.settings.max_lines} lines", field="lines")

    async def _read_reservation(
        self,
        att: Attempt,
        rid: str,
        *,
        also: Iterable[str] = (),
        creates: Iterable[str] = (),
    ) -> None:
        """Read a reservation with its products: one request when this instance knows which
        products it holds (the set never changes), two otherwise. `creates`: see
        `Attempt.read`."""
        await att.read([rid, *also, *self._held_products.get(rid, ())], creates=creates)
        doc = att.snapshot.get(rid)
        if doc is not None:
            products = tuple(
                dict.fromkeys(
                    item["productId"]
                    for item in doc.get("items") or []
                    if isinstance(item, dict) and isinstance(item.get("productId"), str)
                )
            )
            self._remember_products(rid, products)
            await att.read(products)

    def _remember_products(self, rid: str, products: Sequence[str]) -> None:
        self._held_products[rid] = tuple(products)
        self._held_products.move_to_end(rid)
        while len(self._held_products) > 10_000:
            self._held_products.popitem(last=False)

    def _remember_holds(self, plan: Plan[Any], result: MutationResult) -> None:
        for doc_id, doc in result.documents().items():
            if doc.get("_type") == "stockReservation":
                self._remember_products(doc_id, tuple(doc.get("productIds") or ()))

    async def _overdue_holds(self, att: Attempt, product_ids: Sequence[str]) -> list[str]:
        """Overdue active holds on `product_ids`, read fresh with all their products.

        After a query that found no hold overdue at all, none can be before the earliest
        expiry it reported (or, for holds created since, `min_ttl` after it): until then
        the query is skipped. In a sell-out every refusal would otherwise query every hold.
        """
        if self._no_overdue_until is not None and att.now < self._no_overdue_until:
            return []
        cutoff = att.now - self.settings.expire_grace
        found: Any = await self.store.query(
            overdue_or_next(self.settings.sweep_batch_size),
            {"cutoff": format_timestamp(cutoff)},
        )
        rows = found.get("overdue") if isinstance(found, dict) else None
        rows = rows if isinstance(rows, list) else []
        if not rows:
            horizon = att.now + self.settings.min_ttl
            upcoming = found.get("next") if isinstance(found, dict) else None
            if isinstance(upcoming, str):
                with contextlib.suppress(ValueError):
                    next_due = datetime.fromisoformat(upcoming) + self.settings.expire_grace
                    horizon = min(horizon, next_due)
            self._no_overdue_until = horizon
            return []
        self._no_overdue_until = None
        wanted = set(product_ids)
        holds: list[str] = []
        products: list[str] = []
        for row in rows:
            if not isinstance(row, dict):
                continue
            held = [p for p in row.get("productIds") or [] if isinstance(p, str)]
            if wanted.intersection(held):
                holds.append(row["_id"])
                products.extend(held)
        if holds:
            await att.read([*holds, *products])
        return holds
