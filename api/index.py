"""Vercel's entrypoint: the FastAPI preset serves this module's `app` for every path."""

from __future__ import annotations

from service.entrypoints.http.app import create_app

app = create_app()
