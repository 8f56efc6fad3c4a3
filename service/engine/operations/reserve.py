"""Reserve: hold stock for a checkout session, every line or none.

Reserves of the same products that one instance runs at the same time are planned in
arrival order into one transaction (group commit, `service.engine.unit_of_work.group_commit`);
each still gets exactly its own answer or error. A reserve that finds stock short releases
the overdue holds on those products first (even if it still fails).
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from cms_client.store import MutationResult
from schemas.base import format_timestamp
from schemas.ids import reservation_id
from schemas.operations import LineRequest, ReserveRequest, ReserveResult
from service.engine.errors import InsufficientStock, InventoryError
from service.engine.model.plan import Plan
from service.engine.operations.context import EngineContext, build_request
from service.engine.planners.reserve import validate_reserve
from service.engine.planners.reserve_group import (
    ReserveCall,
    ReserveOutcome,
    plan_reserve_group,
)
from service.engine.queries import overdue_or_next
from service.engine.unit_of_work.executor import Attempt
from service.engine.unit_of_work.group_commit import Absorb, CommitGroups

#: How many sold-out product groups an instance remembers (a hint, oldest forgotten first).
SHORT_GROUPS_REMEMBERED = 10_000


class Reserving:
    """The reserve operation of one engine instance, with its group-commit queue."""

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        #: Group keys whose last fresh batch found every member short: a batch of them most
        #: likely writes nothing, so it does not wait for a write slot (only a hint).
        self._short_groups: OrderedDict[str, None] = OrderedDict()
        #: No hold is overdue before this (see `_overdue_holds`).
        self._no_overdue_until: datetime | None = None
        self.groups: CommitGroups[ReserveCall, ReserveResult] = CommitGroups(
            self._batch,
            max_size=ctx.settings.coalesce_max_group,
            before_seal=self._before_batch,
        )

    async def reserve(
        self,
        session_id: str,
        lines: Sequence[LineRequest],
        *,
        ttl: timedelta | None = None,
        idempotency_keys: Sequence[str] = (),
    ) -> ReserveResult:
        """See `Inventory.reserve`."""
        settings = self.ctx.settings
        request = build_request(
            ReserveRequest,
            session_id=session_id,
            lines=list(lines),
            ttl_seconds=int(ttl.total_seconds()) if ttl is not None else None,
        )
        validate_reserve(request, settings)
        call = ReserveCall(request, reservation_id(session_id), tuple(idempotency_keys))
        if settings.coalesce:
            # Same products, same group: their writes would queue behind each other anyway.
            return await self.groups.submit(self.ctx.group_key(call.refs), call)
        (outcome,) = await self._batch([call])
        if isinstance(outcome, InventoryError):
            raise outcome
        return outcome

    async def _batch(
        self, given: Sequence[ReserveCall], absorb: Absorb[ReserveCall] | None = None
    ) -> list[ReserveOutcome]:
        """Reserve for every call in one transaction: one outcome per call, in order.

        `absorb` (group commit): each new plan after the first, while at most half the
        tries are spent, takes along the reserves that queued behind this batch; their
        outcomes follow the given ones.
        """
        ctx = self.ctx
        settings = ctx.settings
        calls = list(given)
        plans = 0

        async def step(att: Attempt) -> Plan[list[ReserveOutcome]]:
            nonlocal plans
            plans += 1
            if absorb is not None and 1 < plans <= settings.max_attempts // 2:
                calls.extend(absorb())
            refs = list(dict.fromkeys(ref for call in calls for ref in call.refs))
            creates = [doc_id for call in calls for doc_id in call.created_ids]
            resolved = await att.read_products(refs, creates=creates)
            plan = Plan[list[ReserveOutcome]](att.snapshot, now=att.now, token=att.token)
            short = plan_reserve_group(plan, calls, resolved=resolved, settings=settings)
            # A warm plan that finds stock short is planned again on a fresh read anyway.
            if short and att.fresh:
                holds = await self._overdue_holds(att, short)
                if holds:
                    plan = Plan[list[ReserveOutcome]](att.snapshot, now=att.now, token=att.token)
                    plan_reserve_group(
                        plan, calls, resolved=resolved, settings=settings, overdue=holds
                    )
            return plan

        # Named as the callers name them too: a batch keyed by a slug not yet resolved and
        # one keyed by its `_id` must not race each other on the same product.
        refs = list(dict.fromkeys(ref for call in given for ref in call.refs))
        products = [*refs, *(pid for ref in refs if (pid := ctx.resolver.cached(ref)))]
        key = ctx.group_key(refs)
        outcomes: list[ReserveOutcome] = await ctx.executor.run(
            "reserve",
            step,
            after_write=self._after_write,
            lock=[*(call.reservation_id for call in given), *products],
            warm=True,
            # Refusals need no write slot (a hint: a write still waits in the store).
            pace_first=key not in self._short_groups,
            fair=absorb is not None,
            burst=len(given) > 1,
        )
        if len(outcomes) < len(calls):
            # An earlier try committed after all (its answer had been lost) and is the
            # answer: the reserves taken along after it still need their own transaction.
            outcomes = [*outcomes, *await self._batch(calls[len(outcomes) :])]
        if all(isinstance(outcome, InsufficientStock) for outcome in outcomes):
            self._short_groups[key] = None
            if len(self._short_groups) > SHORT_GROUPS_REMEMBERED:
                self._short_groups.popitem(last=False)
        else:
            self._short_groups.pop(key, None)
        return outcomes

    def _after_write(self, plan: Plan[Any], result: MutationResult) -> None:
        """Learn the holds' products, and pass on the overdue holds this write released:
        a reserve writes a hold as expired only when it reclaimed it (whichever member of
        the batch did, even one that still failed)."""
        ctx = self.ctx
        ctx.remember_holds(plan, result)
        if ctx.holds_reclaimed is None:
            return
        reclaimed = [
            session
            for doc in result.documents().values()
            if doc.get("_type") == "stockReservation"
            and doc.get("status") == "expired"
            and isinstance(session := doc.get("sessionId"), str)
        ]
        if reclaimed:
            ctx.holds_reclaimed(reclaimed)

    async def _before_batch(self, key: str) -> None:
        """Wait for the next write slot before sealing the batch, so the batch reads fresh
        and writes at once, and buyers arriving meanwhile ride in the same transaction. A
        group last found sold out skips the wait: its refusals need no slot (should stock
        be back, its write then waits in the store's limiter instead). It also leaves other
        instances their turn after this one's last commit of the products (`contention`)."""
        if key not in self._short_groups:
            await self.ctx.executor.pace(spread=True)
            await self.ctx.executor.wait_turn(self.ctx.group_products(key))

    async def _overdue_holds(self, att: Attempt, product_ids: Sequence[str]) -> list[str]:
        """Overdue active holds on `product_ids`, read fresh with all their products.

        After a query that found no hold overdue at all, none can be before the earliest
        expiry it reported (or, for holds created since, `min_ttl` after it): until then
        the query is skipped. In a sell-out every refusal would otherwise query every hold.
        """
        settings = self.ctx.settings
        if self._no_overdue_until is not None and att.now < self._no_overdue_until:
            return []
        cutoff = att.now - settings.expire_grace
        found: Any = await self.ctx.store.query(
            overdue_or_next(settings.sweep_batch_size),
            {"cutoff": format_timestamp(cutoff)},
        )
        rows = found.get("overdue") if isinstance(found, dict) else None
        rows = rows if isinstance(rows, list) else []
        if not rows:
            horizon = att.now + settings.min_ttl
            upcoming = found.get("next") if isinstance(found, dict) else None
            if isinstance(upcoming, str):
                with contextlib.suppress(ValueError):
                    next_due = datetime.fromisoformat(upcoming) + settings.expire_grace
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
