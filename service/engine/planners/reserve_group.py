"""Reserve for a group of checkouts at once: one transaction, an answer for each.

Group commit (`service.engine.unit_of_work.group_commit`) hands concurrent reserves of the
same products over as one batch. They are planned in arrival order against the running
counters, each on a fork of the group's plan: a member that succeeds is taken into the
transaction with its own reservation document, ledger entries and idempotency records; a
member that fails (short stock, a conflicting session, a reused key) is left out and gets
its own error, so one buyer's short stock never fails another's. A later member with the
session of an earlier one sees that reservation as created and is answered as a replay (or a
conflict).

A member short of stock may reclaim overdue holds on the products it is short of, exactly as
a single reserve does (design rule 6): the caller reads them and plans the group again with
`overdue`. Each hold is reclaimed once; reclaimed holds stay in the transaction even when
the member that reclaimed them still fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from schemas.operations import ReserveRequest, ReserveResult
from service.engine.errors import InsufficientStock, InventoryError
from service.engine.model.holds import load_reservation
from service.engine.model.plan import Plan
from service.engine.planners.reserve import plan_reserve
from service.engine.settings import EngineSettings
from service.engine.unit_of_work.idempotency import plan_keyed, record_ids

ReserveOutcome = ReserveResult | InventoryError


@dataclass(frozen=True)
class ReserveCall:
    """One checkout's reserve, validated, waiting to be planned."""

    request: ReserveRequest
    reservation_id: str
    idempotency_keys: tuple[str, ...] = ()

    @property
    def refs(self) -> list[str]:
        """The product names the lines use (`_id` or slug)."""
        return [line.product_id for line in self.request.lines]

    @property
    def created_ids(self) -> list[str]:
        """Documents a successful reserve creates (and a replay finds)."""
        return [self.reservation_id, *record_ids(self.idempotency_keys)]


def plan_reserve_group(
    plan: Plan[list[ReserveOutcome]],
    calls: Sequence[ReserveCall],
    *,
    resolved: Mapping[str, str | None],
    settings: EngineSettings,
    overdue: Sequence[str] = (),
) -> list[str]:
    """Plan every call into `plan` (its result: one outcome per call, in order).

    Returns the products some member was short of (sorted), for the caller to look for
    overdue holds when `overdue` was not given yet.
    """
    outcomes: list[ReserveOutcome] = []
    short: set[str] = set()
    reclaimed: set[str] = set()
    for call in calls:
        fork = _plan_one(plan, call, resolved, settings, ())
        offered = _holds_on(plan, overdue, fork.short_products, reclaimed)
        if isinstance(fork.error, InsufficientStock) and offered:
            fork = _plan_one(plan, call, resolved, settings, offered)
            taken = fork.updated_ids & set(offered)
            reclaimed |= taken
            if fork.error is not None and taken:
                # The member still fails, but the holds it reclaimed stay reclaimed.
                plan.adopt(fork)
        if fork.error is None:
            plan.adopt(fork)
            assert isinstance(fork.result, ReserveResult)
            outcomes.append(fork.result)
        else:
            short.update(fork.short_products)
            outcomes.append(fork.error)
    plan.succeed(outcomes)
    return sorted(short)


def _plan_one(
    group: Plan[Any],
    call: ReserveCall,
    resolved: Mapping[str, str | None],
    settings: EngineSettings,
    reclaimable: Sequence[str],
) -> Plan[ReserveResult]:
    fork: Plan[ReserveResult] = group.fork()

    def body(plan: Plan[ReserveResult]) -> None:
        plan_reserve(
            plan,
            call.request,
            call.reservation_id,
            resolved=resolved,
            settings=settings,
            reclaimable=reclaimable,
        )

    try:
        plan_keyed(
            fork,
            call.idempotency_keys,
            "reserve",
            call.request,
            ReserveResult,
            body,
            retention=settings.idempotency_retention,
        )
    except InventoryError as exc:
        fork.fail(exc)
    return fork


def _holds_on(
    plan: Plan[Any], overdue: Sequence[str], products: Sequence[str], reclaimed: set[str]
) -> list[str]:
    """Overdue holds (read into the plan's snapshot) on any of `products`, not yet taken."""
    wanted = set(products)
    offered = []
    for hold_id in overdue:
        hold = load_reservation(plan, hold_id)
        if hold_id not in reclaimed and hold is not None and wanted & set(hold.product_ids):
            offered.append(hold_id)
    return offered
