"""How a chain of traversals (`a[].b[0]{c}`) becomes nested operations.

GROQ decides per step whether it works on one value or maps over an array: after `[]`, a
filter or a slice, the following plain steps (`.b`, `{...}`) apply to every element, and a
later array step flattens. Steps are combined right to left; each partial result has a
kind, `"aa"`, `"ab"`, `"ba"` or `"bb"`: whether it takes an array (a) or a single value (b),
and whether it gives one. This mirrors the GROQ spec's TraversalPlain/TraversalArray rules
(the same scheme groq-js uses).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from cms_client.groq import nodes as n

Shape = Literal["aa", "ab", "ba", "bb"]
StepKind = Literal["plain", "element", "array", "projection"]


class Resolved:
    """An operation of a resolved traversal; `base` (when present) is evaluated first."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class RThis(Resolved):
    """The value the traversal works on: the scope's this value (or the mapped element)."""


@dataclass(frozen=True, slots=True)
class RNode(Resolved):
    """A base expression compiled as usual."""

    node: n.Node


@dataclass(frozen=True, slots=True)
class RAttr(Resolved):
    base: Resolved
    name: str


@dataclass(frozen=True, slots=True)
class RElement(Resolved):
    base: Resolved
    index: int


@dataclass(frozen=True, slots=True)
class RSlice(Resolved):
    base: Resolved
    start: int
    end: int
    inclusive: bool


@dataclass(frozen=True, slots=True)
class RFilter(Resolved):
    base: Resolved
    #: The filter expression, and its compiled form (an opaque object for this module).
    predicate: n.Node
    compiled: object


@dataclass(frozen=True, slots=True)
class RDeref(Resolved):
    """`->`: the document whose `_id` is the value's `_ref`."""

    base: Resolved


@dataclass(frozen=True, slots=True)
class RCoerce(Resolved):
    """`[]`: the value if it is an array, else null."""

    base: Resolved


@dataclass(frozen=True, slots=True)
class RProject(Resolved):
    base: Resolved
    body: n.ObjectLiteral


@dataclass(frozen=True, slots=True)
class RMap(Resolved):
    """Apply `expr` (built on RThis) to every element of `base`."""

    base: Resolved
    expr: Resolved


@dataclass(frozen=True, slots=True)
class RFlatMap(Resolved):
    """Like RMap, but array results are spliced into the output."""

    base: Resolved
    expr: Resolved


Build = Callable[[Resolved], Resolved]


@dataclass(frozen=True, slots=True)
class Partial:
    shape: Shape
    build: Build


def _join(first: Build, then: Build) -> Build:
    return lambda base: then(first(base))


def _map(inner: Build) -> Build:
    return lambda base: RMap(base, inner(RThis()))


def _flat_map(inner: Build) -> Build:
    return lambda base: RFlatMap(base, inner(RThis()))


def combine(kind: StepKind, build: Build, right: Partial | None) -> Partial:
    """Prepend one step (`kind`, `build`) to the already combined steps on its right."""
    if kind == "array":
        if right is None:
            return Partial("aa", build)
        if right.shape == "aa":
            return Partial("aa", _join(build, right.build))
        if right.shape == "ab":
            return Partial("ab", _join(build, right.build))
        if right.shape == "bb":
            return Partial("aa", _join(build, _map(right.build)))
        return Partial("aa", _join(build, _flat_map(right.build)))
    if kind == "plain":
        if right is None:
            return Partial("bb", build)
        shape: Shape = "ba" if right.shape in ("aa", "ba") else "bb"
        return Partial(shape, _join(build, right.build))
    if kind == "element":
        if right is None:
            return Partial("ab", build)
        shape = "aa" if right.shape in ("aa", "ba") else "ab"
        return Partial(shape, _join(build, right.build))
    # A projection maps over an array when what follows works on arrays.
    if right is None:
        return Partial("bb", build)
    if right.shape in ("aa", "ab"):
        return Partial(right.shape, _join(_map(build), right.build))
    return Partial(right.shape, _join(build, right.build))


def implied_name(resolved: Resolved) -> str | None:
    """The attribute name a bare projection entry gets (`{title}`, `{items[0]}`), or None."""
    while True:
        if isinstance(resolved, RAttr):
            return resolved.name if isinstance(resolved.base, RThis) else None
        if isinstance(
            resolved, RProject | RSlice | RFilter | RElement | RCoerce | RMap | RFlatMap | RDeref
        ):
            resolved = resolved.base
            continue
        return None
