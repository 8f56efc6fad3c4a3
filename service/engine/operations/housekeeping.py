"""Scheduled housekeeping, one call per job, shared by every way of running it.

`run_cleanup`: the cron cleanup route, POST /api/inventory-health and `stocksync cleanup`.
`run_reconcile`: the cron reconcile route, POST /api/inventory/reconcile and
`stocksync reconcile`.

Cleanup is never needed for correctness: a reserve that finds stock short releases expired
holds on the products it touches first. Cleanup just keeps the numbers tidy for people
looking at Studio and clears old idempotency records and resolved error logs.

Reconcile repairs counters that something outside stocksync (a stale Studio publish) has
bent, then applies refunds still held for a payment that has since been recorded by a path
that does not look for them (the payment's own webhook and the success page do).
"""

from __future__ import annotations

from pydantic import Field

from schemas.base import Model
from schemas.operations import PurgeResult, ReconcileResult
from service.engine.inventory import Inventory
from service.engine.operations.held_refunds import HeldRefundsReport, apply_held_refunds

#: Exit codes of `stocksync cleanup` and `stocksync reconcile` (2 is argparse's usage error).
EXIT_OK = 0
#: Something was left for the next run (conflicts, products changed too recently to judge).
EXIT_UNSETTLED = 1
#: A product's stock fields cannot be read: a person must fix it in the Studio.
EXIT_QUARANTINED = 3


class CleanupReport(Model):
    expired: list[str] = Field(description="Session ids whose holds were expired.")
    failed: list[str] = Field(description="Session ids left for the next run (conflicts).")
    purged: PurgeResult

    @property
    def incomplete(self) -> bool:
        """Something was left for the next run."""
        return bool(self.failed)

    @property
    def exit_code(self) -> int:
        return EXIT_UNSETTLED if self.incomplete else EXIT_OK


class ReconcileReport(Model):
    reconcile: ReconcileResult
    held_refunds: HeldRefundsReport

    @property
    def incomplete(self) -> bool:
        """Something was left for the next run or a person: products that failed
        (conflicts), were changed too recently to judge (settling) or are quarantined.
        Held refunds wait for their payment and do not count."""
        return self.reconcile.unsettled

    @property
    def exit_code(self) -> int:
        """`stocksync reconcile`'s exit code (README "Exit codes")."""
        if self.reconcile.quarantined:
            return EXIT_QUARANTINED
        return EXIT_UNSETTLED if self.incomplete else EXIT_OK


async def run_cleanup(inventory: Inventory) -> CleanupReport:
    """Expire overdue holds, then purge old idempotency records and resolved error logs."""
    expired = await inventory.expire()
    purged = await inventory.purge()
    return CleanupReport(expired=expired.expired, failed=expired.failed, purged=purged)


async def run_reconcile(inventory: Inventory) -> ReconcileReport:
    """Repair reserved counters of every product, then apply the held refunds."""
    reconciled = await inventory.reconcile()
    held = await apply_held_refunds(inventory)
    return ReconcileReport(reconcile=reconciled, held_refunds=held)
