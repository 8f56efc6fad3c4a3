"""The overview page's figures: stock states, holds, open errors, store latency, and the
products that need attention. Two store queries: the health check (which also times the
store) and one for the rest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, get_args

from cms_client.store import DocumentStore
from schemas.records import ERROR_LOG_TYPE, Severity
from service.entrypoints.console.catalogue import (
    PRODUCT_FIELDS,
    STATE_CLAUSES,
    TITLE_ORDER,
    ProductRow,
    StateCounts,
    counts_query,
    product_row,
    state_counts,
)
from service.read_models.health import HealthReport, check_health

#: Products listed under "needs attention" on the overview (the list page has them all).
ATTENTION_LIMIT = 12
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class Overview:
    stock: StateCounts
    attention: list[ProductRow]
    attention_total: int
    open_errors: dict[Severity, int]
    health: HealthReport

    @property
    def open_error_total(self) -> int:
        return sum(self.open_errors.values())


def _query() -> str:
    open_errors = ", ".join(
        f'"{severity}": count(*[_type == "{ERROR_LOG_TYPE}" && severity == "{severity}"'
        " && coalesce(resolved, false) == false])"
        for severity in get_args(Severity)
    )
    attention = f'*[_type == "product" && {STATE_CLAUSES["attention"]}]'
    return (
        "{"
        f'"states": {counts_query()}, '
        f'"attentionTotal": count({attention}), '
        f'"attention": {attention} | {TITLE_ORDER} [0...{ATTENTION_LIMIT}] {PRODUCT_FIELDS}, '
        f'"openErrors": {{{open_errors}}}'
        "}"
    )


OVERVIEW_QUERY = _query()


def _count(row: dict[str, Any], name: str) -> int:
    value = row.get(name)
    return value if isinstance(value, int) else 0


async def overview(
    store: DocumentStore,
    *,
    now: datetime,
    grace: timedelta,
    default_threshold: int,
    uptime: float,
    environment: str,
) -> Overview:
    health = await check_health(store, now=now, grace=grace, uptime=uptime, environment=environment)
    found: Any = await store.query(OVERVIEW_QUERY, {"threshold": default_threshold})
    found = found if isinstance(found, dict) else {}
    errors = found.get("openErrors") if isinstance(found.get("openErrors"), dict) else {}
    rows = found.get("attention") if isinstance(found.get("attention"), list) else []
    total = found.get("attentionTotal")
    return Overview(
        stock=state_counts(found.get("states")),
        attention=[product_row(doc, default_threshold) for doc in rows if isinstance(doc, dict)],
        attention_total=total if isinstance(total, int) else 0,
        open_errors={severity: _count(errors, severity) for severity in SEVERITIES},
        health=health,
    )
