"""Durable idempotency: replay the stored result, or record it with the effect.

A record's id is derived from its key, and it is created (never upserted) in the same
transaction as the effect: of two concurrent duplicates one commits and the other fails on
the `create`, re-reads, finds the record and replays it (design rules 4 and 8).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel

from schemas.ids import idempotency_id
from schemas.records import IdempotencyRecord
from service.engine.errors import IdempotencyKeyReused
from service.engine.model.plan import Plan

ResultT = TypeVar("ResultT", bound=BaseModel)


def fingerprint(operation: str, request: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the operation and its request."""
    canonical = json.dumps(
        {"operation": operation, "request": request},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_ids(keys: Sequence[str]) -> list[str]:
    return [idempotency_id(key) for key in keys]


def replay(
    plan: Plan[ResultT],
    keys: Sequence[str],
    operation: str,
    request_fingerprint: str,
    result_type: type[ResultT],
) -> ResultT | None:
    """The stored result when any key was used for this same request before.

    A key used for another operation or another request raises `IdempotencyKeyReused`.
    """
    for key in keys:
        doc = plan.snapshot.get(idempotency_id(key))
        if doc is None:
            continue
        record = IdempotencyRecord.model_validate(doc)
        if record.operation != operation or record.fingerprint != request_fingerprint:
            raise IdempotencyKeyReused(key, operation)
        result = result_type.model_validate_json(record.response)
        if "replayed" in result_type.model_fields:
            result = result.model_copy(update={"replayed": True})
        return result
    return None


def record(
    plan: Plan[Any],
    keys: Sequence[str],
    operation: str,
    request_fingerprint: str,
    result: BaseModel,
    *,
    retention: timedelta,
    now: datetime,
) -> None:
    """Create one record per key, holding `result`, in the plan's transaction."""
    response = result.model_dump_json(by_alias=True, exclude_none=True)
    for key in dict.fromkeys(keys):
        plan.create(
            IdempotencyRecord(
                id=idempotency_id(key),
                key=key,
                operation=operation,
                fingerprint=request_fingerprint,
                response=response,
                created_at=now,
                expires_at=now + retention,
            ).to_document()
        )


def plan_keyed(
    plan: Plan[ResultT],
    keys: Sequence[str],
    operation: str,
    request: BaseModel,
    result_type: type[ResultT],
    body: Callable[[Plan[ResultT]], object],
    *,
    retention: timedelta,
) -> Plan[ResultT]:
    """Plan `body` behind the idempotency records of `keys`: replay a stored result, or
    record the new one in the same transaction."""
    if not keys:
        body(plan)
        return plan
    request_fingerprint = fingerprint(operation, request.model_dump(mode="json", by_alias=True))
    replayed = replay(plan, keys, operation, request_fingerprint, result_type)
    if replayed is not None:
        return plan.succeed(replayed)
    body(plan)
    result = plan.result
    if plan.error is None and result is not None and not getattr(result, "replayed", False):
        record(
            plan,
            keys,
            operation,
            request_fingerprint,
            result,
            retention=retention,
            now=plan.now,
        )
    return plan
