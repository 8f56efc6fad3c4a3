"""JSONMatch paths as Sanity patches use them, and the few ways a patch walks them.

Supported forms: `a.b`, `arr[0]`, `arr[-1]`, `arr[_key=="k"]`, `arr[_key=="k"].field`,
`a["odd-key"]`, `'odd-key'.b`. Any attribute may stand in for `_key` in a match, and the
value may be a string or a number. Wildcards, ranges, unions and recursive descent are
refused with `PathError` rather than guessed at.

A path names at most one place in a document. Following JSONMatch, a place that does not
match (an index past the end, a `_key` no item has, an attribute of a string) is simply "no
match"; what an operation does with no match is the operation's business (`patches.py`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_INTEGER = re.compile(r"-?\d+")


class PathError(ValueError):
    """A path that is malformed or outside the supported JSONMatch forms."""


@dataclass(frozen=True)
class Key:
    """An object attribute."""

    name: str


@dataclass(frozen=True)
class Index:
    """An array item by position; negative counts from the end."""

    position: int


@dataclass(frozen=True)
class Match:
    """The first array item that is an object whose `attribute` equals `value`."""

    attribute: str
    value: str | int | float


Segment = Key | Index | Match
Container = dict[str, Any] | list[Any]


@dataclass(frozen=True)
class Place:
    """Where a path landed: `container[slot]` (the slot may not exist yet in a dict)."""

    container: Container
    slot: str | int

    def exists(self) -> bool:
        if isinstance(self.container, dict):
            return self.slot in self.container
        return isinstance(self.slot, int) and 0 <= self.slot < len(self.container)

    def get(self) -> Any:
        return self.container[self.slot]  # type: ignore[index]

    def put(self, value: Any) -> None:
        self.container[self.slot] = value  # type: ignore[index]

    def remove(self) -> None:
        del self.container[self.slot]  # type: ignore[arg-type]


def parse_path(text: str) -> tuple[Segment, ...]:
    """Parse a JSONMatch path into segments, or raise `PathError` naming the problem."""
    if not isinstance(text, str) or not text.strip():
        raise PathError("a patch path must be a non-empty string")
    return _parse_cached(text)


@lru_cache(maxsize=1024)
def _parse_cached(text: str) -> tuple[Segment, ...]:
    # Segments are frozen: one parse serves every patch of the same path (stock writes
    # patch the same few paths over and over).
    return tuple(_Parser(text).segments())


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, problem: str) -> PathError:
        return PathError(f"{problem} at position {self.pos} in path {self.text!r}")

    def segments(self) -> Iterator[Segment]:
        first = True
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "[":
                yield self.bracket()
            elif first:
                yield Key(self.name())
            elif char == ".":
                self.pos += 1
                if self.text.startswith(".", self.pos):
                    raise self.fail("recursive descent '..' is not supported")
                yield Key(self.name())
            else:
                raise self.fail(f"unexpected {char!r}")
            first = False

    def name(self) -> str:
        if self.pos >= len(self.text):
            raise self.fail("expected an attribute name")
        char = self.text[self.pos]
        if char in "'\"":
            return self.quoted()
        if char == "*":
            raise self.fail("wildcards are not supported")
        found = _IDENTIFIER.match(self.text, self.pos)
        if not found:
            raise self.fail("expected an attribute name")
        self.pos = found.end()
        return found.group()

    def quoted(self) -> str:
        quote = self.text[self.pos]
        end = self.pos + 1
        while end < len(self.text) and self.text[end] != quote:
            end += 2 if self.text[end] == "\\" else 1
        if end >= len(self.text):
            raise self.fail("unterminated quoted name")
        raw = self.text[self.pos + 1 : end]
        self.pos = end + 1
        if quote == "'":
            raw = raw.replace("\\'", "'").replace('"', '\\"')
        try:
            value = json.loads(f'"{raw}"')
        except json.JSONDecodeError as exc:
            raise self.fail("bad escape in quoted name") from exc
        assert isinstance(value, str)
        return value

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def bracket(self) -> Segment:
        self.pos += 1
        self.skip_spaces()
        segment = self.bracket_body()
        self.skip_spaces()
        if not self.text.startswith("]", self.pos):
            raise self.fail("expected ']'")
        self.pos += 1
        return segment

    def bracket_body(self) -> Segment:
        if self.pos >= len(self.text):
            raise self.fail("unterminated '['")
        char = self.text[self.pos]
        if char in "'\"":
            return Key(self.quoted())
        if char == "*":
            raise self.fail("wildcards are not supported")
        integer = _INTEGER.match(self.text, self.pos)
        if integer:
            self.pos = integer.end()
            if self.text.startswith(":", self.pos) or self.text.startswith(",", self.pos):
                raise self.fail("ranges and unions are not supported")
            return Index(int(integer.group()))
        if char == "?":
            raise self.fail("filter expressions are not supported (use [attr==value])")
        attribute = self.name()
        self.skip_spaces()
        if not self.text.startswith("==", self.pos):
            raise self.fail("expected '==' in an array match")
        self.pos += 2
        self.skip_spaces()
        return Match(attribute, self.literal())

    def literal(self) -> str | int | float:
        if self.pos < len(self.text) and self.text[self.pos] in "'\"":
            return self.quoted()
        number = _NUMBER.match(self.text, self.pos)
        if not number:
            raise self.fail("expected a string or number to match")
        self.pos = number.end()
        return float(number.group()) if number.group(1) else int(number.group())


def format_path(segments: tuple[Segment, ...]) -> str:
    """The canonical text of a parsed path (for messages)."""
    parts: list[str] = []
    for segment in segments:
        if isinstance(segment, Key):
            if _IDENTIFIER.fullmatch(segment.name):
                parts.append(("." if parts else "") + segment.name)
            else:
                parts.append(f"[{json.dumps(segment.name)}]")
        elif isinstance(segment, Index):
            parts.append(f"[{segment.position}]")
        else:
            parts.append(f"[{segment.attribute}=={json.dumps(segment.value)}]")
    return "".join(parts)


def _item_matches(item: Any, match: Match) -> bool:
    if not isinstance(item, dict) or match.attribute not in item:
        return False
    value = item[match.attribute]
    if isinstance(value, bool) or isinstance(match.value, bool):
        return False
    return bool(value == match.value)


def _step(container: Any, segment: Segment) -> Place | None:
    """The place `segment` names inside `container`, or None when it cannot name one."""
    if isinstance(segment, Key):
        return Place(container, segment.name) if isinstance(container, dict) else None
    if not isinstance(container, list):
        return None
    if isinstance(segment, Index):
        position = segment.position + len(container) if segment.position < 0 else segment.position
        return Place(container, position) if 0 <= position < len(container) else None
    for position, item in enumerate(container):
        if _item_matches(item, segment):
            return Place(container, position)
    return None


def locate(root: dict[str, Any], segments: tuple[Segment, ...], *, create: bool) -> Place | None:
    """The place the path names in `root`, or None when it does not match.

    With `create`, missing (or null) objects on the way are made, but only when every
    remaining segment is an attribute, so a path that cannot match leaves `root` untouched.
    """
    container: Any = root
    for depth, segment in enumerate(segments[:-1]):
        place = _step(container, segment)
        if place is None:
            return None
        if not place.exists() or place.get() is None:
            rest = segments[depth + 1 :]
            if not create or not all(isinstance(s, Key) for s in rest):
                return None
            child: dict[str, Any] = {}
            place.put(child)
            for inner in rest[:-1]:
                assert isinstance(inner, Key)
                child[inner.name] = {}
                child = child[inner.name]
            last = rest[-1]
            assert isinstance(last, Key)
            return Place(child, last.name)
        container = place.get()
    return _step(container, segments[-1])
