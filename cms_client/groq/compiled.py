"""The compiled form of an expression: a closure over a scope, plus what is known of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Scope = tuple[Any, Any]
Fn = Callable[[Scope], Any]
#: The scope of the query itself: no this value, no parent.
ROOT_SCOPE: Scope = (None, None)


@dataclass(slots=True)
class Compiled:
    fn: Fn
    const: bool = False
    value: Any = None
    #: Set when `fn` reads this attribute path of the scope's this value (`a.b` -> ("a","b")).
    path: tuple[str, ...] | None = None
    #: `fn` always returns True or False, never null.
    boolean: bool = False
    #: Set when `fn` is `name == "constant string"` on the scope's this value.
    equals: tuple[str, str] | None = None


def constant(value: Any) -> Compiled:
    return Compiled(lambda s: value, True, value)


def fold(fn: Fn, *parts: Compiled) -> Compiled:
    """A pure operation over constant parts is computed now, once."""
    if all(part.const for part in parts):
        return constant(fn(ROOT_SCOPE))
    return Compiled(fn)


def attribute_path(path: tuple[str, ...]) -> Compiled:
    if len(path) == 1:
        (name,) = path

        def get1(s: Scope) -> Any:
            this = s[0]
            return this.get(name) if type(this) is dict else None

        return Compiled(get1, path=path)
    if len(path) == 2:
        first, second = path

        def get2(s: Scope) -> Any:
            value = s[0]
            if type(value) is not dict:
                return None
            value = value.get(first)
            return value.get(second) if type(value) is dict else None

        return Compiled(get2, path=path)

    def get_n(s: Scope) -> Any:
        value = s[0]
        for name in path:
            if type(value) is not dict:
                return None
            value = value.get(name)
        return value

    return Compiled(get_n, path=path)
