"""Commit: the checkout was paid, so the held stock leaves (stock and reserved decrease).

Payments of the same products that one instance receives at the same time share one
transaction, like reserves (each keeps its own answer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from schemas.ids import reservation_id
from schemas.operations import CommitRequest, CommitResult
from service.engine.errors import InventoryError
from service.engine.model.plan import Plan
from service.engine.operations.context import EngineContext, build_request
from service.engine.planners.commit import plan_commit
from service.engine.unit_of_work.executor import Attempt
from service.engine.unit_of_work.group_commit import Absorb, CommitGroups
from service.engine.unit_of_work.idempotency import plan_keyed, record_ids


@dataclass(frozen=True)
class CommitCall:
    request: CommitRequest
    reservation_id: str
    keys: tuple[str, ...]


CommitOutcome = CommitResult | InventoryError


class Committing:
    """The commit operation of one engine instance, with its group-commit queue."""

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.groups: CommitGroups[CommitCall, CommitResult] = CommitGroups(
            self._group,
            max_size=ctx.settings.coalesce_max_group,
            before_seal=self._before_batch,
        )

    async def commit(
        self,
        session_id: str,
        payment_ref: str | None = None,
        *,
        idempotency_keys: Sequence[str] = (),
    ) -> CommitResult:
        """See `Inventory.commit`."""
        ctx = self.ctx
        request = build_request(CommitRequest, session_id=session_id, payment_ref=payment_ref)
        rid = reservation_id(session_id)
        call = CommitCall(request, rid, tuple(idempotency_keys))
        if ctx.settings.coalesce:
            # Payments of the same products would queue behind each other's writes anyway:
            # like reserves, they share a transaction (each keeps its own answer).
            products = await ctx.products_held_by(rid)
            if products:
                return await self.groups.submit(ctx.group_key(products), call)
        (outcome,) = await self._batch([call])
        if isinstance(outcome, InventoryError):
            raise outcome
        return outcome

    async def _group(
        self,
        calls: Sequence[CommitCall],
        absorb: Absorb[CommitCall] | None = None,
        *,
        paced: bool = True,
    ) -> list[CommitOutcome]:
        """A group's batch (its leader waited for the write slot before sealing it). One
        transaction commits each reservation once: further payments of a reservation in the
        same batch (a webhook and the success page at once) run after it, and replay.

        Payments that queue meanwhile are not taken along (`absorb` unused): they wait for
        the next batch, where they are ordered against the ones of the same reservation."""
        first: dict[str, int] = {}
        for index, call in enumerate(calls):
            first.setdefault(call.reservation_id, index)
        now = [call for index, call in enumerate(calls) if first[call.reservation_id] == index]
        later = [call for index, call in enumerate(calls) if first[call.reservation_id] != index]
        outcomes = iter(await self._batch(now, paced=paced))
        rest = iter(await self._group(later, paced=False) if later else [])
        return [
            next(outcomes) if first[call.reservation_id] == index else next(rest)
            for index, call in enumerate(calls)
        ]

    async def _batch(
        self, calls: Sequence[CommitCall], *, paced: bool = False
    ) -> list[CommitOutcome]:
        """Commit every call in one transaction: one outcome per call, in order (a member
        that fails leaves the others alone)."""
        ctx = self.ctx
        rids = [call.reservation_id for call in calls]
        records = [record for call in calls for record in record_ids(call.keys)]

        async def step(att: Attempt) -> Plan[list[CommitOutcome]]:
            await att.read([*rids, *records, *ctx.known_products(rids)])
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

                def body(member: Plan[CommitResult], call: CommitCall = call) -> object:
                    return plan_commit(member, call.request, call.reservation_id)

                plan_keyed(
                    fork,
                    call.keys,
                    "commit",
                    call.request,
                    CommitResult,
                    body,
                    retention=ctx.settings.idempotency_retention,
                )
                if fork.error is not None:
                    outcomes.append(fork.error)
                    continue
                plan.adopt(fork)
                outcomes.append(fork.outcome())
            return plan.succeed(outcomes)

        lock = [*rids, *ctx.known_products(rids)]
        return await ctx.executor.run(
            "commit", step, after_write=ctx.remember_holds, lock=lock, pace_first=not paced
        )

    async def _before_batch(self, key: str) -> None:
        """Wait for the next write slot before sealing, so payments arriving meanwhile ride
        in the same transaction (as reserves do)."""
        await self.ctx.executor.pace(spread=True)
