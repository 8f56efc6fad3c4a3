"""Vercel's entrypoint: the FastAPI preset serves this module's `app` for every path."""

from __future__ import annotations

from service.config import load_settings
from service.entrypoints.http.app import create_app
from service.entrypoints.logs import configure_logging

settings = load_settings()
configure_logging(settings.log_format)
app = create_app(settings)
