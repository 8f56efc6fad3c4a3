"""Builders for pure planner tests: documents as a store would return them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.base import format_timestamp
from schemas.ids import reservation_id
from service.engine.model.plan import Plan
from service.engine.model.snapshot import Snapshot

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def product(
    pid: str = "p1",
    *,
    stock: int | None = 5,
    reserved: int | None = 0,
    rev: str = "r1",
    slug: str | None = None,
    variants: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": pid, "_type": "product", "_rev": rev, "title": pid.upper()}
    if slug:
        doc["slug"] = {"current": slug}
    if stock is not None:
        doc["stockQuantity"] = stock
    if reserved is not None:
        doc["reservedQuantity"] = reserved
    if variants is not None:
        doc["variants"] = variants
    doc.update(extra)
    return doc


def reservation(
    session: str = "cs_1",
    *,
    items: list[dict[str, Any]],
    status: str = "active",
    rev: str = "rr",
    expires_in: timedelta = timedelta(minutes=30),
    **extra: Any,
) -> dict[str, Any]:
    full_items = []
    for index, item in enumerate(items):
        full = {"_key": f"line{index}", "releasedQuantity": 0, "committedQuantity": 0}
        full.update(item)
        full_items.append(full)
    doc: dict[str, Any] = {
        "_id": reservation_id(session),
        "_type": "stockReservation",
        "_rev": rev,
        "sessionId": session,
        "status": status,
        "items": full_items,
        "productIds": sorted({i["productId"] for i in items}),
        "createdAt": format_timestamp(NOW - timedelta(minutes=5)),
        "expiresAt": format_timestamp(NOW + expires_in),
    }
    doc.update(extra)
    return doc


def plan_over(
    *docs: dict[str, Any], missing: tuple[str, ...] = (), now: datetime = NOW
) -> Plan[Any]:
    return Plan(Snapshot.of(docs, missing=missing), now=now, token="tok")


def patches(plan: Plan[Any]) -> dict[str, dict[str, Any]]:
    """id -> patch body of every patch in the plan's transaction."""
    return {mut["patch"]["id"]: mut["patch"] for mut in plan.mutations() if "patch" in mut}


def creates(plan: Plan[Any], doc_type: str | None = None) -> list[dict[str, Any]]:
    docs = [
        next(iter(mut.values()))
        for mut in plan.mutations()
        if "create" in mut or "createIfNotExists" in mut
    ]
    return [d for d in docs if doc_type is None or d["_type"] == doc_type]
