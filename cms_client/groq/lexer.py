"""Tokens of a GROQ query, each with its character offset."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cms_client.groq.errors import syntax_error, unsupported

# Spec: tab, newline, vertical tab, form feed, carriage return, space, next line, nbsp.
_WHITESPACE = frozenset("\t\n\x0b\x0c\r \x85\xa0")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
# Longest first, so `...` wins over `..` and `**` over `*`.
_PUNCTUATION = (
    "...",
    "..",
    "**",
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "=>",
    "->",
    "::",
    "*",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ",",
    ":",
    ".",
    "|",
    "!",
    "<",
    ">",
    "+",
    "-",
    "/",
    "%",
    "@",
    "^",
    "=",
    ";",
)
_SIMPLE_ESCAPES = {
    "'": "'",
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}


@dataclass(frozen=True, slots=True)
class Token:
    #: "num", "str", "ident", "param", "punct" or "eof".
    kind: str
    text: str
    pos: int
    value: Any = None

    def describe(self) -> str:
        if self.kind == "eof":
            return "the end of the query"
        if self.kind == "str":
            return "a string"
        if self.kind == "num":
            return f"the number {self.text}"
        return f"'{self.text}'"


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    n = len(query)
    while i < n:
        ch = query[i]
        if ch in _WHITESPACE:
            i += 1
            continue
        if query.startswith("//", i):
            newline = query.find("\n", i)
            i = n if newline < 0 else newline + 1
            continue
        if ch == '"' or ch == "'":
            value, end = _read_string(query, i)
            tokens.append(Token("str", query[i:end], i, value))
            i = end
            continue
        if ch.isascii() and ch.isdigit():
            match = _NUMBER.match(query, i)
            assert match is not None
            text = match.group(0)
            number: int | float
            if match.group(1) is None and match.group(2) is None and len(text) < 16:
                # GROQ numbers are IEEE doubles; Python ints stand in for the exact ones.
                number = int(text)
            else:
                number = float(text)
                if number != number or number in (float("inf"), float("-inf")):
                    raise syntax_error(query, i, f"number {text} is out of range")
                if number.is_integer() and abs(number) < 2**53:
                    number = int(number)
            tokens.append(Token("num", text, i, number))
            i = match.end()
            continue
        ident = _IDENTIFIER.match(query, i)
        if ident is not None:
            tokens.append(Token("ident", ident.group(0), i, ident.group(0)))
            i = ident.end()
            continue
        if ch == "$":
            name = _IDENTIFIER.match(query, i + 1)
            if name is None:
                raise syntax_error(query, i, "expected a parameter name after '$'")
            tokens.append(Token("param", query[i : name.end()], i, name.group(0)))
            i = name.end()
            continue
        for punct in _PUNCTUATION:
            if query.startswith(punct, i):
                tokens.append(Token("punct", punct, i))
                i += len(punct)
                break
        else:
            if ch == "&":
                raise syntax_error(query, i, "unexpected '&' (did you mean '&&'?)")
            if ch == "~":
                raise unsupported(query, i, "~", "operator outside GROQ")
            raise syntax_error(query, i, f"unexpected character {ch!r}")
    tokens.append(Token("eof", "", n))
    return tokens


def _read_string(query: str, start: int) -> tuple[str, int]:
    quote = query[start]
    parts: list[str] = []
    i = start + 1
    n = len(query)
    while True:
        if i >= n:
            raise syntax_error(query, start, "string is not closed")
        ch = query[i]
        if ch == quote:
            return "".join(parts), i + 1
        if ch != "\\":
            parts.append(ch)
            i += 1
            continue
        if i + 1 >= n:
            raise syntax_error(query, start, "string is not closed")
        esc = query[i + 1]
        if esc in _SIMPLE_ESCAPES:
            parts.append(_SIMPLE_ESCAPES[esc])
            i += 2
            continue
        if esc != "u":
            raise syntax_error(query, i, f"invalid escape sequence '\\{esc}'")
        code, i = _read_unicode_escape(query, i)
        # A UTF-16 surrogate pair written as two escapes is one code point.
        if 0xD800 <= code <= 0xDBFF and query.startswith("\\u", i):
            low, after = _read_unicode_escape(query, i)
            if 0xDC00 <= low <= 0xDFFF:
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                i = after
        if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
            raise syntax_error(query, i, "escape sequence is not a valid Unicode code point")
        parts.append(chr(code))


def _read_unicode_escape(query: str, i: int) -> tuple[int, int]:
    """Read `\\uXXXX` or `\\u{X...}` starting at the backslash; return (code, next index)."""
    if query.startswith("{", i + 2):
        close = query.find("}", i + 3)
        digits = query[i + 3 : close] if close > 0 else ""
        if not digits or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise syntax_error(query, i, "invalid \\u{...} escape sequence")
        return int(digits, 16), close + 1
    digits = query[i + 2 : i + 6]
    if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
        raise syntax_error(query, i, "invalid \\uXXXX escape sequence")
    return int(digits, 16), i + 6
