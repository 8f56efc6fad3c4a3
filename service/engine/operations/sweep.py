"""Scheduled housekeeping: expire overdue holds, purge old records (reconcile:
`service.engine.operations.reconcile`).

Queries only find candidates (they may lag on Sanity); every change is decided on a fresh
read and written through the executor like any other operation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cms_client import mutations as m
from cms_client.store import DocumentStore
from schemas.base import format_timestamp
from schemas.operations import ExpireResult, PurgeResult
from service.engine.errors import RetryLater
from service.engine.model.plan import Plan
from service.engine.model.states import overdue_cutoff
from service.engine.operations.context import EngineContext
from service.engine.planners.lifecycle import plan_expire
from service.engine.queries import (
    expired_idempotency_records,
    overdue_reservations,
    purgeable_error_logs,
)
from service.engine.unit_of_work.executor import Attempt

#: Upper bound on pages one sweep walks, so a sweep always ends.
MAX_PAGES = 100
PURGE_PAGE = 200


def rows_of(value: Any) -> list[dict[str, Any]]:
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def strings_of(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


async def expire(ctx: EngineContext) -> ExpireResult:
    """See `Inventory.expire`."""
    executor = ctx.executor
    settings = executor.settings
    result = ExpireResult()
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        cutoff = overdue_cutoff(executor.clock(), settings.expire_grace)
        rows = rows_of(
            await executor.store.query(
                overdue_reservations(settings.sweep_batch_size),
                {"cutoff": format_timestamp(cutoff)},
            )
        )
        progress = False
        for row in rows:
            rid = row.get("_id")
            if not isinstance(rid, str) or rid in seen:
                continue
            seen.add(rid)
            session = str(row.get("sessionId") or rid)
            # The query told us which products the hold has: one read, one write.
            ctx.remember_products(rid, strings_of(row.get("productIds")))

            async def step(att: Attempt, rid: str = rid) -> Plan[bool]:
                await ctx.read_reservation(att, rid)
                plan = Plan[bool](att.snapshot, now=att.now, token=att.token)
                return plan_expire(plan, rid, grace=settings.expire_grace)

            try:
                lock = [rid, *strings_of(row.get("productIds"))]
                expired = await executor.run("expire", step, lock=lock, warm=True)
            except RetryLater:
                result.failed.append(session)
                continue
            if expired:
                result.expired.append(session)
                progress = True
        if len(rows) < settings.sweep_batch_size or not progress:
            break
    return result


async def _delete_all(
    store: DocumentStore, query: Callable[[int], str], params: dict[str, Any]
) -> int:
    deleted = 0
    for _ in range(MAX_PAGES):
        ids = [row["_id"] for row in rows_of(await store.query(query(PURGE_PAGE), params))]
        if not ids:
            break
        await store.mutate([m.delete(doc_id) for doc_id in ids], idempotent=True)
        deleted += len(ids)
        if len(ids) < PURGE_PAGE:
            break
    return deleted


async def purge(ctx: EngineContext) -> PurgeResult:
    """See `Inventory.purge`."""
    store, now, settings = ctx.store, ctx.executor.clock(), ctx.settings
    records = await _delete_all(store, expired_idempotency_records, {"now": format_timestamp(now)})
    logs = await _delete_all(
        store,
        purgeable_error_logs,
        {"cutoff": format_timestamp(now - settings.error_log_retention)},
    )
    return PurgeResult(idempotency_records=records, error_logs=logs)
