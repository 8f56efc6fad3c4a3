"""Sanity's documented limits on what a document may hold, enforced by the lake.

From Sanity's technical limits (reference notes, section 4): attributes nest at most 20
levels, a document is at most 32 MB of JSON, and numbers are 64-bit (an integer beyond
64 bits cannot be stored exactly, so it is refused rather than rounded). Text must be
valid Unicode: a lone surrogate (`"\\ud800"` in JSON) cannot be stored as UTF-8.

A level is an object (the document itself is level 1, so its attributes' objects are 2,
and so on); an array is not a level of its own unless it sits directly in another array,
so `a.b[0].c` is three levels deep as in Sanity's paths. Checks walk iteratively, so a
document nested thousands deep is refused, never a `RecursionError`.
"""

from __future__ import annotations

import math
from typing import Any

#: Sanity: "nesting up to 20 levels" of attributes.
MAX_NESTING = 20
#: Sanity: maximum JSON document size, 32 MB.
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: Request bodies (mutations, POST queries) nest a little deeper than the documents they
#: carry; past this a body is refused before anything walks it recursively.
MAX_BODY_NESTING = MAX_NESTING + 12


class LimitExceeded(Exception):
    """A value outside Sanity's limits; `description` names where. `not_json`: the value
    is not JSON at all (NaN, an object of no JSON type, a key that is not a string)."""

    def __init__(self, description: str, *, not_json: bool = False) -> None:
        super().__init__(description)
        self.description = description
        self.not_json = not_json


def _where(path: list[str]) -> str:
    return "".join(path) or "the document"


def _lone_surrogate(text: str) -> bool:
    # Fast path: surrogates are rare; encoding finds them in C.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_value(value: Any, *, max_nesting: int = MAX_NESTING, what: str = "") -> None:
    """Refuse `value` (a document, or part of one) if it breaks a limit."""
    if _within_limits(value, max_nesting):
        return
    _describe(value, max_nesting, what)
    raise LimitExceeded(f"{what or 'the document'} breaks a limit")  # not reached


def _within_limits(value: Any, max_nesting: int) -> bool:
    """The fast check every write pays: no paths, no messages."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        item, levels = pop()
        kind = type(item)
        if kind is dict:
            levels += 1
            if levels > max_nesting:
                return False
            for key, child in item.items():
                if type(key) is not str or (not key.isascii() and _lone_surrogate(key)):
                    return False
                if type(child) in (dict, list):
                    push((child, levels))
                elif not _scalar_ok(child):
                    return False
        elif kind is list:
            for child in item:
                if type(child) is list:
                    if levels + 1 > max_nesting:
                        return False
                    push((child, levels + 1))
                elif type(child) is dict:
                    push((child, levels))
                elif not _scalar_ok(child):
                    return False
        elif not _scalar_ok(item):
            return False
    return True


def _scalar_ok(item: Any) -> bool:
    kind = type(item)
    if kind is str:
        return item.isascii() or not _lone_surrogate(item)
    if kind is int:
        return bool(INT64_MIN <= item <= INT64_MAX)
    if kind is float:
        return math.isfinite(item)
    return item is None or kind is bool


def _describe(value: Any, max_nesting: int, what: str) -> None:
    """Find the first problem again, this time keeping the path, and raise it."""
    # (value, object levels so far, path for the message)
    stack: list[tuple[Any, int, list[str]]] = [(value, 0, [what] if what else [])]
    while stack:
        item, levels, path = stack.pop()
        if isinstance(item, dict):
            levels += 1
            if levels > max_nesting:
                raise LimitExceeded(
                    f"{_where(path)} nests deeper than {max_nesting} levels (Sanity's limit)"
                )
            for key, child in item.items():
                if not isinstance(key, str):
                    raise LimitExceeded(f"a key in {_where(path)} is not a string", not_json=True)
                if _lone_surrogate(key):
                    raise LimitExceeded(f"a key in {_where(path)} is not valid Unicode")
                stack.append((child, levels, [*path, f".{key}" if path else str(key)]))
        elif isinstance(item, list):
            for index, child in enumerate(item):
                # An array inside an array is a level of its own.
                nested = levels + 1 if isinstance(child, list) else levels
                if nested > max_nesting:
                    raise LimitExceeded(
                        f"{_where(path)} nests deeper than {max_nesting} levels (Sanity's limit)"
                    )
                stack.append((child, nested, [*path, f"[{index}]"]))
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                raise LimitExceeded(
                    f"{_where(path)} is an integer outside the 64-bit range Sanity stores"
                )
        elif isinstance(item, str):
            if _lone_surrogate(item):
                raise LimitExceeded(f"{_where(path)} is not valid Unicode (a lone surrogate)")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise LimitExceeded(f"{_where(path)} is {item}, not a JSON number", not_json=True)
        elif item is not None:
            raise LimitExceeded(
                f"{_where(path)} is a {type(item).__name__}, not a JSON value", not_json=True
            )


def check_document(document: dict[str, Any]) -> None:
    check_value(document)


def check_size(body: str, document_id: str) -> None:
    """Refuse a stored document's JSON text past Sanity's 32 MB."""
    if len(body) * 4 > MAX_DOCUMENT_BYTES and len(body.encode()) > MAX_DOCUMENT_BYTES:
        raise LimitExceeded(
            f"document {document_id!r} would be larger than Sanity's 32 MB document limit"
        )
