"""Reorder-point alerts: one `inventory.reorder_point` message per crossing, on the alert
channel of the low-stock alerts (`LOW_STOCK_WEBHOOK_URL`), and the daily digest.

Like the low-stock alerts, crossings are read from the ledger entries a committed
transaction wrote (counters before and after) and the products it returned (their
`reorderPoint`, per variant or for the product). A line whose available stock went down and
is now at or below its point is due; whether it was already announced is kept in a
service-owned document per line (`inventory.reorder.<product>[.<line>]`, `armed` true or
false), claimed with a guarded create or patch, so of several processes that see the same
crossing exactly one sends it. A move that leaves the line above its point re-arms it.
`changedAt` keeps a crossing handled late from undoing a newer one.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from cms_client import mutations as m
from cms_client.errors import DocumentExists, DocumentMissing, RevisionConflict
from cms_client.store import DocumentStore, MutationResult
from schemas.base import format_timestamp
from schemas.ids import NAMESPACE
from schemas.ledger import LEDGER_TYPE, InventoryTransaction
from service.engine import ConflictRetriesExhausted, Inventory
from service.integrations.alerts.after_response import defer
from service.integrations.alerts.delivery import WebhookSender
from service.integrations.alerts.messages import slack_escape
from service.read_models.stock_lines import StockLine, product_lines
from service.read_models.stock_metrics import (
    DEFAULT_WINDOW_DAYS,
    line_key,
    metrics,
    suggested_quantity,
    tally,
)
from service.read_models.stock_reports import ReorderItem, read_sales, reorder_report

logger = logging.getLogger("stocksync.alerts")

REORDER_STATE_TYPE: Final = "inventoryReorderAlert"
REORDER_PREFIX: Final = f"{NAMESPACE}.reorder."
REORDER_DIGEST_TYPE: Final = "inventoryReorderDigest"
#: A digest claim older than this was left by a run that died mid-send: take it over.
DIGEST_CLAIM_TTL: Final = timedelta(minutes=10)
CLAIM_ATTEMPTS: Final = 6
_CLEAN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")


def state_id(product_id: str, variant_key: str | None, size: str | None) -> str:
    line = variant_key or (("size-" + size.strip().casefold()) if size else None)
    parts = [product_id] if line is None else [product_id, line]
    readable = REORDER_PREFIX + ".".join(parts)
    if all(_CLEAN.match(part) for part in parts) and len(readable) <= 128:
        return readable
    return REORDER_PREFIX + "h." + hashlib.sha256("\0".join(parts).encode()).hexdigest()


_ENTRY_INDEX = re.compile(r"-(\d+)$")


def _entry_order(entry: InventoryTransaction) -> tuple[str, int]:
    """A transaction's entries in the order it wrote them (`...-2` before `...-10`)."""
    match = _ENTRY_INDEX.search(entry.id)
    return (entry.transaction_id or "", int(match.group(1)) if match else 0)


@dataclass(frozen=True)
class ReorderCrossing:
    """A line an operation moved: `due` when it went down to or below its point."""

    line: StockLine
    before: int
    after: int
    at: datetime

    @property
    def due(self) -> bool:
        point = self.line.reorder_point
        return point is not None and self.after < self.before and self.after <= point

    @property
    def above(self) -> bool:
        point = self.line.reorder_point
        return point is not None and self.after > point


def reorder_crossings(
    documents: Mapping[str, Mapping[str, Any]], default_threshold: int
) -> list[ReorderCrossing]:
    """Lines with a reorder point that one committed transaction moved (pure)."""
    entries = sorted(
        (
            InventoryTransaction.model_validate(doc)
            for doc in documents.values()
            if doc.get("_type") == LEDGER_TYPE
        ),
        key=_entry_order,
    )
    first: dict[tuple[str, str], InventoryTransaction] = {}
    last: dict[tuple[str, str], InventoryTransaction] = {}
    for entry in entries:
        key = line_key(entry.product_id, entry.variant_key, entry.size)
        first.setdefault(key, entry)
        last[key] = entry
    found: list[ReorderCrossing] = []
    for key, opening in first.items():
        product = documents.get(opening.product_id)
        if product is None:
            continue
        lines = {
            line_key(line.document_id, line.variant_key, line.size): line
            for line in product_lines(product, default_threshold)
        }
        line = lines.get(key)
        if line is None and opening.size:
            line = lines.get(line_key(opening.product_id, None, opening.size))
        if line is None or line.reorder_point is None:
            continue
        closing = last[key]
        before = max(0, opening.previous_stock_quantity - opening.previous_reserved_quantity)
        after = max(0, closing.new_stock_quantity - closing.new_reserved_quantity)
        if before != after:
            found.append(ReorderCrossing(line, before, after, closing.created_at))
    return found


async def claim(store: DocumentStore, crossing: ReorderCrossing) -> bool:
    """Record the crossing in the line's state document; True when this call claimed an
    alert that must now be sent."""
    line = crossing.line
    doc_id = state_id(line.document_id, line.variant_key, line.size)
    stamp = format_timestamp(crossing.at)
    for _ in range(CLAIM_ATTEMPTS):
        (doc,) = await store.get_documents([doc_id])
        changed = doc.get("changedAt") if doc else None
        if isinstance(changed, str) and changed > stamp:
            return False
        armed = doc.get("armed", True) is not False if doc else True
        if crossing.due and armed:
            fields: dict[str, Any] = {"armed": False, "changedAt": stamp}
        elif crossing.above and not armed:
            fields = {"armed": True, "changedAt": stamp}
        else:
            return False
        try:
            if doc is None:
                new = {"_id": doc_id, "_type": REORDER_STATE_TYPE, "productId": line.document_id}
                if line.variant_key:
                    new["variantKey"] = line.variant_key
                if line.size:
                    new["size"] = line.size
                await store.mutate(
                    [m.create({**new, **fields})], return_documents=False, idempotent=True
                )
            else:
                await store.mutate(
                    [m.patch(doc_id, if_revision_id=doc["_rev"], set=fields)],
                    return_documents=False,
                    idempotent=True,
                )
        except (RevisionConflict, DocumentExists, DocumentMissing):
            continue
        return crossing.due
    raise ConflictRetriesExhausted("record reorder alert", CLAIM_ATTEMPTS)


def digest_day_id(day: str) -> str:
    return f"{REORDER_PREFIX}digest.{day}"


async def claim_digest_day(store: DocumentStore, day: str, *, now: datetime) -> str | None:
    """Claim the day's digest for this call: None when claimed (send it now), else why not
    (`"sent"` earlier today, or `"sending"` by another run right now). The claim is a
    document created with `create`, which exactly one of several processes wins; a claim
    left `sending` for DIGEST_CLAIM_TTL (a process that died mid-send) may be taken over."""
    doc_id = digest_day_id(day)
    stamp = format_timestamp(now)
    fields = {"status": "sending", "claimedAt": stamp}
    for _ in range(CLAIM_ATTEMPTS):
        (doc,) = await store.get_documents([doc_id])
        try:
            if doc is None:
                new = {"_id": doc_id, "_type": REORDER_DIGEST_TYPE, "day": day, **fields}
                await store.mutate([m.create(new)], return_documents=False, idempotent=True)
                return None
            status = doc.get("status")
            claimed_at = doc.get("claimedAt")
            stale = isinstance(claimed_at, str) and claimed_at < format_timestamp(
                now - DIGEST_CLAIM_TTL
            )
            if status == "sent" or (status == "sending" and not stale):
                return str(status)
            await store.mutate(
                [m.patch(doc_id, if_revision_id=doc["_rev"], set=fields)],
                return_documents=False,
                idempotent=True,
            )
            return None
        except (RevisionConflict, DocumentExists, DocumentMissing):
            continue
    return "sending"


async def settle_digest_day(
    store: DocumentStore, day: str, *, delivered: bool, now: datetime
) -> None:
    """After the send: `sent` for the rest of the day, or the claim given back (deleted)
    so the next run, or a retry of this one, sends it."""
    doc_id = digest_day_id(day)
    if delivered:
        mutation = m.patch(doc_id, set={"status": "sent", "sentAt": format_timestamp(now)})
    else:
        mutation = m.delete(doc_id)
    try:
        await store.mutate([mutation], return_documents=False, idempotent=True)
    except DocumentMissing:
        logger.warning("reorder digest claim for %s vanished before it was settled", day)


def reorder_message(
    line: StockLine, *, available: int, suggested: int, at: datetime
) -> dict[str, Any]:
    name = slack_escape(line.label)  # Slack mrkdwn: a title cannot ping or link
    units = "unit" if available == 1 else "units"
    return {
        "text": f"Reorder point reached: {name} has {available} {units} available "
        f"(reorder point {line.reorder_point}); suggested order: {suggested}.",
        "event": "inventory.reorder_point",
        "productId": line.document_id,
        "title": line.title,
        "slug": line.slug,
        "size": line.size,
        "variantKey": line.variant_key,
        "sku": line.sku,
        "available": available,
        "reorderPoint": line.reorder_point,
        "reorderQuantity": line.reorder_quantity,
        "suggestedQuantity": suggested,
        "time": format_timestamp(at),
    }


def digest_message(items: Sequence[ReorderItem], *, at: datetime) -> dict[str, Any]:
    lines = [
        f"- {slack_escape(item.title or item.product_id)}"
        f"{f' ({slack_escape(item.size)})' if item.size else ''}: "
        f"{item.available_stock} available, point {item.reorder_point}, "
        f"order {item.suggested_quantity}"
        for item in items
    ]
    head = (
        f"Reorder digest: {len(items)} line(s) at or below their reorder point."
        if items
        else "Reorder digest: nothing is at or below its reorder point."
    )
    return {
        "text": "\n".join([head, *lines]),
        "event": "inventory.reorder_digest",
        "count": len(items),
        "items": [item.to_json_dict() for item in items],
        "time": format_timestamp(at),
    }


class ReorderAlerts:
    """Watches the engine's transactions (subscribe `observe` to the watched store) and
    sends reorder-point alerts through `sender`; failures become error logs."""

    def __init__(
        self,
        store: DocumentStore,
        sender: WebhookSender,
        *,
        default_threshold: int,
        errors: Inventory | None = None,
    ) -> None:
        self.store = store
        self.sender = sender
        self.default_threshold = default_threshold
        self.errors = errors
        self._tasks: set[asyncio.Task[list[dict[str, Any]]]] = set()

    def observe(self, result: MutationResult) -> None:
        found = reorder_crossings(result.documents(), self.default_threshold)
        found = [crossing for crossing in found if crossing.due or crossing.above]
        if not found:
            return

        async def job() -> list[dict[str, Any]]:
            return await self.handle(found)

        if not defer(job):
            task = asyncio.get_running_loop().create_task(job())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def handle(self, found: Sequence[ReorderCrossing]) -> list[dict[str, Any]]:
        """Claim each crossing; send the alerts this process claimed. Never raises."""
        sent: list[dict[str, Any]] = []
        for crossing in found:
            try:
                if not await claim(self.store, crossing):
                    continue
                payload = await self._message(crossing)
                delivery = await self.sender.send(payload)
                if not delivery.delivered:
                    await self._log_failure(payload, delivery.attempts, delivery.error)
                sent.append(payload)
            except Exception:
                logger.exception("reorder alert for %s failed", crossing.line.label)
        return sent

    async def _message(self, crossing: ReorderCrossing) -> dict[str, Any]:
        line = crossing.line
        since = crossing.at - timedelta(days=DEFAULT_WINDOW_DAYS)
        sales = await read_sales(self.store, since=since, until=crossing.at)
        moved = tally(sales, [line.ref])[line.ref]
        figures = metrics(moved, available=crossing.after, days=DEFAULT_WINDOW_DAYS)
        suggested = suggested_quantity(
            reorder_quantity=line.reorder_quantity,
            velocity_per_day=figures.velocity_per_day,
            available=crossing.after,
        )
        return reorder_message(line, available=crossing.after, suggested=suggested, at=crossing.at)

    async def _log_failure(self, payload: dict[str, Any], attempts: int, error: str | None) -> None:
        if self.errors is None:
            return
        await self.errors.log_error(
            "webhook_processing",
            "medium",
            f"Reorder alert not delivered to LOW_STOCK_WEBHOOK_URL after {attempts} "
            f"attempt(s) ({error}): {payload['text']}",
            details={"alert": payload, "attempts": attempts, "error": error},
            product_id=payload["productId"],
            dedupe_key=f"reorder-alert:{payload['productId']}:{payload['size']}:{payload['time']}",
        )

    async def digest(self, *, now: datetime) -> dict[str, Any]:
        """Send the list of everything at or below its point, once per UTC day whichever
        process the cron reaches: the day is claimed in the store first (`claim_digest_day`).
        Returns what was (or would have been) sent, whether it got through, and why not."""
        report = await reorder_report(
            self.store, now=now, days=DEFAULT_WINDOW_DAYS, default_threshold=self.default_threshold
        )
        payload = digest_message(report.items, at=now)
        day = format_timestamp(now)[:10]
        claimed = await claim_digest_day(self.store, day, now=now)
        if claimed is not None:
            return {"payload": payload, "delivered": False, "already": claimed}
        delivery = await self.sender.send(payload)
        await settle_digest_day(self.store, day, delivered=delivery.delivered, now=now)
        if not delivery.delivered and self.errors is not None:
            await self.errors.log_error(
                "webhook_processing",
                "medium",
                f"Reorder digest not delivered after {delivery.attempts} attempt(s) "
                f"({delivery.error}).",
                dedupe_key=f"reorder-digest:{day}",
            )
        return {"payload": payload, "delivered": delivery.delivered, "already": None}

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
