"""Bulk stock import: many adjustments, all of them or none.

Rows are checked together on one fresh read of every product they name (a dry run stops
there): an unknown product or size, a result below zero or below what checkouts hold, and
anything the file itself got wrong (`schemas.stock_csv`) make the import refused as a
whole, with every bad row listed. Rows are applied in file order, so two delta rows for one
line both apply, each on the result of the one before; a row that changes nothing writes no
ledger entry.

A large import cannot be one store transaction (Sanity caps request sizes and paces
mutations), so it is applied in chunks of whole products, each one guarded transaction
through the executor (read fresh, plan, write; re-planned on a conflict). The import's
journal document (`inventory.import.<id>`) is created by the first chunk and marked
`applied` with the result by the last, so a second request with the same `Idempotency-Key`
either replays the result or is told the first is still running, and never applies twice.
If a later chunk cannot be applied (a product changed meanwhile so that a row became
invalid, the store went away, conflicts kept winning), the chunks already written are
undone by compensating transactions (the opposite stock change per line, ledgered as a
`correction` naming the import) and the journal is deleted, so the same request can be sent
again. Only when the undo itself cannot reach the store does the journal stay `applying`,
with an errorLog naming the import for a person to finish.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Final

from pydantic import Field

from cms_client import mutations as m
from cms_client.errors import StoreError
from schemas.base import Model, format_timestamp
from schemas.ids import NAMESPACE
from schemas.ledger import InventoryTransaction
from schemas.records import Severity
from schemas.stock_csv import ImportRow
from service.engine.errors import IdempotencyKeyReused, InventoryError
from service.engine.model.locations import LocationDelta, merge
from service.engine.model.plan import Plan
from service.engine.model.stock import Cell
from service.engine.operations.error_logs import log_error
from service.engine.operations.locations import location_ids, read_locations
from service.engine.unit_of_work.executor import Attempt, Executor

logger = logging.getLogger("stocksync.import")

IMPORT_TYPE: Final = "inventoryImport"
IMPORT_PREFIX: Final = f"{NAMESPACE}.import."
#: Rows (ledger entries) per transaction, and products per transaction.
ROWS_PER_TRANSACTION: Final = 250
PRODUCTS_PER_TRANSACTION: Final = 100


class ImportRowResult(Model):
    row: int = Field(description="Line of the file; the header is line 1.")
    product_id: str = Field(description="The product as the file names it.")
    document_id: str | None = Field(default=None, description="The product's `_id`.")
    size: str | None = None
    variant_key: str | None = None
    location: str | None = Field(
        default=None, description="The stock location's slug, when the row names one."
    )
    before: int | None = Field(
        default=None, description="Stock on hand before this row (at its location, if any)."
    )
    after: int | None = None
    change: int | None = None
    error: str | None = None


class ImportResult(Model):
    dry_run: bool
    reference: str = Field(description="Recorded on every ledger entry of the import.")
    rows: list[ImportRowResult]
    valid: int
    invalid: int
    applied: bool = Field(description="Whether the changes were written.")
    ledger_entries: int = 0
    transactions: int = 0
    replayed: bool = False


class ImportRejected(InventoryError):
    """At least one row is invalid; nothing was written."""

    code: ClassVar[str] = "import_invalid"

    def __init__(self, result: ImportResult, *, during_apply: bool = False) -> None:
        bad = [row for row in result.rows if row.error]
        when = " while it was being applied (undone)" if during_apply else ""
        super().__init__(
            f"{len(bad)} of {len(result.rows)} rows are invalid{when}; nothing was written",
            details={"invalid": len(bad)},
        )
        self.result = result


class ImportInProgress(InventoryError):
    code: ClassVar[str] = "import_in_progress"

    def __init__(self, reference: str) -> None:
        super().__init__(
            f"an import with this Idempotency-Key ({reference}) is still being applied",
            details={"reference": reference},
        )


def request_fingerprint(rows: Sequence[ImportRow], reference: str | None) -> str:
    """What makes two import requests the same one: their rows as read (row numbers,
    products, lines, values, reasons, notes, references) and the reference asked for. A
    repeat with the same Idempotency-Key must match it, or it is refused."""
    body = {
        "reference": reference,
        "rows": [row.model_dump(mode="json") for row in rows],
    }
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def journal_id(key: str | None, token: str) -> str:
    """Fixed per idempotency key (a second request finds the first), else per import."""
    if key is None:
        return IMPORT_PREFIX + token.replace(".", "-")
    return IMPORT_PREFIX + hashlib.sha256(key.encode()).hexdigest()


def _describe(stock_label: str, cell: Cell) -> str:
    return stock_label if cell.index is None else f"{stock_label} ({cell.size or cell.variant_key})"


def plan_rows(
    plan: Plan[Any],
    rows: Sequence[ImportRow],
    resolved: dict[str, str | None],
    *,
    actor: str,
    reference: str,
    locations: Mapping[str, str | None] | None = None,
) -> list[ImportRowResult]:
    """Check and plan `rows` in order on the products `plan` read; one result per row.

    `locations`: slug -> location `_id` (None: no such location) for the rows that name
    one, read fresh. A row with a location counts at that location, with the adjust API's
    rules there; a row without one on a product stocked by location changes the total
    (a rise to its first active location, a fall from unheld stock, lowest priority first).
    Rows with an error plan nothing; the caller decides whether anything is written.
    """
    results: list[ImportRowResult] = []
    for row in rows:
        out = ImportRowResult(
            row=row.row,
            product_id=row.product_id or row.product_ref,
            size=row.size,
            variant_key=row.variant_key,
            location=row.location,
            error=row.error,
        )
        results.append(out)
        if row.error is not None:
            continue
        product_id = resolved.get(row.product_ref)
        stock = plan.product(product_id) if product_id else None
        if stock is None:
            out.error = f"product {row.product_ref!r} not found"
            continue
        out.document_id = stock.id
        found = stock.find(row.variant_key, row.size)
        if not isinstance(found, Cell):
            if found == "variant_required":
                out.error = f"{row.product_ref!r} has sizes: give size or variantKey"
            else:
                out.error = f"{row.product_ref!r} has no size {row.variant_key or row.size!r}"
            continue
        cell = found
        out.size, out.variant_key = cell.size or row.size, cell.variant_key
        label = _describe(stock.title or stock.id, cell)
        site: str | None = None
        if row.location is not None:
            site = (locations or {}).get(row.location)
            if site is None:
                out.error = f"location {row.location!r} not found"
                continue
            if not stock.located(cell):
                out.error = f"{label} is not stocked by location: leave location empty"
                continue
            label = f"{label} at {row.location}"
            before = stock.loc_stock(cell, site)
            held = stock.loc_reserved(cell, site)
        else:
            before, held = stock.stock(cell), stock.reserved(cell)
        after = row.set_to if row.set_to is not None else before + (row.delta or 0)
        out.before, out.after, out.change = before, after, after - before
        if after < 0:
            out.error = f"stock of {label} would go below zero: {before} -> {after}"
        elif after != before and after < held:
            out.error = (
                f"stock of {label} would go below what checkouts hold: {before} -> {after}, "
                f"{held} reserved"
            )
        elif after != before:
            assert row.reason is not None  # parse_import leaves no valid row without one
            plan.move(
                stock,
                cell,
                entry_type=row.reason,
                stock_change=after - before,
                reference=row.reference or reference,
                reason=row.note,
                actor=actor,
                at={site: (after - before, 0)} if site is not None else None,
            )
    return results


def chunks(rows: Sequence[ImportRow], resolved: dict[str, str | None]) -> list[list[ImportRow]]:
    """Rows grouped by product (file order kept within a product), in chunks of whole
    products that fit one transaction."""
    by_product: OrderedDict[str, list[ImportRow]] = OrderedDict()
    for row in rows:
        by_product.setdefault(resolved.get(row.product_ref) or row.product_ref, []).append(row)
    out: list[list[ImportRow]] = []
    current: list[ImportRow] = []
    products = 0
    for group in by_product.values():
        if current and (
            len(current) + len(group) > ROWS_PER_TRANSACTION
            or products + 1 > PRODUCTS_PER_TRANSACTION
        ):
            out.append(current)
            current, products = [], 0
        current.extend(group)
        products += 1
    if current:
        out.append(current)
    return out


def summary(
    rows: list[ImportRowResult], *, dry_run: bool, reference: str, applied: bool, **extra: Any
) -> ImportResult:
    invalid = sum(1 for row in rows if row.error)
    return ImportResult(
        dry_run=dry_run,
        reference=reference,
        rows=rows,
        valid=len(rows) - invalid,
        invalid=invalid,
        applied=applied,
        **extra,
    )


class StockImport:
    """One import run over the engine's executor (see the module docstring)."""

    def __init__(
        self,
        executor: Executor,
        *,
        rows: Sequence[ImportRow],
        actor: str,
        reference: str,
        journal: str,
        log_error: Callable[..., Any],
        progress: Callable[[int], object] | None = None,
        fingerprint: str | None = None,
        key: str | None = None,
    ) -> None:
        self.fingerprint = fingerprint
        self.key = key
        #: Written into the journal by the first chunk: a retry of that chunk whose first
        #: try committed (its answer lost, the store's own retry refused) finds its own
        #: journal, not another run's, and carries on.
        self.run_token = executor.token_factory()
        self.executor = executor
        self.rows = list(rows)
        self.actor = actor
        self.reference = reference
        self.journal = journal
        self.log_error = log_error
        self.progress = progress
        self.refs = list(dict.fromkeys(row.product_ref for row in self.rows if row.error is None))
        self.location_slugs = [
            row.location for row in self.rows if row.error is None and row.location
        ]
        #: slug -> location `_id` as found by `check` (each chunk reads them fresh).
        self.found_locations: dict[str, str | None] = {}
        self.transactions = 0
        self.ledgered = 0

    async def replayed(self) -> ImportResult | None:
        """The stored result of an earlier import with the same key, if it finished."""
        (doc,) = await self.executor.store.get_documents([self.journal])
        if doc is None:
            return None
        self._same_request(doc)
        if doc.get("status") == "applied" and isinstance(doc.get("result"), str):
            result = ImportResult.model_validate(json.loads(doc["result"]))
            return result.model_copy(update={"replayed": True})
        raise ImportInProgress(str(doc.get("reference") or self.reference))

    def _same_request(self, doc: Mapping[str, Any]) -> None:
        """A journal written for another request under the same key: refuse (409)."""
        stored = doc.get("fingerprint")
        if isinstance(stored, str) and self.fingerprint and stored != self.fingerprint:
            raise IdempotencyKeyReused(self.key or "", "import")

    async def check(self) -> tuple[list[ImportRowResult], dict[str, str | None]]:
        """Every row checked against one fresh read of its products; nothing written."""
        resolved: dict[str, str | None] = {ref: None for ref in self.refs}
        if self.refs:
            resolved.update(await self.executor.resolver.lookup(self.refs))
        attempt = Attempt(
            self.executor.store,
            self.executor.resolver,
            now=self.executor.clock(),
            token=self.executor.token_factory(),
        )
        await attempt.read([pid for pid in resolved.values() if pid])
        self.found_locations = await location_ids(self.executor.store, self.location_slugs)
        sites = await read_locations(attempt, self.found_locations)
        plan = Plan[None](attempt.snapshot, now=attempt.now, token=attempt.token)
        checked = plan_rows(
            plan,
            self.rows,
            resolved,
            actor=self.actor,
            reference=self.reference,
            locations=sites,
        )
        return checked, resolved

    async def apply(self, resolved: dict[str, str | None]) -> ImportResult:
        parts = chunks(self.rows, resolved)
        self.transactions = len(parts)
        done: list[list[InventoryTransaction]] = []
        results: list[ImportRowResult] = []
        try:
            for number, part in enumerate(parts):
                first, last = number == 0, number == len(parts) - 1
                outcome = await self._apply_chunk(part, first=first, last=last, before=results)
                results.extend(outcome[0])
                done.append(outcome[1])
                self.ledgered += len(outcome[1])
                if self.progress is not None:
                    self.progress(len(results))
        except (InventoryError, StoreError) as exc:
            await self._undo(done, exc)
            raise
        return summary(
            results,
            dry_run=False,
            reference=self.reference,
            applied=True,
            ledger_entries=sum(len(entries) for entries in done),
            transactions=len(parts),
        )

    async def _apply_chunk(
        self,
        part: list[ImportRow],
        *,
        first: bool,
        last: bool,
        before: list[ImportRowResult],
    ) -> tuple[list[ImportRowResult], list[InventoryTransaction]]:
        refs = list(dict.fromkeys(row.product_ref for row in part))
        journal = self.journal

        async def step(att: Attempt) -> Plan[tuple[list[ImportRowResult], list[Any]]]:
            found = await att.read_products(refs, also=[journal])
            plan = Plan[tuple[list[ImportRowResult], list[Any]]](
                att.snapshot, now=att.now, token=att.token
            )
            existing = att.snapshot.get(journal)
            ours = existing is not None and existing.get("run") == self.run_token
            if first and existing is not None and not ours:
                stored = existing.get("fingerprint")
                if isinstance(stored, str) and self.fingerprint and stored != self.fingerprint:
                    return plan.fail(IdempotencyKeyReused(self.key or "", "import"))
                return plan.fail(ImportInProgress(self.reference))
            here = {row.location for row in part if row.location}
            sites = await read_locations(
                att, {slug: doc_id for slug, doc_id in self.found_locations.items() if slug in here}
            )
            rows = plan_rows(
                plan, part, found, actor=self.actor, reference=self.reference, locations=sites
            )
            if any(row.error for row in rows):
                every = [*before, *rows]
                return plan.fail(
                    ImportRejected(
                        summary(every, dry_run=False, reference=self.reference, applied=False),
                        during_apply=not first,
                    )
                )
            status = "applied" if last else "applying"
            fields: dict[str, Any] = {"status": status}
            if last:
                final = summary(
                    [*before, *rows],
                    dry_run=False,
                    reference=self.reference,
                    applied=True,
                    ledger_entries=len(plan.ledger) + self.ledgered,
                    transactions=self.transactions,
                )
                fields["result"] = json.dumps(final.to_json_dict(), separators=(",", ":"))
            if first and not ours:
                plan.create(
                    {
                        "_id": journal,
                        "_type": IMPORT_TYPE,
                        "reference": self.reference,
                        "actor": self.actor,
                        "rows": len(self.rows),
                        "createdAt": format_timestamp(att.now),
                        "run": self.run_token,
                        **({"fingerprint": self.fingerprint} if self.fingerprint else {}),
                        **fields,
                    }
                )
            elif existing is None:
                return plan.fail(ImportInProgress(self.reference))
            else:
                plan.update(journal, fields)
            return plan.succeed((rows, plan.ledger))

        cached = [pid for ref in refs if (pid := self.executor.resolver.cached(ref))]
        rows, entries = await self.executor.run("import", step, lock=[*refs, *cached])
        return rows, entries

    async def _undo(self, done: list[list[InventoryTransaction]], cause: Exception) -> None:
        """Write the opposite of every chunk already applied, newest first; then drop the
        journal. Stock is never taken below zero by an undo; what could not be taken back
        is reported in an errorLog."""
        if not done:
            return
        try:
            for entries in reversed(done):
                await self._undo_chunk(entries)
            await self.executor.store.mutate([m.delete(self.journal)], idempotent=True)
        except (InventoryError, StoreError):
            logger.exception("import %s could not be undone", self.reference)
            await self._report(
                "critical",
                f"Import {self.reference} failed midway ({cause}) and could not be fully undone; "
                f"its journal {self.journal} lists it as applying. Check the ledger entries "
                f"with reference {self.reference}.",
            )

    async def _undo_chunk(self, entries: list[InventoryTransaction]) -> None:
        change: OrderedDict[tuple[str, str | None, str | None], int] = OrderedDict()
        #: Where each line's stock moved, so the undo takes it back at the same locations.
        placed: dict[tuple[str, str | None, str | None], dict[str, LocationDelta]] = {}
        for entry in entries:
            key = (entry.product_id, entry.variant_key, entry.size)
            change[key] = change.get(key, 0) + entry.stock_change
            for moved_at in entry.location_changes or ():
                merge(placed.setdefault(key, {}), {moved_at.location: (moved_at.stock_change, 0)})
        ids = list(dict.fromkeys(key[0] for key in change))

        async def step(att: Attempt) -> Plan[list[str]]:
            await att.read(ids)
            plan = Plan[list[str]](att.snapshot, now=att.now, token=att.token)
            missed: list[str] = []
            for (product_id, variant_key, size), moved in change.items():
                stock = plan.product(product_id)
                cell = stock.find(variant_key, None if variant_key else size) if stock else None
                if stock is None or not isinstance(cell, Cell):
                    missed.append(f"{product_id} {variant_key or size or ''}".strip())
                    continue
                back = max(-moved, -stock.stock(cell))
                if back != -moved:
                    missed.append(_describe(stock.title or stock.id, cell))
                line = (product_id, variant_key, size)
                where = {loc: (-d[0], 0) for loc, d in placed.get(line, {}).items() if d[0]}
                exact = (
                    back == -moved
                    and stock.located(cell)
                    and sum(d[0] for d in where.values()) == back
                    and all(stock.loc_stock(cell, loc) + d[0] >= 0 for loc, d in where.items())
                )
                if back:
                    plan.move(
                        stock,
                        cell,
                        entry_type="correction",
                        stock_change=back,
                        reference=self.reference,
                        reason=f"import {self.reference} undone",
                        actor=self.actor,
                        # Else placed as any cell-level change is (`ProductStock.distribute`).
                        at=where if exact else None,
                    )
            return plan.succeed(missed)

        short = await self.executor.run("import undo", step, lock=ids)
        if short:
            await self._report(
                "high",
                f"Undoing import {self.reference} could not take back all of it (stock sold "
                f"meanwhile): {', '.join(short)}.",
            )

    async def _report(self, severity: Severity, message: str) -> None:
        try:
            await self.log_error(
                "stock_validation", severity, message, dedupe_key=f"import:{self.journal}:{message}"
            )
        except (InventoryError, StoreError):
            logger.exception("could not write the error log: %s", message)


async def import_stock(
    executor: Executor,
    rows: Sequence[ImportRow],
    *,
    actor: str,
    reference: str | None = None,
    dry_run: bool = False,
    idempotency_key: str | None = None,
    progress: Callable[[int], object] | None = None,
) -> ImportResult:
    """See `Inventory.import_stock`."""
    token = executor.token_factory()
    fingerprint = request_fingerprint(rows, reference) if idempotency_key else None
    reference = reference or f"import-{executor.clock():%Y%m%d-%H%M%S}-{token[-6:]}"
    key = f"import:{actor}:{idempotency_key}" if idempotency_key else None
    run = StockImport(
        executor,
        rows=rows,
        actor=actor,
        reference=reference,
        journal=journal_id(key, token),
        log_error=functools.partial(log_error, executor),
        progress=progress,
        fingerprint=fingerprint,
        key=idempotency_key,
    )
    if key is not None and not dry_run:
        earlier = await run.replayed()
        if earlier is not None:
            return earlier
    checked, resolved = await run.check()
    result = summary(checked, dry_run=dry_run, reference=reference, applied=False)
    if dry_run:
        return result
    if result.invalid:
        raise ImportRejected(result)
    return await run.apply(resolved)
