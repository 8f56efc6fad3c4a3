"""Applying one patch's operations to one document, in Sanity's order.

Sanity applies the operations of a patch object as setIfMissing, set, unset, diffMatchPatch,
inc, dec, insert, whatever the order of the JSON keys. Within one operation the paths apply in
the order given.

What happens when a path does not match (see `paths.py`):
- `set` and `setIfMissing` create missing parent objects; a path that still cannot match
  (an index past the end, a `_key` nobody has, an attribute of a string) changes nothing.
- `unset` of something absent changes nothing.
- `inc` and `dec` fail the transaction unless the path holds a number: a stock change that
  quietly went nowhere would be the worst outcome.
- `insert` fails unless its array exists and its anchor item exists (an empty array accepts
  `[0]` and `[-1]` as anchors).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from cms_client.lake.paths import Index, Key, Match, PathError, Segment, locate, parse_path

#: Operation keys in the order Sanity applies them.
OPERATION_ORDER = ("setIfMissing", "set", "unset", "diffMatchPatch", "inc", "dec", "insert")
INSERT_POSITIONS = ("before", "after", "replace")
#: The id never changes; the revision and update time belong to the server.
_SERVER_FIELDS = (Key("_id"), Key("_rev"), Key("_updatedAt"))


class PatchProblem(Exception):
    """A patch that cannot apply; the transaction turns it into a `BadRequest` for its index."""

    def __init__(self, description: str, *, kind: str = "invalidPatchError") -> None:
        super().__init__(description)
        self.description = description
        #: Sanity-style `items[].error.type` for the error body.
        self.kind = kind


def apply_patch(document: dict[str, Any], operations: Mapping[str, Any]) -> None:
    """Apply a patch's operations to `document` in place (raises `PatchProblem`)."""
    unknown = sorted(set(operations) - set(OPERATION_ORDER))
    if unknown:
        raise PatchProblem(f"Unknown patch operation {unknown[0]!r}")
    for name in OPERATION_ORDER:
        if name in operations:
            _APPLY[name](document, operations[name])


def _segments(path: Any) -> tuple[Segment, ...]:
    try:
        segments = parse_path(path)
    except PathError as exc:
        raise PatchProblem(f"Invalid path: {exc}", kind="invalidPathError") from exc
    if segments[0] in _SERVER_FIELDS:
        raise PatchProblem(f"{path!r} is set by the server and cannot be patched")
    return segments


def _mapping(name: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PatchProblem(f"{name!r} takes an object of path: value")
    return value


def _set_if_missing(document: dict[str, Any], value: Any) -> None:
    for path, new in _mapping("setIfMissing", value).items():
        place = locate(document, _segments(path), create=True)
        if place is not None and not place.exists():
            place.put(copy.deepcopy(new))


def _set(document: dict[str, Any], value: Any) -> None:
    for path, new in _mapping("set", value).items():
        place = locate(document, _segments(path), create=True)
        if place is not None:
            place.put(copy.deepcopy(new))


def _unset(document: dict[str, Any], value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(path, str) for path in value):
        raise PatchProblem("'unset' takes an array of paths")
    for path in value:
        place = locate(document, _segments(path), create=False)
        if place is not None and place.exists():
            place.remove()


def _diff_match_patch(document: dict[str, Any], value: Any) -> None:
    raise PatchProblem("diffMatchPatch is not supported by the embedded lake")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _add(document: dict[str, Any], value: Any, *, name: str, sign: int) -> None:
    verb = "increment" if sign > 0 else "decrement"
    for path, amount in _mapping(name, value).items():
        if not _is_number(amount):
            raise PatchProblem(f"Cannot {verb} {path!r} by {amount!r}: not a number")
        place = locate(document, _segments(path), create=False)
        if place is None or not place.exists():
            raise PatchProblem(f"Cannot {verb} {path!r}: the path does not exist")
        current = place.get()
        if not _is_number(current):
            kind = type(current).__name__ if current is not None else "null"
            raise PatchProblem(f"Cannot {verb} {path!r}: its value is {kind}, not a number")
        place.put(current + sign * amount)


def _inc(document: dict[str, Any], value: Any) -> None:
    _add(document, value, name="inc", sign=1)


def _dec(document: dict[str, Any], value: Any) -> None:
    _add(document, value, name="dec", sign=-1)


def _insert(document: dict[str, Any], value: Any) -> None:
    spec = _mapping("insert", value)
    positions = [p for p in INSERT_POSITIONS if p in spec]
    extra = sorted(set(spec) - {*INSERT_POSITIONS, "items"})
    if len(positions) != 1 or extra:
        raise PatchProblem("'insert' takes exactly one of before/after/replace, and items")
    items = spec.get("items")
    if not isinstance(items, list):
        raise PatchProblem("'insert' needs an 'items' array")
    where = positions[0]
    path = spec[where]
    segments = _segments(path)
    anchor = segments[-1]
    if not isinstance(anchor, Index | Match) or len(segments) < 2:
        raise PatchProblem(f"Cannot insert {where} {path!r}: the path must name an array item")
    parent = locate(document, segments[:-1], create=False)
    array = parent.get() if parent is not None and parent.exists() else None
    if not isinstance(array, list):
        raise PatchProblem(f"Cannot insert {where} {path!r}: there is no array there")
    position = _anchor_position(array, anchor)
    if position is None:
        raise PatchProblem(f"Cannot insert {where} {path!r}: no such array item")
    new_items = copy.deepcopy(items)
    if where == "before":
        array[position:position] = new_items
    elif where == "after":
        array[position + 1 : position + 1] = new_items
    else:
        array[position : position + 1] = new_items


def _anchor_position(array: list[Any], anchor: Index | Match) -> int | None:
    if isinstance(anchor, Match):
        place = locate({"a": array}, (Key("a"), anchor), create=False)
        return place.slot if place is not None and isinstance(place.slot, int) else None
    if not array and anchor.position in (0, -1):
        # An empty array has no item to anchor on; inserting into it starts the array.
        return 0
    position = anchor.position + len(array) if anchor.position < 0 else anchor.position
    return position if 0 <= position < len(array) else None


_APPLY: dict[str, Callable[[dict[str, Any], Any], None]] = {
    "setIfMissing": _set_if_missing,
    "set": _set,
    "unset": _unset,
    "diffMatchPatch": _diff_match_patch,
    "inc": _inc,
    "dec": _dec,
    "insert": _insert,
}
