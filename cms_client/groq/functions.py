"""GROQ's functions (spec "Functions", and the namespaces groq-js implements); the parser
checked the arity. Semantics follow groq-js where the spec is silent."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from cms_client.groq import nodes as n
from cms_client.groq.compiled import Compiled, Scope, constant, fold
from cms_client.groq.diff import compile_diff
from cms_client.groq.values import (
    GroqPath,
    equal,
    format_datetime,
    js_string,
    number,
    parse_datetime,
)

if TYPE_CHECKING:
    from cms_client.groq.compiler import Compiler


def compile_call(compiler: Compiler, node: n.FuncCall, hidden: bool, loop: bool) -> Compiled:
    key = (node.namespace, node.name)
    if key == ("global", "select"):
        return _select(compiler, node, hidden, loop)
    if key == ("global", "boost"):
        raise compiler.error(node.pos, "boost() is only allowed as a term of score(...)")
    if key == ("global", "identity"):
        return constant(compiler.identity)
    if key == ("delta", "operation"):
        # Outside delta mode (a listener's filter) there is no before or after.
        return constant(None)
    if key == ("releases", "all"):
        return _releases(compiler, loop)
    if key in (("diff", "changedAny"), ("diff", "changedOnly")):
        return compile_diff(compiler, node, hidden, loop)
    if key == ("global", "now"):
        return constant(format_datetime(compiler.now))
    if key == ("dateTime", "now"):
        compiler.makes_special_values = True
        return constant(compiler.now)
    args = [compiler.compile(arg, hidden, loop) for arg in node.args]
    if key == ("global", "references"):
        return _references(args)
    if key in (("sanity", "versionOf"), ("sanity", "partOfRelease")):
        return _version_test(args[0], key[1] == "versionOf")
    binary = _BINARY.get(key)
    if binary is not None:
        first_fn, second_fn = args[0].fn, args[1].fn

        def call2(s: Scope) -> Any:
            return binary(first_fn(s), second_fn(s))

        return fold(call2, *args)
    if key == ("global", "round"):
        value_fn = args[0].fn
        precision_fn = args[1].fn if len(args) > 1 else None

        def round_(s: Scope) -> Any:
            return round_number(value_fn(s), precision_fn(s) if precision_fn else 0)

        return fold(round_, *args)
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


def _length(value: Any) -> Any:
    if type(value) is str or type(value) is list:
        return len(value)
    return None


def _string(value: Any) -> Any:
    if type(value) is str:
        return value
    if type(value) is bool or type(value) in (int, float) or type(value) is datetime:
        return js_string(value)
    return None


def _compact(value: Any) -> Any:
    if type(value) is not list:
        return None
    return [item for item in value if item is not None]


def _unique(value: Any) -> Any:
    if type(value) is not list:
        return None
    seen: set[tuple[str, Any]] = set()
    out: list[Any] = []
    for item in value:
        t = type(item)
        if item is None or t in (str, bool, int, float, datetime):
            # Spec equality: 1 and 1.0 are one value, true and 1 are two; arrays and
            # objects equal nothing, so each is kept.
            key = (_KINDS.get(t, "x"), item)
            if key in seen:
                continue
            seen.add(key)
        out.append(item)
    return out


_KINDS = {bool: "b", int: "n", float: "n", str: "s", datetime: "d"}


def _reducer(kind: str) -> Callable[[Any], Any]:
    def reduce(value: Any) -> Any:
        if type(value) is not list:
            return None
        numbers: list[int | float] = []
        for item in value:
            if item is None:
                continue
            if type(item) not in (int, float):
                return None
            numbers.append(item)
        if kind == "sum":
            total: int | float = 0
            for item in numbers:
                total = total + item
            return number(total)
        if not numbers:
            return None
        if kind == "min":
            return min(numbers)
        if kind == "max":
            return max(numbers)
        total = 0
        for item in numbers:
            total = total + item
        return number(total / len(numbers))

    return reduce


def _portable_text(value: Any) -> Any:
    if type(value) is dict:
        return _block_text(value)
    if type(value) is list:
        texts: list[str] = []
        _array_text(value, texts)
        if texts:
            return "\n\n".join(texts)
    return None


def _array_text(value: list[Any], out: list[str]) -> None:
    for block in value:
        if type(block) is list:
            _array_text(block, out)
        elif type(block) is dict:
            text = _block_text(block)
            if text is not None:
                out.append(text)


def _block_text(block: dict[str, Any]) -> str | None:
    if type(block.get("_type")) is not str:
        return None
    children = block.get("children")
    if type(children) is not list:
        return None
    parts = [
        child["text"]
        for child in children
        if type(child) is dict and child.get("_type") == "span" and type(child.get("text")) is str
    ]
    return "".join(parts)


_UNARY: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("global", "count"): _count,
    ("global", "defined"): _defined,
    ("global", "dateTime"): _date_time,
    ("global", "path"): _path,
    ("global", "lower"): _lower,
    ("global", "upper"): _upper,
    ("string", "lower"): _lower,
    ("string", "upper"): _upper,
    ("global", "length"): _length,
    ("global", "string"): _string,
    ("array", "compact"): _compact,
    ("array", "unique"): _unique,
    ("math", "min"): _reducer("min"),
    ("math", "max"): _reducer("max"),
    ("math", "sum"): _reducer("sum"),
    ("math", "avg"): _reducer("avg"),
    ("pt", "text"): _portable_text,
}


def _split(text: Any, separator: Any) -> Any:
    if type(text) is not str or type(separator) is not str:
        return None
    if not text:
        return []
    if not separator:
        return list(text)
    return text.split(separator)


def _join(items: Any, separator: Any) -> Any:
    if type(items) is not list or type(separator) is not str:
        return None
    parts: list[str] = []
    for item in items:
        t = type(item)
        if t is str:
            parts.append(item)
        elif t is bool or t is int or t is float or t is datetime:
            parts.append(js_string(item))
        else:
            return None
    return separator.join(parts)


def _intersects(first: Any, second: Any) -> Any:
    if type(first) is not list or type(second) is not list:
        return None
    return any(equal(a, b) for a in first for b in second)


def _starts_with(text: Any, prefix: Any) -> Any:
    if type(text) is str and type(prefix) is str:
        return text.startswith(prefix)
    return None


_BINARY: dict[tuple[str, str], Callable[[Any, Any], Any]] = {
    ("string", "split"): _split,
    ("string", "startsWith"): _starts_with,
    ("array", "join"): _join,
    ("array", "intersects"): _intersects,
}


def round_number(value: Any, precision: Any) -> Any:
    """groq-js's round(): halves away from zero; with a precision, JavaScript's toFixed on
    the double's exact decimal value."""
    if type(value) not in (int, float):
        return None
    if type(precision) not in (int, float) or precision < 0 or precision != int(precision):
        return None
    if type(value) is int:
        return value
    if precision == 0:
        magnitude = abs(value)
        floor = math.floor(magnitude)
        rounded = floor + 1 if magnitude - floor >= 0.5 else floor
        return number(float(-rounded if value < 0 else rounded))
    if abs(value) >= 1e21:
        return number(value)
    exact = Decimal(value).quantize(Decimal(1).scaleb(-int(precision)), rounding=ROUND_HALF_UP)
    return number(float(exact))


def _releases(compiler: Compiler, loop: bool) -> Compiled:
    def releases(s: Scope) -> Any:
        return [
            doc
            for doc in compiler.documents(None, cache=loop)
            if type(doc) is dict and doc.get("_type") == "system.release"
        ]

    return Compiled(releases)


def _version_test(arg: Compiled, version_of: bool) -> Compiled:
    """sanity::versionOf(id) / sanity::partOfRelease(name), about the scope's document."""
    arg_fn = arg.fn

    def test(s: Scope) -> Any:
        wanted = arg_fn(s)
        if type(wanted) is not str:
            return None
        this = s[0]
        if type(this) is not dict or type(this.get("_id")) is not str:
            return None
        doc_id: str = this["_id"]
        parts = doc_id.split(".")
        if not version_of:
            return len(parts) >= 3 and parts[0] == "versions" and parts[1] == wanted
        if doc_id == wanted:
            return True
        return (len(parts) >= 2 and parts[0] == "drafts" and ".".join(parts[1:]) == wanted) or (
            len(parts) >= 3 and parts[0] == "versions" and ".".join(parts[2:]) == wanted
        )

    return Compiled(test)


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
