"""`Plan`: what one operation decided, as a list of mutations for one transaction.

A planner (pure: snapshot + request + now -> plan) records counter changes on products,
new documents, updates of service documents and its outcome here. `mutations()` turns that
into one transaction in a stable order, in which every document that was read and is not
otherwise patched carries a revision guard: the transaction commits only if nothing the
decision rested on has changed since the read (design rules 1 and 2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

from cms_client import mutations as m
from cms_client.ids import is_published
from cms_client.store import Document, Mutation
from schemas.ids import error_id, error_id_for_key, ledger_id
from schemas.ledger import (
    BACKORDER_TYPES,
    RESERVED_TYPES,
    InventoryTransaction,
    LedgerEntryType,
    LocationChange,
)
from schemas.product import Quarantine
from schemas.records import ErrorLog, ErrorType, Severity
from service.engine.errors import (
    InventoryError,
    ProductNotFound,
    ProductQuarantined,
    VariantNotFound,
)
from service.engine.model.locations import LocationDelta, site_of
from service.engine.model.snapshot import Snapshot
from service.engine.model.stock import Cell, ProductStock

R = TypeVar("R")


class Plan(Generic[R]):
    def __init__(self, snapshot: Snapshot, *, now: datetime, token: str) -> None:
        self.snapshot = snapshot
        self.now = now
        #: Unique per attempt: names the ledger entries and the store transaction.
        self.token = token
        self._products: dict[str, ProductStock | None] = {}
        #: Products read whose stock fields cannot be interpreted (`product` gives None).
        self.quarantined: dict[str, Quarantine] = {}
        self._updates: dict[str, dict[str, Any]] = {}
        self._creates: dict[str, Mutation] = {}
        self._ledger: list[InventoryTransaction] = []
        self._errors = 0
        self._deterministic_create = False
        self.result: R | None = None
        self.error: InventoryError | None = None
        self._decided = False
        #: Products whose short stock made a reserve fail (reclaiming expired holds may help).
        self.short_products: list[str] = []

    # -- products --------------------------------------------------------------------------

    def product(self, product_id: str) -> ProductStock | None:
        """The product as read (with its copies), or None when it does not exist."""
        if product_id not in self._products:
            doc = self.snapshot.get(product_id)
            if doc is None or doc.get("_type") != "product" or not is_published(product_id):
                self._products[product_id] = None
            else:
                sites = {
                    ref: site_of(ref, self.snapshot.get(ref))
                    for ref in self.snapshot.location_ids()
                }
                try:
                    stock = ProductStock(doc, self.snapshot.copies_of(product_id), sites)
                except ProductQuarantined as exc:
                    # Holds on it are given back or sold as for a product that is gone
                    # (logged); reserve and adjust refuse it by name (`refuse_quarantined`).
                    self.quarantined[product_id] = exc.quarantine
                    stock = None
                self._products[product_id] = stock
        return self._products[product_id]

    def line_named(
        self,
        name: str,
        resolved: Mapping[str, str | None],
        variant_key: str | None,
        size: str | None,
    ) -> tuple[ProductStock, Cell] | InventoryError:
        """The product a request names (slug or `_id`, `resolved` to its `_id`) and its
        line (a variant by key or size, or the product), or the error that refuses it."""
        product_id = resolved.get(name)
        stock = self.product(product_id) if product_id else None
        if stock is None:
            if product_id in self.quarantined:
                return ProductQuarantined(self.quarantined[product_id])
            return ProductNotFound(name)
        found = stock.find(variant_key, size)
        if not isinstance(found, Cell):
            return VariantNotFound(name, variant_key or size)
        return stock, found

    def refuse_quarantined(self, product_id: str | None) -> None:
        """Raise `ProductQuarantined` when `product_id` was read and is quarantined."""
        if product_id is not None and product_id in self.quarantined:
            raise ProductQuarantined(self.quarantined[product_id])

    def move(
        self,
        stock: ProductStock,
        cell: Cell,
        *,
        entry_type: LedgerEntryType,
        stock_change: int = 0,
        reserved_change: int = 0,
        backordered_change: int = 0,
        backorder_reserved_change: int = 0,
        reference: str | None = None,
        reason: str | None = None,
        actor: str = "system",
        at: Mapping[str, LocationDelta] | None = None,
    ) -> InventoryTransaction:
        """Change a cell's counters and write the ledger entry that explains it.

        `at`: where the stock and reserved changes happen, for a product stocked by
        location (placed by `ProductStock.distribute` when not given)."""
        before_stock, before_reserved = stock.stock(cell), stock.reserved(cell)
        before_owed = (stock.backordered(cell), stock.backorder_reserved(cell))
        placed = stock.change(
            cell,
            stock=stock_change,
            reserved=reserved_change,
            backordered=backordered_change,
            backorder_reserved=backorder_reserved_change,
            at=at,
        )
        changes = [
            LocationChange(key=f"l{i}", location=loc, stock_change=d[0], reserved_change=d[1])
            for i, (loc, d) in enumerate(sorted(placed.items()))
            if d != (0, 0)
        ]
        return self._entry(
            stock,
            cell,
            entry_type,
            before_stock,
            before_reserved,
            reference,
            reason,
            actor,
            before_owed=before_owed,
            location_changes=changes or None,
        )

    def repair_reserved(
        self, stock: ProductStock, cell: Cell, expected: int, *, reference: str | None = None
    ) -> InventoryTransaction | None:
        """Set a drifted reserved counter (published and copies); ledger it if it moved."""
        before_stock, before_reserved = stock.stock(cell), stock.reserved(cell)
        stock.repair_reserved(cell, expected)
        if before_reserved == expected:
            return None
        return self._entry(
            stock,
            cell,
            "reconcile",
            before_stock,
            before_reserved,
            reference,
            "reserved recomputed from active reservations",
            "system",
        )

    def repair_counter(
        self,
        stock: ProductStock,
        cell: Cell,
        field: str,
        expected: int,
        *,
        reference: str | None = None,
    ) -> InventoryTransaction:
        """Set a drifted backorder counter (published and copies), with a ledger entry."""
        before_stock, before_reserved = stock.stock(cell), stock.reserved(cell)
        before_owed = (stock.backordered(cell), stock.backorder_reserved(cell))
        stock.repair_counter(cell, field, expected)
        return self._entry(
            stock,
            cell,
            "reconcile",
            before_stock,
            before_reserved,
            reference,
            f"{field} recomputed from the reservations",
            "system",
            before_owed=before_owed,
        )

    def _entry(
        self,
        stock: ProductStock,
        cell: Cell,
        entry_type: LedgerEntryType,
        before_stock: int,
        before_reserved: int,
        reference: str | None,
        reason: str | None,
        actor: str,
        *,
        entry_id: str | None = None,
        before_owed: tuple[int, int] | None = None,
        location_changes: list[LocationChange] | None = None,
    ) -> InventoryTransaction:
        after_stock, after_reserved = stock.stock(cell), stock.reserved(cell)
        after_owed = (stock.backordered(cell), stock.backorder_reserved(cell))
        before_owed = before_owed or after_owed
        if entry_type == "transfer":
            # Totals do not move: the change is the location's.
            change = sum(c.stock_change for c in location_changes or [])
        elif entry_type in BACKORDER_TYPES:
            change = after_owed[0] - before_owed[0]
        elif entry_type in RESERVED_TYPES:
            # Units held: from stock, plus (policies) beyond it.
            change = after_reserved - before_reserved + after_owed[1] - before_owed[1]
        else:
            change = after_stock - before_stock
        owed = stock.has_policy(cell) or before_owed != after_owed
        entry = InventoryTransaction(
            id=entry_id or ledger_id(self.token, len(self._ledger)),
            product_id=stock.id,
            product_title=stock.title,
            variant_key=cell.variant_key,
            size=cell.size,
            entry_type=entry_type,
            quantity_change=change,
            previous_stock_quantity=before_stock,
            new_stock_quantity=after_stock,
            previous_reserved_quantity=before_reserved,
            new_reserved_quantity=after_reserved,
            previous_backordered_quantity=before_owed[0] if owed else None,
            new_backordered_quantity=after_owed[0] if owed else None,
            location=location_changes[0].location
            if location_changes and len(location_changes) == 1
            else None,
            location_changes=location_changes,
            reason=reason,
            reference_id=reference,
            actor=actor,
            transaction_id=self.token,
            created_at=self.now,
        )
        self._ledger.append(entry)
        return entry

    @property
    def ledger(self) -> list[InventoryTransaction]:
        return list(self._ledger)

    # -- service documents -----------------------------------------------------------------

    def create(self, doc: Document) -> None:
        """Create a document with a fixed id; the transaction fails if it exists already."""
        self._deterministic_create = True
        self._creates[doc["_id"]] = m.create(doc)

    def update(self, doc_id: str, fields: dict[str, Any]) -> None:
        """Set fields of a service document that was read (guarded by its `_rev`)."""
        if self.snapshot.get(doc_id) is None:
            raise ValueError(f"{doc_id} was not read; cannot update it")
        self._updates.setdefault(doc_id, {}).update(fields)

    def log_error(
        self,
        error_type: ErrorType,
        severity: Severity,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        session_id: str | None = None,
        product_id: str | None = None,
        dedupe_key: str | None = None,
    ) -> str:
        """An errorLog written in the same transaction as the change it is about."""
        if dedupe_key is None:
            doc_id = error_id(f"{self.token}-{self._errors}")
        else:
            doc_id = error_id_for_key(dedupe_key)
        self._errors += 1
        log = ErrorLog(
            id=doc_id,
            error_type=error_type,
            severity=severity,
            message=message,
            details=json.dumps(details, sort_keys=True, default=str) if details else None,
            session_id=session_id,
            product_id=product_id,
            created_at=self.now,
        )
        if dedupe_key is None:
            self._creates[doc_id] = m.create(log.to_document())
        else:
            self._creates[doc_id] = m.create_if_not_exists(log.to_document())
        return doc_id

    # -- groups ----------------------------------------------------------------------------

    def fork(self) -> Plan[Any]:
        """A plan that starts from everything this one has planned so far.

        Group commit plans each member on a fork: a member that fails is dropped with its
        fork, one that succeeds is taken back with `adopt`. The fork sees the documents
        planned for creation as if read (an earlier member's reservation or idempotency
        record), so a duplicate later in the group is answered as a replay.
        """
        created = [mut["create"] for mut in self._creates.values() if "create" in mut]
        snapshot = self.snapshot.with_docs(created) if created else self.snapshot
        twin = Plan[Any](snapshot, now=self.now, token=self.token)
        twin._products = {
            pid: stock.clone() if stock is not None else None
            for pid, stock in self._products.items()
        }
        twin._updates = {doc_id: dict(fields) for doc_id, fields in self._updates.items()}
        twin._creates = dict(self._creates)
        twin._ledger = list(self._ledger)
        twin._errors = self._errors
        twin.quarantined = dict(self.quarantined)
        twin._deterministic_create = self._deterministic_create
        return twin

    def adopt(self, fork: Plan[Any]) -> None:
        """Take over everything `fork` planned (its outcome stays the fork's own)."""
        self._products = fork._products
        self._updates = fork._updates
        self._creates = fork._creates
        self._ledger = fork._ledger
        self._errors = fork._errors
        self.quarantined = fork.quarantined
        self._deterministic_create = fork._deterministic_create

    # -- outcome ---------------------------------------------------------------------------

    def succeed(self, result: R) -> Plan[R]:
        self.result = result
        self._decided = True
        return self

    def fail(self, error: InventoryError) -> Plan[R]:
        self.error = error
        self._decided = True
        return self

    def outcome(self) -> R:
        """The result, or the domain error raised."""
        if self.error is not None:
            raise self.error
        if not self._decided:
            raise RuntimeError("plan has no outcome")
        return self.result  # type: ignore[return-value]  # None is a valid R

    # -- the transaction -------------------------------------------------------------------

    @property
    def writes(self) -> bool:
        """Whether the plan changes anything (a plan of guards alone is not sent)."""
        return bool(
            self._creates
            or self._ledger
            or self._updates
            or any(p is not None and p.changed for p in self._products.values())
        )

    @property
    def created_ids(self) -> set[str]:
        """Ids the transaction creates with `create` (and so fails on if they exist)."""
        created = {doc_id for doc_id, mut in self._creates.items() if "create" in mut}
        return created | {entry.id for entry in self._ledger}

    @property
    def updated_ids(self) -> set[str]:
        """Service documents (reservations) the plan updates."""
        return set(self._updates)

    @property
    def moves_stock_on_hand(self) -> bool:
        """Whether any product's `stockQuantity` changes (not only reserved counters)."""
        return any(p is not None and p.moves_stock for p in self._products.values())

    @property
    def marker_id(self) -> str | None:
        """A document only this attempt creates: its existence proves the attempt committed."""
        if self._ledger:
            return self._ledger[0].id
        return None

    @property
    def idempotent(self) -> bool:
        """Replaying the transaction cannot apply it twice (it holds a guard or a fixed-id
        create), so the store may retry it after a timeout."""
        return self._deterministic_create or any(
            "ifRevisionID" in mut.get("patch", {}) for mut in self.mutations()
        )

    def mutations(self) -> list[Mutation]:
        """Guarded patches and guards in id order (a stable order), then the creates."""
        patches: dict[str, Mutation] = {}
        for stock in self._products.values():
            if stock is not None:
                for mutation in stock.mutations():
                    patches[mutation["patch"]["id"]] = mutation
        for doc_id, fields in self._updates.items():
            doc = self.snapshot.docs[doc_id]
            patches[doc_id] = m.patch(doc_id, if_revision_id=doc["_rev"], set=fields)
        for doc_id, doc in self.snapshot.docs.items():
            if doc_id not in patches:
                patches[doc_id] = m.revision_guard(doc_id, doc["_rev"])
        creates = [self._creates[doc_id] for doc_id in sorted(self._creates)]
        creates += [m.create(entry.to_document()) for entry in self._ledger]
        return [patches[doc_id] for doc_id in sorted(patches)] + creates
