"""Reconcile: recompute reserved counters from the active reservations and repair drift.

A query only finds candidates (it may lag on Sanity); every repair is decided on a fresh
read and written through the executor like any other operation.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from cms_client.store import DocumentStore
from schemas.display import first_text
from schemas.operations import ReconcileResult
from schemas.product import Quarantine
from service.engine.errors import RetryLater
from service.engine.model.plan import Plan
from service.engine.operations.context import EngineContext
from service.engine.paging import pages_by_id, rows_of, strings_of
from service.engine.planners.reconcile import (
    ProductReconcile,
    clear_quarantine_logs,
    negative_stock_log,
    plan_reconcile_product,
    quarantine_log,
    quarantine_log_id,
)
from service.engine.queries import (
    OPEN_QUARANTINE_LOGS,
    active_reservations_page,
    product_ids_page,
)
from service.engine.unit_of_work.executor import Attempt, Executor

ACTIVE_PAGE = 500


async def reconcile(
    ctx: EngineContext, product_ids: Sequence[str] | None = None
) -> ReconcileResult:
    """See `Inventory.reconcile` (products named by `_id` or slug; unknown names skipped)."""
    if product_ids is None:
        return await reconcile_ids(ctx.executor)
    names = list(dict.fromkeys(product_ids))
    found = {n: ctx.resolver.cached(n) for n in names}
    missing = [n for n, pid in found.items() if pid is None]
    if missing:
        found.update(await ctx.resolver.lookup(missing))
    ids = list(dict.fromkeys(pid for pid in found.values() if pid))
    return await reconcile_ids(ctx.executor, ids)


async def _holds_by_product(store: DocumentStore) -> dict[str, list[str]]:
    """Every active reservation id, grouped by the products it holds."""
    holds: dict[str, list[str]] = defaultdict(list)
    async for rows in pages_by_id(store, active_reservations_page, page_size=ACTIVE_PAGE):
        for row in rows:
            for product_id in dict.fromkeys(strings_of(row.get("productIds"))):
                holds[product_id].append(row["_id"])
    return holds


async def reconcile_ids(
    executor: Executor, product_ids: Sequence[str] | None = None
) -> ReconcileResult:
    """Reconcile every product, or only `product_ids` (`_id`s)."""
    settings = executor.settings
    store = executor.store
    # Reservations created after this instant may be missing from the query below; the
    # products they touched show a later `_updatedAt` and are left for the next run.
    changed_after = executor.clock() - settings.reconcile_settle
    holds = await _holds_by_product(store)
    open_logs = await _open_quarantine_logs(store)
    result = ReconcileResult()
    if product_ids is not None:
        size = settings.sweep_batch_size
        for start in range(0, len(product_ids), size):
            page = list(product_ids[start : start + size])
            await _check(executor, page, holds, changed_after, result, open_logs)
        return result
    async for rows in pages_by_id(store, product_ids_page, page_size=settings.sweep_batch_size):
        await _check(
            executor, [row["_id"] for row in rows], holds, changed_after, result, open_logs
        )
    return result


async def _check(
    executor: Executor,
    product_ids: list[str],
    holds: dict[str, list[str]],
    changed_after: datetime,
    result: ReconcileResult,
    open_logs: dict[str, list[str]],
) -> None:
    """Detect drift on one page of products (one read); repair each drifted product."""
    if not product_ids:
        return
    att = Attempt(
        executor.store, executor.resolver, now=executor.clock(), token=executor.token_factory()
    )
    await att.read([*product_ids, *(r for p in product_ids for r in holds.get(p, ()))])
    for product_id in product_ids:
        if att.snapshot.get(product_id) is None:
            continue
        result.products_checked += 1
        detect = Plan[ProductReconcile](att.snapshot, now=att.now, token=att.token)
        plan_reconcile_product(
            detect, product_id, holds.get(product_id, []), changed_after=changed_after
        )
        found = detect.outcome()
        if found.quarantine is not None:
            result.quarantined.append(found.quarantine)
            await log_quarantine(executor, found.quarantine)
            continue
        if product_id in open_logs and await _clear_quarantine(executor, open_logs.pop(product_id)):
            result.unquarantined.append(product_id)
        if found.settling:
            result.settling.append(product_id)
            continue
        if detect.writes:
            await _repair(executor, product_id, holds.get(product_id, []), changed_after, result)
        if found.negative_stock:
            result.negative_stock.extend(found.negative_stock)
            title = first_text(att.snapshot.docs[product_id].get("title")) or product_id
            await _log_negative(executor, title, found)


async def _repair(
    executor: Executor,
    product_id: str,
    reservation_ids: Sequence[str],
    changed_after: datetime,
    result: ReconcileResult,
) -> None:
    async def step(att: Attempt) -> Plan[ProductReconcile]:
        await att.read([product_id, *reservation_ids])
        plan = Plan[ProductReconcile](att.snapshot, now=att.now, token=att.token)
        return plan_reconcile_product(
            plan, product_id, reservation_ids, changed_after=changed_after
        )

    try:
        outcome = await executor.run("reconcile", step, lock=[product_id])
    except RetryLater:
        result.failed.append(product_id)
        return
    if outcome.settling:
        result.settling.append(product_id)
    result.repaired.extend(outcome.repaired)


async def log_quarantine(executor: Executor, quarantine: Quarantine) -> None:
    """The quarantine's errorLog, once per document and cause (`quarantine_log`)."""

    async def step(att: Attempt) -> Plan[str]:
        await att.read([quarantine_log_id(quarantine)])
        return quarantine_log(Plan[str](att.snapshot, now=att.now, token=att.token), quarantine)

    with contextlib.suppress(RetryLater):  # the next run logs it
        await executor.run("log quarantine", step)


async def _open_quarantine_logs(store: DocumentStore) -> dict[str, list[str]]:
    """Unresolved quarantine logs by product."""
    logs: dict[str, list[str]] = defaultdict(list)
    for row in rows_of(await store.query(OPEN_QUARANTINE_LOGS, {})):
        product_id = row.get("productId")
        if isinstance(product_id, str) and isinstance(row.get("_id"), str):
            logs[product_id].append(row["_id"])
    return logs


async def _clear_quarantine(executor: Executor, log_ids: list[str]) -> bool:
    """Resolve a product's quarantine logs now that it reads again; False when nothing
    was resolved (already resolved, or the store kept refusing: the next run tries again)."""

    async def step(att: Attempt) -> Plan[list[str]]:
        await att.read(log_ids)
        return clear_quarantine_logs(
            Plan[list[str]](att.snapshot, now=att.now, token=att.token), log_ids
        )

    try:
        resolved: list[str] = await executor.run("resolve quarantine", step)
    except RetryLater:
        return False
    return bool(resolved)


async def _log_negative(executor: Executor, title: str, outcome: ProductReconcile) -> None:
    async def step(att: Attempt) -> Plan[str]:
        return negative_stock_log(
            Plan[str](att.snapshot, now=att.now, token=att.token), title, outcome
        )

    await executor.run("reconcile", step)
