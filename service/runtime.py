"""Opening the configured document store and the engine over it (service and CLI alike)."""

from __future__ import annotations

import os
from pathlib import Path

from cms_client.clock import Clock, utc_now
from cms_client.store import DocumentStore
from service.config import ServiceSettings
from service.engine.inventory import Inventory


def open_store(settings: ServiceSettings, *, clock: Clock = utc_now) -> DocumentStore:
    """Sanity when `SANITY_PROJECT_ID` is set, else the embedded lake in `STOCKSYNC_DATA`.

    Each client is imported only when chosen, so the lake pays nothing for httpx and the
    Sanity deployment nothing for SQLite.
    """
    if settings.uses_sanity:
        from cms_client.sanity_client import SanityClient

        return SanityClient(settings.sanity_settings(), clock=clock)
    if os.environ.get("VERCEL"):
        # A function's disk is per instance and temporary: stock kept there would differ
        # between instances and vanish. Refuse to start rather than oversell.
        raise RuntimeError(
            "SANITY_PROJECT_ID is not set: on Vercel the embedded lake would not be durable"
        )
    from cms_client.lake import Lake

    Path(settings.data_file).parent.mkdir(parents=True, exist_ok=True)
    return Lake(settings.data_file, clock=clock)


def open_inventory(
    settings: ServiceSettings, store: DocumentStore, *, clock: Clock = utc_now
) -> Inventory:
    return Inventory(store, clock=clock, settings=settings.engine_settings())
