"""Inventory health: a few counts in one store query, judged against fixed thresholds.

The thresholds are those of the storefront stocksync replaces (more than 50 overdue holds,
more than 20 error logs an hour, more than 1000 active holds), plus two that always matter:
an unresolved critical error log (money taken without stock) and an oversold counter.
"""

from __future__ import annotations

import platform
import time
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from cms_client.store import DocumentStore
from schemas.base import Model, Timestamp, format_timestamp
from service.engine import OVERDUE_HOLD, overdue_cutoff

MAX_OVERDUE_HOLDS = 50
MAX_ERRORS_PER_HOUR = 20
MAX_ACTIVE_HOLDS = 1000

_OVERSOLD = "coalesce(reservedQuantity, 0) > coalesce(stockQuantity, 0) || stockQuantity < 0"
HEALTH_QUERY = (
    "{"
    '"totalReservations": count(*[_type == "stockReservation" && status == "active"]),'
    f'"expiredReservations": count(*[_type == "stockReservation" && {OVERDUE_HOLD}]),'
    '"recentErrors": count(*[_type == "errorLog" && severity != "low"'
    " && dateTime(createdAt) > dateTime($hourAgo)]),"
    '"criticalErrors": count(*[_type == "errorLog" && severity == "critical"'
    " && coalesce(resolved, false) == false]),"
    f'"oversold": count(*[_type == "product" && ({_OVERSOLD} || count(variants[{_OVERSOLD}]) > 0)])'
    ","
    # Reconcile logs each quarantined product once (type stock_validation) until resolved.
    '"quarantined": *[_type == "errorLog" && type == "stock_validation"'
    " && coalesce(resolved, false) == false] | order(productId asc) [0...50].productId"
    "}"
)


class HealthMetrics(Model):
    total_reservations: int = Field(description="Active holds.")
    expired_reservations: int = Field(
        description="Overdue holds: active and past expiresAt plus the grace a late payment gets."
    )
    recent_errors: int = Field(description="Error logs written in the last hour.")
    critical_errors: int = Field(description="Unresolved critical error logs.")
    oversold: int = Field(description="Products with reserved above stock, or stock below 0.")
    quarantined: list[str] = Field(
        default_factory=list,
        description="Products whose stock fields cannot be read, as the last reconcile found "
        "them (unresolved stock_validation error logs; resolve the log once fixed).",
    )


class StoreHealth(Model):
    kind: str = Field(description="lake (embedded) or sanity.")
    latency_ms: float


class SystemInfo(Model):
    timestamp: Timestamp
    uptime: float = Field(description="Seconds since this instance started.")
    python_version: str
    environment: str
    store: StoreHealth


class HealthReport(Model):
    healthy: bool
    issues: list[str]
    metrics: HealthMetrics
    system: SystemInfo


def _count(row: dict[str, Any], name: str) -> int:
    value = row.get(name)
    return value if isinstance(value, int) else 0


def _ids(value: Any) -> list[str]:
    found = value if isinstance(value, list) else []
    return list(dict.fromkeys(item for item in found if isinstance(item, str)))


def judge(metrics: HealthMetrics) -> list[str]:
    issues: list[str] = []
    if metrics.critical_errors:
        issues.append(
            f"{metrics.critical_errors} unresolved critical error log(s): a payment may have "
            "been taken without stock"
        )
    if metrics.oversold:
        issues.append(f"{metrics.oversold} product(s) have more reserved than in stock")
    if metrics.quarantined:
        issues.append(
            f"{len(metrics.quarantined)} product(s) quarantined (stock fields stocksync cannot "
            f"read; fix them in the Studio): {', '.join(metrics.quarantined)}"
        )
    if metrics.expired_reservations > MAX_OVERDUE_HOLDS:
        issues.append(
            f"{metrics.expired_reservations} holds are past their expiry: is the cleanup "
            "cron running?"
        )
    if metrics.recent_errors > MAX_ERRORS_PER_HOUR:
        issues.append(f"{metrics.recent_errors} error logs in the last hour")
    if metrics.total_reservations > MAX_ACTIVE_HOLDS:
        issues.append(f"{metrics.total_reservations} active holds")
    return issues


async def check_health(
    store: DocumentStore, *, now: datetime, grace: timedelta, uptime: float, environment: str
) -> HealthReport:
    """`grace`: the engine's `expire_grace`, so "overdue" here is the engine's overdue."""
    started = time.perf_counter()
    row: Any = await store.query(
        HEALTH_QUERY,
        {
            "cutoff": format_timestamp(overdue_cutoff(now, grace)),
            "hourAgo": format_timestamp(now - timedelta(hours=1)),
        },
    )
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    row = row if isinstance(row, dict) else {}
    metrics = HealthMetrics(
        total_reservations=_count(row, "totalReservations"),
        expired_reservations=_count(row, "expiredReservations"),
        recent_errors=_count(row, "recentErrors"),
        critical_errors=_count(row, "criticalErrors"),
        oversold=_count(row, "oversold"),
        quarantined=_ids(row.get("quarantined")),
    )
    issues = judge(metrics)
    return HealthReport(
        healthy=not issues,
        issues=issues,
        metrics=metrics,
        system=SystemInfo(
            timestamp=now,
            uptime=uptime,
            python_version=platform.python_version(),
            environment=environment,
            store=StoreHealth(kind=store.kind, latency_ms=latency_ms),
        ),
    )
