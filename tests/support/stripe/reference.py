"""Stripe's published fixture objects (`fixtures3.json` from stripe/openapi, the objects
stripe-mock serves), found next to the repository and never copied into it.

The file lives in `../shared/reference/stripe/` relative to the repository. A git worktree
sits one folder deeper than the main checkout, so each ancestor of the repository is tried
(`STOCKSYNC_STRIPE_FIXTURES` names the file directly). Without it, tests that need it skip.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from pathlib import Path
from typing import Any

import pytest

REPOSITORY = Path(__file__).resolve().parents[3]
RELATIVE = Path("shared", "reference", "stripe", "fixtures3.json")
ENV_VARIABLE = "STOCKSYNC_STRIPE_FIXTURES"


def fixtures_path() -> Path | None:
    """Where `fixtures3.json` is, or None."""
    named = os.environ.get(ENV_VARIABLE)
    if named:
        path = Path(named)
        return path if path.is_file() else None
    for folder in REPOSITORY.parents:
        candidate = folder / RELATIVE
        if candidate.is_file():
            return candidate
    return None


@functools.cache
def _resources() -> dict[str, Any] | None:
    path = fixtures_path()
    if path is None:
        return None
    resources: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["resources"]
    return resources


def fixtures_available() -> bool:
    return _resources() is not None


def fixture(resource: str) -> dict[str, Any]:
    """A fresh copy of Stripe's example object for `resource` (e.g. "checkout.session");
    skips the calling test when the fixtures are not next to the repository."""
    resources = _resources()
    if resources is None:
        pytest.skip(f"Stripe's fixtures are not at ../{RELATIVE} (see tests/support/stripe)")
    found = resources.get(resource)
    if not isinstance(found, dict):
        raise KeyError(f"Stripe's fixtures have no {resource!r} object")
    return copy.deepcopy(found)
