"""The embedded, Sanity-compatible document store (`Lake`) and its dataset import/export."""

from __future__ import annotations

from cms_client.error_bodies import mutation_error_body
from cms_client.lake.lake import Lake

__all__ = ["Lake", "mutation_error_body"]
