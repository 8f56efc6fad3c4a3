"""The routers the app serves, in the order their routes appear in the docs."""

from __future__ import annotations

from fastapi import APIRouter


def api_routers() -> list[APIRouter]:
    """Imported on call so `service.entrypoints.http` stays cheap to import for the CLI."""
    from service.entrypoints.http import (
        cron,
        health,
        landing,
        staff,
        stock_stream,
        stock_tools,
        storefront,
        webhooks,
    )

    return [
        storefront.router,
        stock_stream.router,
        webhooks.router,
        staff.router,
        stock_tools.router,
        health.router,
        cron.router,
        landing.router,
    ]
