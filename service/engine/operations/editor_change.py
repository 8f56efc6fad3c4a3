"""A product changed in Sanity: record editors' stock edits, repair stale publishes.

The engine's side of the Sanity webhook (`service.integrations.sanity` verifies and parses
the delivery, then calls `product_changed`). The delivery is only a trigger. The product is
re-read through the doc endpoint, and two questions are answered from what is stored, never
from the payload:

1. **Do the published reserved counters still match the reservations?** A stale draft
   published over the service's writes breaks that. A read-only check with the engine's
   reconcile planner finds the drift; the repair is the engine's `reconcile` of this one
   product (guarded writes, `reconcile` ledger entries, the engine's errorLog) plus an
   errorLog saying a stale publish caused it. The engine leaves a product changed within
   its settle window alone (a query may not show a reservation made a moment ago), and a
   delivery always arrives just after its publish, so drift is looked for first and only
   drift waits: the delivery is then answered 503 so Sanity retries once the product has
   settled, and the cron reconcile catches anything the retries miss.

2. **Did an editor change `stockQuantity`?** The ledger is the snapshot. Every change the
   service makes is a ledger entry, so per product (or variant) the sum of the ledger's
   stock changes is what the ledger explains; `stockQuantity - sum` is what someone else
   changed. That gap is recorded as one `editor` entry, after which the ledger explains the
   counter again. Sums commute, so this holds whatever order deliveries and service writes
   come in (a "newest entry" snapshot does not: a sale landing between a publish and its
   delivery would hide the edit), and needs no second document kept in step. Should a query
   lag hide a just-written entry, the gap is recorded and a later delivery records the
   compensating entry: the ledger converges instead of drifting. The cost is one query over
   the product's stock-changing entries (sales, refunds, adjustments, edits) per delivery.
   The service's own writes explain themselves and produce no entry; deliveries whose
   transaction id carries the service's prefix are ignored without a read.

Duplicates: Sanity's `idempotency-key` becomes an idempotency record, created with the
editor entries (only once any repair is done), so a redelivery after success does nothing,
and a redelivery after a 503 finishes the job. Editor entries have ids derived from the
product revision they explain, so two deliveries handled at once record the gap once.

The editor entries are planned here and run through the engine's executor like every
other operation (`_record_editor_changes`, design rules 1, 2 and 8), with the engine's
idempotency helpers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from cms_client.ids import published_id
from schemas.base import Model
from schemas.ids import editor_entry_id
from schemas.ledger import InventoryTransaction
from schemas.operations import CellDrift
from service.engine.inventory import Inventory
from service.engine.model.plan import Plan
from service.engine.model.snapshot import Snapshot
from service.engine.model.stock import Cell, ProductStock
from service.engine.planners.reconcile import ProductReconcile, plan_reconcile_product
from service.engine.unit_of_work.executor import SERVICE_TRANSACTION_PREFIX, Attempt
from service.engine.unit_of_work.idempotency import record, record_ids, replay

EDITOR_ACTOR = "sanity-studio"
OPERATION = "sanity-webhook"

ACTIVE_HOLDS_OF_PRODUCT = (
    '*[_type == "stockReservation" && status == "active" && $id in productIds]{_id}'
)
STOCK_CHANGES_OF_PRODUCT = (
    '*[_type == "inventoryTransaction" && productId == $id'
    " && previousStockQuantity != newStockQuantity]"
    "{_id, variantKey, size, previousStockQuantity, newStockQuantity}"
)


class EditorChange(Model):
    product_id: str
    variant_key: str | None = None
    size: str | None = None
    previous_stock: int
    new_stock: int
    ledger_id: str


class ProductChangeResult(Model):
    product_id: str
    action: str = Field(
        description="recorded, unchanged, ignored, duplicate, missing or repair_pending."
    )
    message: str
    editor_changes: list[EditorChange] = Field(default_factory=list)
    repaired: list[CellDrift] = Field(default_factory=list)
    replayed: bool = False


@dataclass(frozen=True)
class ReservedRepair:
    """What the reserved-counter check found and did."""

    repaired: list[CellDrift] = field(default_factory=list)
    stale_copies: list[str] = field(default_factory=list)
    #: Drift was found but not repaired yet (the product is settling, or kept conflicting).
    pending: bool = False


def delivery_record_key(delivery_key: str) -> str:
    """The idempotency key a Sanity delivery is recorded under."""
    return f"{OPERATION}:{delivery_key}"


def editor_entry_for(product_id: str, cell: Cell, revision: str) -> str:
    """The one editor entry explaining `cell` of the product as of `revision`."""
    return editor_entry_id(f"{product_id}|{cell.ident}|{revision}")


async def product_changed(
    inventory: Inventory,
    document_id: str,
    *,
    delivery_key: str | None,
    transaction_id: str | None,
    body: bytes,
) -> ProductChangeResult:
    """Handle one Sanity delivery about `document_id` (see the module docstring)."""
    return await SanityProductSync(inventory).product_changed(
        document_id, delivery_key=delivery_key, transaction_id=transaction_id, body=body
    )


class SanityProductSync:
    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory

    async def product_changed(
        self,
        document_id: str,
        *,
        delivery_key: str | None,
        transaction_id: str | None,
        body: bytes,
    ) -> ProductChangeResult:
        product_id = published_id(document_id)
        if transaction_id and transaction_id.startswith(SERVICE_TRANSACTION_PREFIX):
            return ProductChangeResult(
                product_id=product_id,
                action="ignored",
                message="The change was stocksync's own write; its ledger explains it.",
            )
        repair = await self._repair_reserved(product_id)
        result = await self._record_editor_changes(
            product_id,
            delivery_key=delivery_key,
            reference=transaction_id,
            body=body,
            settled=not repair.pending,
        )
        result.repaired = repair.repaired
        if repair.repaired:
            await self._log_stale_publish(product_id, repair, transaction_id, delivery_key)
        if repair.pending and not result.replayed:
            result.action = "repair_pending"
            result.message = (
                "The published reserved counters do not match the reservations; the product "
                "changed a moment ago (or kept changing), so the repair waits for a retry."
            )
        return result

    # -- reserved counters -----------------------------------------------------------------

    async def _repair_reserved(self, product_id: str) -> ReservedRepair:
        """Check the product against its active reservations; have the engine repair drift."""
        found = await self._reserved_drift(product_id)
        if not (found.repaired or found.stale_copies):
            return ReservedRepair()
        result = await self.inventory.reconcile([product_id])
        return ReservedRepair(
            repaired=result.repaired,
            stale_copies=found.stale_copies,
            pending=(
                not result.products_checked
                or product_id in result.settling
                or product_id in result.failed
            ),
        )

    async def _reserved_drift(self, product_id: str) -> ProductReconcile:
        """Drift of the product's reserved counters, settling or not (read only).

        `Inventory.reconcile` judges the settle window before drift, so it cannot tell a
        just-published product that is fine from one that needs a repair after a wait.
        """
        store = self.inventory.store
        rows = await store.query(ACTIVE_HOLDS_OF_PRODUCT, {"id": product_id})
        holds = [row["_id"] for row in _rows(rows)]
        snapshot = Snapshot()
        wanted = [product_id, *holds]
        snapshot.absorb(wanted, await store.get_documents(wanted, include_all_versions=True))
        check = Plan[ProductReconcile](snapshot, now=self.inventory.clock(), token="drift-check")
        return plan_reconcile_product(check, product_id, holds).outcome()

    async def _log_stale_publish(
        self,
        product_id: str,
        repair: ReservedRepair,
        transaction_id: str | None,
        delivery_key: str | None,
    ) -> None:
        drift = "; ".join(
            f"{d.size or d.variant_key or 'reserved'}: {d.recorded} -> {d.expected}"
            for d in repair.repaired
        )
        await self.inventory.log_error(
            "reconciliation",
            "medium",
            f"Product {product_id} was published with reserved counters that did not match "
            f"its open reservations (a stale draft published over stocksync's writes); "
            f"repaired from the reservations ({drift}).",
            details={
                "transactionId": transaction_id,
                "repaired": [d.to_json_dict() for d in repair.repaired],
                "staleCopies": repair.stale_copies,
            },
            product_id=product_id,
            dedupe_key=f"stale-publish:{product_id}:{transaction_id or delivery_key or drift}",
        )

    # -- editor stock edits ----------------------------------------------------------------

    async def _record_editor_changes(
        self,
        product_id: str,
        *,
        delivery_key: str | None,
        reference: str | None,
        body: bytes,
        settled: bool,
    ) -> ProductChangeResult:
        inventory = self.inventory
        keys = [delivery_record_key(delivery_key)] if delivery_key else []
        body_digest = hashlib.sha256(body).hexdigest()
        planned: list[str] = []

        async def step(att: Attempt) -> Plan[ProductChangeResult]:
            # Entries an earlier attempt (or a concurrent delivery) planned are read fresh:
            # a query may not show them yet, and they must not be recorded twice.
            await att.read([product_id, *record_ids(keys), *planned])
            plan = Plan[ProductChangeResult](att.snapshot, now=att.now, token=att.token)
            stored = replay(plan, keys, OPERATION, body_digest, ProductChangeResult)
            if stored is not None:
                return plan.succeed(stored)
            stock = plan.product(product_id)
            if stock is None:
                return plan.succeed(
                    ProductChangeResult(
                        product_id=product_id,
                        action="missing",
                        message="No published product with this id (deleted or never "
                        "published); nothing to record.",
                    )
                )
            rows: Any = await inventory.store.query(STOCK_CHANGES_OF_PRODUCT, {"id": product_id})
            entries = _stock_changes(rows, att, planned)
            changes = _plan_entries(plan, stock, entries, reference)
            planned[:] = [change.ledger_id for change in changes]
            result = ProductChangeResult(
                product_id=product_id,
                action="recorded" if changes else "unchanged",
                message=(
                    f"{len(changes)} editor change(s) of stockQuantity recorded in the ledger."
                    if changes
                    else "Every stockQuantity is explained by the ledger."
                ),
                editor_changes=changes,
            )
            if settled:
                record(
                    plan,
                    keys,
                    OPERATION,
                    body_digest,
                    result,
                    retention=inventory.settings.idempotency_retention,
                    now=att.now,
                )
            return plan.succeed(result)

        return await inventory.executor.run("editor", step)


def _plan_entries(
    plan: Plan[ProductChangeResult],
    stock: ProductStock,
    entries: dict[str, dict[str, Any]],
    reference: str | None,
) -> list[EditorChange]:
    """One `editor` entry per cell whose stock the ledger does not explain."""
    explained: dict[str, int] = {}
    for entry in entries.values():
        cell = _cell_of(stock, entry)
        if cell is not None:
            change = _int(entry.get("newStockQuantity")) - _int(entry.get("previousStockQuantity"))
            explained[cell.ident] = explained.get(cell.ident, 0) + change
    revision = str(stock.doc.get("_rev") or "")
    changes: list[EditorChange] = []
    for cell in stock.cells():
        current = stock.stock(cell)
        gap = current - explained.get(cell.ident, 0)
        if gap == 0:
            continue
        entry_id = editor_entry_for(stock.id, cell, revision)
        plan.create(
            InventoryTransaction(
                id=entry_id,
                product_id=stock.id,
                product_title=stock.title,
                variant_key=cell.variant_key,
                size=cell.size,
                entry_type="editor",
                quantity_change=gap,
                previous_stock_quantity=current - gap,
                new_stock_quantity=current,
                previous_reserved_quantity=stock.reserved(cell),
                new_reserved_quantity=stock.reserved(cell),
                reason=(
                    "stockQuantity changed in Sanity Studio"
                    if cell.ident in explained
                    else "stockQuantity set in Sanity Studio (first seen by stocksync)"
                ),
                reference_id=reference or revision or None,
                actor=EDITOR_ACTOR,
                transaction_id=plan.token,
                created_at=plan.now,
            ).to_document()
        )
        changes.append(
            EditorChange(
                product_id=stock.id,
                variant_key=cell.variant_key,
                size=cell.size,
                previous_stock=current - gap,
                new_stock=current,
                ledger_id=entry_id,
            )
        )
    return changes


def _rows(value: Any) -> list[dict[str, Any]]:
    """A query's rows that carry a string `_id`."""
    rows = value if isinstance(value, list) else []
    return [row for row in rows if isinstance(row, dict) and isinstance(row.get("_id"), str)]


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _stock_changes(rows: Any, att: Attempt, planned: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Stock-changing ledger entries by id: the query's, plus planned ones read fresh."""
    entries = {row["_id"]: row for row in _rows(rows)}
    for entry_id in planned:
        doc = att.snapshot.get(entry_id)
        if doc is not None:
            entries[entry_id] = doc
    return entries


def _cell_of(stock: ProductStock, entry: dict[str, Any]) -> Cell | None:
    """The cell a ledger entry counts in (by variant key, else size); None if it is gone."""
    variant_key = entry.get("variantKey") if isinstance(entry.get("variantKey"), str) else None
    size = entry.get("size") if isinstance(entry.get("size"), str) else None
    if variant_key:
        found = stock.find(variant_key, None)
        if isinstance(found, Cell):
            return found
        if size is None:
            return None
    found = stock.find(None, size)
    return found if isinstance(found, Cell) else None
