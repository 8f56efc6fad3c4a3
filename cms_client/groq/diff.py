"""`diff::changedAny(before, after, selector)` and `diff::changedOnly(...)`.

A selector names places in a document (`title`, `a.b`, `items[]`, `items[qty > 1]`,
`(a, b)`, `a.(b, c)`, `anywhere(_type == "x")`); each evaluates to key paths (attribute names
and array indices). Semantics follow groq-js, the reference implementation: changedAny is
true when the selected places differ between the two values (or select different counts);
changedOnly is true when every difference between them lies under a selected place.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from cms_client.groq import nodes as n
from cms_client.groq.compiled import Compiled, Scope
from cms_client.groq.values import equal

if TYPE_CHECKING:
    from cms_client.groq.compiler import Compiler

KeyPath = list[str | int]
# A compiled selector: (value, scope) -> the key paths it selects in value.
SelectorFn = Callable[[Any, Scope], list[KeyPath]]


def compile_diff(compiler: Compiler, node: n.FuncCall, hidden: bool, loop: bool) -> Compiled:
    before_fn = compiler.compile(node.args[0], hidden, loop).fn
    after_fn = compiler.compile(node.args[1], hidden, loop).fn
    selector_node = node.args[2]
    assert isinstance(selector_node, n.Selector)
    selector = _compile_selector(compiler, selector_node.selector)
    only = node.name == "changedOnly"

    def changed(s: Scope) -> bool:
        parent = s[1] if hidden else s
        before, after = before_fn(s), after_fn(s)
        if only:
            return _changed_only(before, after, selector, parent)
        return _changed_any(before, after, selector, parent)

    return Compiled(changed, boolean=True)


def _compile_selector(compiler: Compiler, sel: n.Sel) -> SelectorFn:
    if isinstance(sel, n.SelAttr):
        name = sel.name
        if sel.base is None:
            return lambda value, scope: [[name]]
        base = _compile_selector(compiler, sel.base)
        return lambda value, scope: [[*path, name] for path in base(value, scope)]
    if isinstance(sel, n.SelTuple):
        members = [_compile_selector(compiler, member) for member in sel.members]
        return lambda value, scope: [path for member in members for path in member(value, scope)]
    if isinstance(sel, n.SelCoerce):
        base = _compile_selector(compiler, sel.base)

        def coerce(value: Any, scope: Scope) -> list[KeyPath]:
            out: list[KeyPath] = []
            for path in base(value, scope):
                inner = value_at(value, path)
                if type(inner) is list:
                    out.extend([*path, i] for i in range(len(inner)))
            return out

        return coerce
    if isinstance(sel, n.SelFilter):
        base = _compile_selector(compiler, sel.base)
        keep = compiler.compile(sel.expr, False, True).fn

        def filter_(value: Any, scope: Scope) -> list[KeyPath]:
            out: list[KeyPath] = []
            for path in base(value, scope):
                inner = value_at(value, path)
                if type(inner) is list:
                    for i, item in enumerate(inner):
                        if keep((item, scope)) is True:
                            out.append([*path, i])
            return out

        return filter_
    if isinstance(sel, n.SelNested):
        base = _compile_selector(compiler, sel.base)
        nested = _compile_selector(compiler, sel.nested)

        def nested_(value: Any, scope: Scope) -> list[KeyPath]:
            out: list[KeyPath] = []
            for path in base(value, scope):
                inner = value_at(value, path)
                out.extend([*path, *inner_path] for inner_path in nested(inner, scope))
            return out

        return nested_
    test = compiler.compile(sel.expr, False, True).fn

    def anywhere(value: Any, scope: Scope) -> list[KeyPath]:
        out: list[KeyPath] = []
        _anywhere(test, value, scope, [], out)
        return out

    return anywhere


def _anywhere(
    test: Callable[[Scope], Any], value: Any, parent: Scope, base: KeyPath, out: list[KeyPath]
) -> None:
    if type(value) is list:
        for i, item in enumerate(value):
            _anywhere(test, item, parent, [*base, i], out)
    elif type(value) is dict:
        if test((value, parent)) is True:
            out.append(base)
        for key, item in value.items():
            _anywhere(test, item, parent, [*base, key], out)


class _Missing:
    """JavaScript's `undefined`: what a missing key reads as, unequal to null."""

    def __repr__(self) -> str:
        return "undefined"


MISSING: Any = _Missing()


def _access(value: Any, part: str | int) -> Any:
    """JavaScript's `value[part]` for JSON values (MISSING for `undefined`)."""
    if type(value) is dict:
        return value.get(part if type(part) is str else str(part), MISSING)
    if type(value) is list or type(value) is str:
        index: int
        if isinstance(part, str):
            if part == "length":
                return len(value)
            if not part.isdigit() or (len(part) > 1 and part[0] == "0"):
                return MISSING
            index = int(part)
        else:
            index = part
        return value[index] if 0 <= index < len(value) else MISSING
    return MISSING


def _falsy(value: Any) -> bool:
    return (
        value is None
        or value is False
        or value == ""
        or (type(value) in (int, float) and value == 0)
    )


def value_at(value: Any, path: KeyPath) -> Any:
    """The value at a key path; like groq-js, the walk stops at the first falsy value."""
    current = value
    for part in path:
        current = _access(current, part)
        if _falsy(current):
            break
    return current


def deep_equal(a: Any, b: Any) -> bool:
    """Strict structural equality (JavaScript's `===` at the leaves: 1 is not true, null is
    not undefined)."""
    if a is MISSING or b is MISSING:
        return a is b
    if a is None or b is None:
        return a is None and b is None
    ta, tb = type(a), type(b)
    if ta is dict:
        return (
            tb is dict
            and len(a) == len(b)
            and all(key in b and deep_equal(item, b[key]) for key, item in a.items())
        )
    if ta is list:
        return (
            tb is list
            and len(a) == len(b)
            and all(deep_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    if ta is bool or tb is bool:
        return ta is tb and a is b
    return equal(a, b)


def _kind(value: Any) -> str:
    if value is None or value is MISSING:
        return "null"
    t = type(value)
    if t is bool:
        return "boolean"
    if t is int or t is float:
        return "number"
    if t is str:
        return "string"
    if t is list:
        return "array"
    if t is dict:
        return "object"
    return t.__name__


def _diff_key_paths(before: Any, after: Any) -> Iterator[KeyPath]:
    pending: deque[KeyPath] = deque([[]])
    while pending:
        path = pending.popleft()
        b = value_at(before, path)
        a = value_at(after, path)
        kind = _kind(a)
        if kind != _kind(b):
            yield path
        elif kind == "object":
            if not deep_equal(a, b):
                keys = list(dict.fromkeys([*a.keys(), *b.keys()]))
                pending.extend([*path, key] for key in keys)
        elif kind == "array":
            if len(a) != len(b):
                yield path
            elif not deep_equal(a, b):
                pending.extend([*path, i] for i in range(len(b)))
        elif not deep_equal(a, b):
            yield path


def _changed_any(before: Any, after: Any, selector: SelectorFn, scope: Scope) -> bool:
    before_paths = selector(before, scope)
    after_paths = selector(after, scope)
    if len(before_paths) != len(after_paths):
        return True
    for path in before_paths:
        for i, part in enumerate(path):
            if type(part) is int:
                before_array = value_at(before, path[:i])
                after_array = value_at(after, path[:i])
                if (
                    type(before_array) is not list
                    or type(after_array) is not list
                    or len(before_array) != len(after_array)
                ):
                    return True
        if not deep_equal(value_at(before, path), value_at(after, path)):
            return True
    return False


def _changed_only(before: Any, after: Any, selector: SelectorFn, scope: Scope) -> bool:
    selected = selector(before, scope)
    for diff_path in _diff_key_paths(before, after):
        if not any(
            len(diff_path) >= len(prefix) and diff_path[: len(prefix)] == prefix
            for prefix in selected
        ):
            return False
    return True
