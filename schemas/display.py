"""Text of fields stocksync shows but does not own, in whatever shape a Studio saved them.

A product title may be a string, an i18n object (`{"en": ..., "de": ...}`, the shape of
document-level field translation), an internationalized array (`[{"_key": "en", "value":
...}]`, sanity-plugin-internationalized-array), Portable Text blocks, or a number from an
import. Each reads as its first text; nothing here raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: How far into nested objects a title's text is looked for (deeper is not a title).
_MAX_DEPTH = 6


def number_text(value: int | float) -> str:
    """`5` and `5.0` read as "5"; other floats as Python writes them ("5.5")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_text(value: Any) -> str | None:
    """A string, or a number as text (`sku: 4006`, `size: 42`); anything else is None."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return number_text(value)
    return None


def first_text(value: Any, depth: int = 0) -> str | None:
    """The first non-empty text in `value` (see the module docstring), or None."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, Mapping):
        return _text_of_object(value, depth)
    if isinstance(value, list):
        for item in value:
            found = first_text(item, depth + 1)
            if found:
                return found
    return None


def _text_of_object(value: Mapping[Any, Any], depth: int) -> str | None:
    # A Portable Text block: its spans' text, joined.
    children = value.get("children")
    if value.get("_type") == "block" and isinstance(children, list):
        spans = [c.get("text") for c in children if isinstance(c, Mapping)]
        joined = "".join(s for s in spans if isinstance(s, str))
        return joined if joined.strip() else None
    # An internationalized-array item keeps its text under `value`.
    for preferred in ("value", "text", "current"):
        if preferred in value:
            found = first_text(value[preferred], depth + 1)
            if found:
                return found
    # An i18n object: the first locale that has text (system fields like `_type` skipped).
    for key, item in value.items():
        if isinstance(key, str) and key.startswith("_"):
            continue
        found = first_text(item, depth + 1)
        if found:
            return found
    return None
