"""The functions of the subset (spec "Functions"); arity was checked by the parser."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cms_client.groq import nodes as n
from cms_client.groq.compiled import Compiled, Scope, constant, fold
from cms_client.groq.values import GroqPath, format_datetime, parse_datetime

if TYPE_CHECKING:
    from cms_client.groq.compiler import Compiler


def compile_call(compiler: Compiler, node: n.FuncCall, hidden: bool, loop: bool) -> Compiled:
    key = (node.namespace, node.name)
    if key == ("global", "select"):
        return _select(compiler, node, hidden, loop)
    if key == ("global", "now"):
        return constant(format_datetime(compiler.now))
    if key == ("dateTime", "now"):
        compiler.makes_special_values = True
        return constant(compiler.now)
    args = [compiler.compile(arg, hidden, loop) for arg in node.args]
    if key == ("global", "references"):
        return _references(args)
    if key == ("global", "coalesce"):
        return _coalesce(args)
    if key in (("global", "dateTime"), ("global", "path")):
        compiler.makes_special_values = True
    build = _UNARY.get(key)
    if build is not None:
        fn = args[0].fn

        def unary(s: Scope) -> Any:
            return build(fn(s))

        compiled = fold(unary, args[0])
        compiled.boolean = key == ("global", "defined") and not compiled.const
        return compiled
    if key == ("string", "startsWith"):
        text_fn, prefix_fn = args[0].fn, args[1].fn

        def starts_with(s: Scope) -> Any:
            text, prefix = text_fn(s), prefix_fn(s)
            if type(text) is str and type(prefix) is str:
                return text.startswith(prefix)
            return None

        return fold(starts_with, *args)
    raise AssertionError(f"no implementation for {key}")


def _count(value: Any) -> Any:
    return len(value) if type(value) is list else None


def _defined(value: Any) -> bool:
    return value is not None


def _date_time(value: Any) -> Any:
    if type(value) is str:
        return parse_datetime(value)
    if type(value) is datetime:
        return value
    return None


def _path(value: Any) -> Any:
    return GroqPath(value) if type(value) is str else None


def _lower(value: Any) -> Any:
    return value.lower() if type(value) is str else None


def _upper(value: Any) -> Any:
    return value.upper() if type(value) is str else None


_UNARY: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("global", "count"): _count,
    ("global", "defined"): _defined,
    ("global", "dateTime"): _date_time,
    ("global", "path"): _path,
    ("global", "lower"): _lower,
    ("global", "upper"): _upper,
}


def _coalesce(args: list[Compiled]) -> Compiled:
    fns = [arg.fn for arg in args]

    def coalesce(s: Scope) -> Any:
        for fn in fns:
            value = fn(s)
            if value is not None:
                return value
        return None

    return fold(coalesce, *args)


def _select(compiler: Compiler, node: n.FuncCall, hidden: bool, loop: bool) -> Compiled:
    branches: list[tuple[Callable[[Scope], Any] | None, Callable[[Scope], Any]]] = []
    parts: list[Compiled] = []
    for arg in node.args:
        if isinstance(arg, n.Pair):
            condition = compiler.compile(arg.condition, hidden, loop)
            value = compiler.compile(arg.value, hidden, loop)
            branches.append((condition.fn, value.fn))
            parts.extend((condition, value))
        else:
            default = compiler.compile(arg, hidden, loop)
            branches.append((None, default.fn))
            parts.append(default)

    def select(s: Scope) -> Any:
        for condition, value in branches:
            if condition is None or condition(s) is True:
                return value(s)
        return None

    return fold(select, *parts)


def _references(args: list[Compiled]) -> Compiled:
    """True when the scope's value holds a `_ref` to one of the ids, at any depth."""
    fns = [arg.fn for arg in args]
    fixed = _reference_ids([arg.value for arg in args]) if all(a.const for a in args) else None

    def references(s: Scope) -> bool:
        ids = fixed if fixed is not None else _reference_ids([fn(s) for fn in fns])
        return bool(ids) and _has_reference(s[0], ids)

    return Compiled(references, boolean=True)


def _reference_ids(values: list[Any]) -> frozenset[str]:
    ids: set[str] = set()
    for value in values:
        if type(value) is str:
            ids.add(value)
        elif type(value) is list:
            ids.update(item for item in value if type(item) is str)
    return frozenset(ids)


def _has_reference(value: Any, ids: frozenset[str]) -> bool:
    if type(value) is list:
        return any(_has_reference(item, ids) for item in value)
    if type(value) is dict:
        if "_ref" in value:
            ref = value["_ref"]
            return type(ref) is str and ref in ids
        return any(_has_reference(item, ids) for item in value.values())
    return False
