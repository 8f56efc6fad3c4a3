"""Bounded JSON: a body is checked before any parser or route sees it.

Python's `json` recursed once per nesting level (a body nested a few thousand deep raised
RecursionError: a 500 on signed webhook bodies, a generic 400 elsewhere), read integers of
any length, and passed lone UTF-16 surrogates (`"\\ud800"`) through to the store, which
cannot encode them. One linear scan of the raw bytes finds all three without building
anything; the limits are far above what any real caller sends.
"""

from __future__ import annotations

import re
from typing import Final

#: Levels of `{`/`[` nesting accepted. Sanity itself stores at most 20 levels of attribute
#: nesting; Stripe events and storefront payloads stay under 10.
MAX_DEPTH: Final = 64
#: Characters in one JSON number: a 64-bit integer has 20, a double written in full ~25.
MAX_NUMBER_LENGTH: Final = 40

#: Strings (with their escapes), brackets, and over-long numbers; everything else skipped.
_TOKENS = re.compile(
    rb'"(?:[^"\\]|\\.)*"|[\[\]{}]|[-+0-9.eE]{%d,}' % (MAX_NUMBER_LENGTH + 1), re.DOTALL
)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]", re.IGNORECASE)
_ESCAPE = re.compile(rb"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)


def json_problem(body: bytes) -> str | None:
    """Why `body` must be refused before parsing, or None. Invalid JSON is left to the
    parser (it answers that well); this only finds what the parser would choke on."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"the body is not UTF-8 (invalid byte at position {exc.start})"
    depth = 0
    for token in _TOKENS.finditer(body):
        text = token.group()
        first = text[:1]
        if first in (b"{", b"["):
            depth += 1
            if depth > MAX_DEPTH:
                return f"the body is nested deeper than {MAX_DEPTH} levels"
        elif first in (b"}", b"]"):
            depth -= 1
        elif first == b'"':
            if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(text):
                return "the body has a text with a lone UTF-16 surrogate (\\ud800-\\udfff)"
        else:
            return f"the body has a number longer than {MAX_NUMBER_LENGTH} characters"
    return None


def _has_lone_surrogate(string_token: bytes) -> bool:
    pending_high = False
    for escape in _ESCAPE.finditer(string_token):
        code = escape.group(1)
        unit = int(code[1:], 16) if len(code) == 5 else None
        if unit is not None and 0xDC00 <= unit <= 0xDFFF:
            if not pending_high:
                return True
            pending_high = False
            continue
        if pending_high:
            return True
        pending_high = unit is not None and 0xD800 <= unit <= 0xDBFF
    return pending_high
