"""Scheduled housekeeping as one call, shared by the cron route, POST /api/inventory-health
and `stocksync cleanup`.

Cleanup is never needed for correctness: a reserve that finds stock short releases expired
holds on the products it touches first. Cleanup just keeps the numbers tidy for people
looking at Studio and clears old idempotency records and resolved error logs.
"""

from __future__ import annotations

from pydantic import Field

from schemas.base import Model
from schemas.operations import PurgeResult
from service.engine.inventory import Inventory


class CleanupReport(Model):
    expired: list[str] = Field(description="Session ids whose holds were expired.")
    failed: list[str] = Field(description="Session ids left for the next run (conflicts).")
    purged: PurgeResult


async def run_cleanup(inventory: Inventory) -> CleanupReport:
    """Expire overdue holds, then purge old idempotency records and resolved error logs."""
    expired = await inventory.expire()
    purged = await inventory.purge()
    return CleanupReport(expired=expired.expired, failed=expired.failed, purged=purged)
