"""Compile a parsed query into nested Python closures, once per evaluation.

Parameters and `now` are known at compile time, so they are folded in as constants (which
also decides `[$i]` brackets the way the spec's ConstantEvaluate does, turns `_id in $ids`
into a set lookup, and parses `dateTime($now)` once). Each closure takes a scope, a tuple
`(this, parent_scope)`; the tree is never walked again while documents are filtered.

Scopes follow the spec: filters, projections and order() terms evaluate in a nested scope
of each element. Mapping over an array (`items[].x`, `*[...]{...}`) uses a "hidden" scope
as groq-js does: the element is `@`, but scopes created inside it hang off the enclosing
scope, so `^` inside a mapped projection still means the value outside the array.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from cms_client.errors import QueryError
from cms_client.groq import nodes as n
from cms_client.groq import operators as ops
from cms_client.groq import traversal as t
from cms_client.groq.compiled import Compiled, Fn, Scope, attribute_path, constant, fold
from cms_client.groq.errors import invalid
from cms_client.groq.functions import compile_call
from cms_client.groq.source import DocumentSource
from cms_client.groq.text import compile_match, score
from cms_client.groq.values import number, total_order_key


class Compiler:
    def __init__(
        self,
        query: str,
        source: DocumentSource,
        params: dict[str, Any],
        now: datetime,
        identity: str = "me",
    ) -> None:
        self.query = query
        self.identity = identity
        self.source = source
        self.params = params
        self.now = now
        #: True once something that makes datetimes or paths was compiled, so the result
        #: needs converting to JSON.
        self.makes_special_values = False
        self._documents: dict[frozenset[str] | None, list[dict[str, Any]]] = {}
        self._by_id: dict[str, dict[str, Any]] | None = None

    # Entry ----------------------------------------------------------------------------------

    def compile(self, node: n.Node, hidden: bool = False, loop: bool = False) -> Compiled:
        """`hidden`: the scope passed in is a mapping scope (see module docstring).
        `loop`: the code may run many times per evaluation (inside a filter, projection...)."""
        method = _DISPATCH.get(type(node))
        if method is None:
            raise AssertionError(f"no compiler for {type(node).__name__}")
        compiled = method(self, node, hidden, loop)
        if loop and not compiled.const and type(node) in _SUBQUERIES and _independent(node):
            # A subquery that reads nothing of its scope (`_id in *[...]._id` inside a
            # filter) has one value per evaluation: compute it once, not per element.
            return _once(compiled)
        return compiled

    def error(self, pos: int, message: str) -> QueryError:
        return invalid(self.query, pos, message)

    # Simple expressions ---------------------------------------------------------------------

    def _literal(self, node: n.Literal, hidden: bool, loop: bool) -> Compiled:
        return constant(node.value)

    def _param(self, node: n.Param, hidden: bool, loop: bool) -> Compiled:
        if node.name not in self.params:
            raise self.error(node.pos, f"parameter ${node.name} is not defined")
        return constant(self.params[node.name])

    def _identifier(self, node: n.Identifier, hidden: bool, loop: bool) -> Compiled:
        return attribute_path((node.name,))

    def _this(self, node: n.This, hidden: bool, loop: bool) -> Compiled:
        return Compiled(lambda s: s[0])

    def _parent(self, node: n.Parent, hidden: bool, loop: bool) -> Compiled:
        levels = node.levels

        def parent(s: Scope) -> Any:
            scope = s
            for _ in range(levels):
                scope = scope[1]
                if scope is None:
                    return None
            return scope[0]

        return Compiled(parent)

    def _group(self, node: n.Group, hidden: bool, loop: bool) -> Compiled:
        return self.compile(node.inner, hidden, loop)

    def _everything(self, node: n.Everything, hidden: bool, loop: bool) -> Compiled:
        def everything(s: Scope) -> Any:
            return self.documents(None, cache=loop)

        return Compiled(everything)

    def documents(self, type_names: frozenset[str] | None, *, cache: bool) -> list[Any]:
        """The dataset (or the part the type names allow); fetched once when `cache`."""
        if not cache:
            return list(self.source.documents(type_names))
        docs = self._documents.get(type_names)
        if docs is None:
            docs = list(self.source.documents(type_names))
            self._documents[type_names] = docs
        return docs

    def lookup(self, doc_id: str) -> dict[str, Any] | None:
        """The document `->` reaches: the one of `*` with this `_id` (groq-js: the first)."""
        if self._by_id is None:
            by_id: dict[str, dict[str, Any]] = {}
            for doc in self.documents(None, cache=True):
                if type(doc) is dict:
                    key = doc.get("_id")
                    if type(key) is str and key not in by_id:
                        by_id[key] = doc
            self._by_id = by_id
        return self._by_id.get(doc_id)

    def stream_documents(
        self, type_names: frozenset[str] | None, *, cache: bool
    ) -> Iterable[dict[str, Any]]:
        if not cache:
            return self.source.documents(type_names)
        return self.documents(type_names, cache=True)

    # Literals with structure ----------------------------------------------------------------

    def _array(self, node: n.ArrayLiteral, hidden: bool, loop: bool) -> Compiled:
        parts = [(self.compile(e.value, hidden, loop), e.spread) for e in node.elements]
        plan = [(part.fn, spread) for part, spread in parts]

        def array(s: Scope) -> list[Any]:
            out: list[Any] = []
            for fn, spread in plan:
                value = fn(s)
                if spread:
                    if type(value) is list:
                        out.extend(value)
                else:
                    out.append(value)
            return out

        return fold(array, *(part for part, _ in parts))

    def _object(self, node: n.ObjectLiteral, hidden: bool, loop: bool) -> Compiled:
        keyed: list[tuple[str, Compiled]] = []
        plan: list[tuple[int, Any, Fn | None]] = []
        pieces: list[Compiled] = []
        reads_this = False
        for entry in node.entries:
            if isinstance(entry, n.KeyValue):
                name, value = self._entry(entry, hidden, loop)
                keyed.append((name, value))
                plan.append((0, name, value.fn))
                pieces.append(value)
            elif isinstance(entry, n.Spread):
                if entry.value is None:
                    reads_this = True
                    plan.append((1, None, None))
                else:
                    spread = self.compile(entry.value, hidden, loop)
                    plan.append((1, None, spread.fn))
                    pieces.append(spread)
            else:
                condition = self.compile(entry.condition, hidden, loop)
                value = self.compile(entry.value, hidden, loop)
                plan.append((2, condition.fn, value.fn))
                pieces.extend((condition, value))

        if len(keyed) == len(plan):
            items = [(name, value.fn) for name, value in keyed]

            def simple_object(s: Scope) -> dict[str, Any]:
                return {name: fn(s) for name, fn in items}

            return fold(simple_object, *pieces)

        def object_(s: Scope) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for kind, first, second in plan:
                if kind == 0:
                    assert second is not None
                    out[first] = second(s)
                elif kind == 1:
                    merged = s[0] if second is None else second(s)
                    if type(merged) is dict:
                        out.update(merged)
                elif first(s) is True:
                    assert second is not None
                    merged = second(s)
                    if type(merged) is dict:
                        out.update(merged)
            return out

        if reads_this:
            return Compiled(object_)
        return fold(object_, *pieces)

    def _entry(self, entry: n.KeyValue, hidden: bool, loop: bool) -> tuple[str, Compiled]:
        if entry.name is not None:
            return entry.name, self.compile(entry.value, hidden, loop)
        value = entry.value
        if isinstance(value, n.Identifier):
            return value.name, self.compile(value, hidden, loop)
        if isinstance(value, n.Chain):
            resolved = self.resolve_chain(value, hidden, loop)
            name = t.implied_name(resolved)
            if name is not None:
                return name, self.compile_resolved(resolved, hidden, loop)
        # `{others[]-> | order(name)}` and `{(a)}` are named by what they start from.
        inner: n.Node = value
        while isinstance(inner, n.PipeCall | n.Group):
            inner = inner.base if isinstance(inner, n.PipeCall) else inner.inner
        if inner is not value and isinstance(inner, n.Identifier | n.Chain):
            name, _ = self._entry(n.KeyValue(None, inner), hidden, loop)
            return name, self.compile(value, hidden, loop)
        raise self.error(
            value.pos,
            'cannot tell the attribute name of this projection entry; write "name": <expression>',
        )

    # Operators ------------------------------------------------------------------------------

    def _unary(self, node: n.Unary, hidden: bool, loop: bool) -> Compiled:
        operand = self.compile(node.operand, hidden, loop)
        fn = operand.fn
        if node.op == "!":

            def not_(s: Scope) -> Any:
                value = fn(s)
                if value is True:
                    return False
                if value is False:
                    return True
                return None

            negated = fold(not_, operand)
            negated.boolean = operand.boolean and not negated.const
            return negated
        negate = node.op == "-"

        def sign(s: Scope) -> Any:
            value = fn(s)
            if type(value) is int or type(value) is float:
                return number(-value) if negate else value
            return None

        return fold(sign, operand)

    def _logical(self, node: n.Logical, hidden: bool, loop: bool) -> Compiled:
        operands = [self.compile(o, hidden, loop) for o in node.operands]
        if all(o.const for o in operands):
            return constant(_three_valued(node.op, [o.value for o in operands]))
        if node.op == "&&":
            return _conjunction(operands)
        fns = tuple(o.fn for o in operands)
        if all(o.boolean for o in operands):

            def any_true(s: Scope) -> bool:
                return any(fn(s) for fn in fns)

            return Compiled(any_true, boolean=True)

        def disjunction(s: Scope) -> Any:
            unknown = False
            for fn in fns:
                value = fn(s)
                if value is True:
                    return True
                if value is not False:
                    unknown = True
            return None if unknown else False

        return Compiled(disjunction)

    def _binary(self, node: n.Binary, hidden: bool, loop: bool) -> Compiled:
        op = node.op
        right_node = node.right
        if op == "in" and isinstance(right_node, n.Group) and isinstance(right_node.inner, n.Range):
            right_node = right_node.inner
        if op == "in" and isinstance(right_node, n.Range):
            return self._in_range(node, right_node, hidden, loop)
        left = self.compile(node.left, hidden, loop)
        right = self.compile(node.right, hidden, loop)
        if op in ("==", "!="):
            return ops.compile_equality(left, right, negate=op == "!=")
        if op in ("<", "<=", ">", ">="):
            return ops.compile_comparison(op, left, right)
        if op == "in":
            return ops.compile_in(left, right)
        if op == "match":
            return compile_match(left, right)
        return ops.compile_arithmetic(op, left, right)

    def _in_range(self, node: n.Binary, rng: n.Range, hidden: bool, loop: bool) -> Compiled:
        value = self.compile(node.left, hidden, loop)
        low = self.compile(rng.left, hidden, loop)
        high = self.compile(rng.right, hidden, loop)
        return ops.compile_in_range(value, low, high, inclusive=rng.inclusive)

    # Functions ------------------------------------------------------------------------------

    def _call(self, node: n.FuncCall, hidden: bool, loop: bool) -> Compiled:
        return compile_call(self, node, hidden, loop)

    def _pipe(self, node: n.PipeCall, hidden: bool, loop: bool) -> Compiled:
        base = self.compile(node.base, hidden, loop)
        if node.name == "score":
            return score(self, node, base, hidden)
        order_terms = [term for term in node.args if isinstance(term, n.OrderTerm)]
        terms = [
            (self.compile(term.value, False, True).fn, term.descending) for term in order_terms
        ]
        terms.reverse()
        base_fn = base.fn
        total_key = total_order_key

        def order(s: Scope) -> Any:
            items = base_fn(s)
            if type(items) is not list:
                return None
            parent = s[1] if hidden else s
            positions = list(range(len(items)))
            # Stable sorts from the last term to the first give the lexicographic order,
            # and keep the input order among equal elements.
            for fn, descending in terms:
                keys = [total_key(fn((item, parent))) for item in items]
                positions.sort(key=keys.__getitem__, reverse=descending)
            return [items[i] for i in positions]

        return Compiled(order)

    # Traversals -----------------------------------------------------------------------------

    def _chain(self, node: n.Chain, hidden: bool, loop: bool) -> Compiled:
        return self.compile_resolved(self.resolve_chain(node, hidden, loop), hidden, loop)

    def resolve_chain(self, node: n.Chain, hidden: bool, loop: bool) -> t.Resolved:
        partial: t.Partial | None = None
        for step in reversed(node.steps):
            kind, build = self._step(step)
            partial = t.combine(kind, build, partial)
        base = node.base
        if isinstance(base, n.Everything | n.ArrayLiteral | n.PipeCall):
            # An array-valued base behaves as if followed by `[]` (spec: `*._id` is `*[]._id`).
            partial = t.combine("array", lambda r: r, partial)
        assert partial is not None
        start: t.Resolved = (
            t.RAttr(t.RThis(), base.name) if isinstance(base, n.Identifier) else t.RNode(base)
        )
        return partial.build(start)

    def _step(self, step: n.Step) -> tuple[t.StepKind, t.Build]:
        if isinstance(step, n.DotStep):
            name = step.name
            return "plain", lambda r: t.RAttr(r, name)
        if isinstance(step, n.ArrayStep):
            return "array", t.RCoerce
        if isinstance(step, n.DerefStep):
            attribute = step.name
            if attribute is None:
                return "plain", t.RDeref
            return "plain", lambda r: t.RAttr(t.RDeref(r), attribute)
        if isinstance(step, n.ProjectionStep):
            body = step.body
            return "projection", lambda r: t.RProject(r, body)
        if isinstance(step, n.SliceStep):
            start = self._slice_bound(step.left)
            end = self._slice_bound(step.right)
            inclusive = step.inclusive
            return "array", lambda r: t.RSlice(r, start, end, inclusive)
        # `[expr]`: by the spec's square-bracket disambiguation, a constant string is an
        # attribute name, a constant number an index, anything else a filter.
        predicate = self.compile(step.expr, False, True)
        if predicate.const and _constant_expression(step.expr):
            value = predicate.value
            if type(value) is str:
                return "plain", lambda r: t.RAttr(r, value)
            if type(value) is int or type(value) is float:
                if value != int(value):
                    raise self.error(step.expr.pos, f"array index must be an integer, got {value}")
                index = int(value)
                return "element", lambda r: t.RElement(r, index)
        expr = step.expr
        return "array", lambda r: t.RFilter(r, expr, predicate)

    def _slice_bound(self, node: n.Node) -> int:
        bound = self.compile(node, False, False)
        value = bound.value
        if not bound.const or type(value) not in (int, float) or value != int(value):
            raise self.error(
                node.pos, "slice bounds must be integer constants (literals or parameters)"
            )
        return int(value)

    def compile_resolved(self, r: t.Resolved, hidden: bool, loop: bool) -> Compiled:
        if isinstance(r, t.RThis):
            return Compiled(lambda s: s[0])
        if isinstance(r, t.RNode):
            return self.compile(r.node, hidden, loop)
        if isinstance(r, t.RAttr):
            return self._r_attr(r, hidden, loop)
        if isinstance(r, t.RElement):
            return self._r_element(r, hidden, loop)
        if isinstance(r, t.RSlice):
            return self._r_slice(r, hidden, loop)
        if isinstance(r, t.RFilter):
            return self._r_filter(r, hidden, loop)
        if isinstance(r, t.RCoerce):
            base_fn = self.compile_resolved(r.base, hidden, loop)

            def coerce(s: Scope) -> Any:
                value = base_fn.fn(s)
                return value if type(value) is list else None

            return fold(coerce, base_fn)
        if isinstance(r, t.RProject):
            return self._r_project(r, hidden, loop)
        if isinstance(r, t.RDeref):
            base = self.compile_resolved(r.base, hidden, loop)
            base_deref = base.fn
            lookup = self.lookup

            def deref(s: Scope) -> Any:
                value = base_deref(s)
                if type(value) is not dict:
                    return None
                ref = value.get("_ref")
                return lookup(ref) if type(ref) is str else None

            return Compiled(deref)
        if isinstance(r, t.RMap | t.RFlatMap):
            return self._r_map(r, hidden, loop)
        raise AssertionError(f"unknown traversal {r!r}")

    def _r_attr(self, r: t.RAttr, hidden: bool, loop: bool) -> Compiled:
        path: list[str] = []
        cursor: t.Resolved = r
        while isinstance(cursor, t.RAttr):
            path.append(cursor.name)
            cursor = cursor.base
        if isinstance(cursor, t.RThis):
            return attribute_path(tuple(reversed(path)))
        base = self.compile_resolved(r.base, hidden, loop)
        base_fn = base.fn
        name = r.name

        def attr(s: Scope) -> Any:
            value = base_fn(s)
            return value.get(name) if type(value) is dict else None

        return fold(attr, base)

    def _r_element(self, r: t.RElement, hidden: bool, loop: bool) -> Compiled:
        base = self.compile_resolved(r.base, hidden, loop)
        base_fn = base.fn
        index = r.index

        def element(s: Scope) -> Any:
            value = base_fn(s)
            if type(value) is not list:
                return None
            i = index if index >= 0 else index + len(value)
            return value[i] if 0 <= i < len(value) else None

        return fold(element, base)

    def _r_slice(self, r: t.RSlice, hidden: bool, loop: bool) -> Compiled:
        base = self.compile_resolved(r.base, hidden, loop)
        base_fn = base.fn
        start, end, inclusive = r.start, r.end, r.inclusive

        def slice_(s: Scope) -> Any:
            value = base_fn(s)
            if type(value) is not list:
                return None
            length = len(value)
            left = start + length if start < 0 else start
            right = end + length if end < 0 else end
            if inclusive:
                right += 1
            return value[max(left, 0) : max(right, 0)]

        return fold(slice_, base)

    def _r_filter(self, r: t.RFilter, hidden: bool, loop: bool) -> Compiled:
        predicate = r.compiled
        assert isinstance(predicate, Compiled)
        keep = predicate.fn
        base = r.base
        if isinstance(base, t.RNode) and isinstance(base.node, n.Everything):
            type_names = self._type_names(r.predicate)

            def filter_documents(s: Scope) -> list[Any]:
                parent = s[1] if hidden else s
                docs = self.stream_documents(type_names, cache=loop)
                return [doc for doc in docs if keep((doc, parent)) is True]

            return Compiled(filter_documents)
        base_compiled = self.compile_resolved(base, hidden, loop)
        base_fn = base_compiled.fn

        def filter_(s: Scope) -> Any:
            value = base_fn(s)
            if type(value) is not list:
                # Spec EvaluateFilter: a non-array base is returned unchanged.
                return value
            parent = s[1] if hidden else s
            return [item for item in value if keep((item, parent)) is True]

        return Compiled(filter_)

    def _r_project(self, r: t.RProject, hidden: bool, loop: bool) -> Compiled:
        base = self.compile_resolved(r.base, hidden, loop)
        body = self._object(r.body, False, True).fn
        base_fn = base.fn

        def project(s: Scope) -> Any:
            value = base_fn(s)
            if type(value) is not dict:
                return None
            return body((value, s[1] if hidden else s))

        return Compiled(project)

    def _r_map(self, r: t.RMap | t.RFlatMap, hidden: bool, loop: bool) -> Compiled:
        base = self.compile_resolved(r.base, hidden, loop)
        base_fn = base.fn
        flatten = isinstance(r, t.RFlatMap)
        expr = r.expr
        if not flatten and isinstance(expr, t.RProject) and isinstance(expr.base, t.RThis):
            # `*[...]{...}`: project each element directly; the projection's scope hangs
            # off the enclosing scope, exactly as through the hidden mapping scope.
            body = self._object(expr.body, False, True).fn

            def map_project(s: Scope) -> Any:
                items = base_fn(s)
                if type(items) is not list:
                    return None
                parent = s[1] if hidden else s
                return [body((x, parent)) if type(x) is dict else None for x in items]

            return Compiled(map_project)
        inner = self.compile_resolved(expr, True, True).fn

        if not flatten:

            def map_(s: Scope) -> Any:
                items = base_fn(s)
                if type(items) is not list:
                    return None
                parent = s[1] if hidden else s
                return [inner((x, parent)) for x in items]

            return fold(map_, base) if _is_pure_this_path(expr) else Compiled(map_)

        def flat_map(s: Scope) -> Any:
            items = base_fn(s)
            if type(items) is not list:
                return None
            parent = s[1] if hidden else s
            out: list[Any] = []
            for x in items:
                value = inner((x, parent))
                if type(value) is list:
                    out.extend(value)
                else:
                    out.append(value)
            return out

        return fold(flat_map, base) if _is_pure_this_path(expr) else Compiled(flat_map)

    # Type hints for the source ------------------------------------------------------------

    def _type_names(self, predicate: n.Node) -> frozenset[str] | None:
        """Type names a document must have to pass `predicate`, if a conjunct says so."""
        names: frozenset[str] | None = None
        for conjunct in _conjuncts(predicate):
            found = self._conjunct_type_names(conjunct)
            if found is not None:
                names = found if names is None else names & found
        return names

    def _conjunct_type_names(self, node: n.Node) -> frozenset[str] | None:
        if not isinstance(node, n.Binary):
            return None
        other: n.Node
        if node.op == "==":
            if _is_type_attribute(node.left):
                other = node.right
            elif _is_type_attribute(node.right):
                other = node.left
            else:
                return None
            value = self.compile(other, False, True)
            if value.const and type(value.value) is str:
                return frozenset((value.value,))
            return None
        if (
            node.op == "in"
            and _is_type_attribute(node.left)
            and not isinstance(node.right, n.Range)
        ):
            value = self.compile(node.right, False, True)
            if (
                value.const
                and type(value.value) is list
                and all(type(v) is str for v in value.value)
            ):
                return frozenset(value.value)
        return None


def _constant_expression(node: n.Node) -> bool:
    """What the square-bracket rule treats as constant (as groq-js does): literals,
    parameters and arithmetic over them; a function call such as now() is a filter."""
    if isinstance(node, n.Literal | n.Param):
        return True
    if isinstance(node, n.Group):
        return _constant_expression(node.inner)
    if isinstance(node, n.Unary) and node.op in ("-", "+"):
        return _constant_expression(node.operand)
    if isinstance(node, n.Binary) and node.op in ("+", "-", "*", "/", "%", "**"):
        return _constant_expression(node.left) and _constant_expression(node.right)
    return False


_SUBQUERIES = (n.Chain, n.PipeCall, n.FuncCall)
# Functions that read the scope's value without naming it.
_READS_THIS = frozenset(
    {("global", "references"), ("sanity", "versionOf"), ("sanity", "partOfRelease")}
)


def _independent(node: n.Node) -> bool:
    """True when `node` reads `*` and nothing of the scope it is evaluated in."""
    found = [False]
    return _free(node, 0, found) and found[0]


def _free(node: object, depth: int, found: list[bool]) -> bool:
    """No read of the scope at nesting `depth` 0 (this, attributes, `^` reaching it)."""
    if isinstance(node, n.Everything):
        found[0] = True
        return True
    if isinstance(node, n.This | n.Identifier):
        return depth > 0
    if isinstance(node, n.Parent):
        return node.levels < depth
    if isinstance(node, n.FuncCall) and (node.namespace, node.name) in _READS_THIS and depth == 0:
        return False
    if isinstance(node, n.Selector):
        return False
    if isinstance(node, n.Chain):
        if not _free(node.base, depth, found):
            return False
        # Steps after the base work on its value; only their expressions open scopes.
        return all(_free_step(step, depth, found) for step in node.steps)
    if isinstance(node, n.PipeCall):
        return _free(node.base, depth, found) and all(
            _free(arg, depth + 1, found) for arg in node.args
        )
    if isinstance(node, tuple):
        return all(_free(item, depth, found) for item in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return all(
            _free(getattr(node, spec.name), depth, found) for spec in dataclasses.fields(node)
        )
    return True


def _free_step(step: n.Step, depth: int, found: list[bool]) -> bool:
    if isinstance(step, n.BracketStep):
        return _free(step.expr, depth + 1, found)
    if isinstance(step, n.ProjectionStep):
        return _free(step.body, depth + 1, found)
    if isinstance(step, n.SliceStep):
        return _free(step.left, depth, found) and _free(step.right, depth, found)
    return True


def _once(compiled: Compiled) -> Compiled:
    fn = compiled.fn
    cache: list[Any] = []

    def once(s: Scope) -> Any:
        if not cache:
            cache.append(fn(s))
        return cache[0]

    return Compiled(once, boolean=compiled.boolean)


def _three_valued(op: str, values: list[Any]) -> bool | None:
    """Spec And/Or: decided by a false (`&&`) or true (`||`) operand, null if any operand
    is not a boolean, else the other boolean."""
    decisive = op == "||"
    if any(value is decisive for value in values):
        return decisive
    if all(type(value) is bool for value in values):
        return not decisive
    return None


def _conjunction(operands: list[Compiled]) -> Compiled:
    # `&&` has no side effects to order, so the cheap `attr == "string"` tests run first,
    # all on one dictionary lookup of the scope's value.
    pairs = tuple(o.equals for o in operands if o.equals is not None)
    rest = tuple(o.fn for o in operands if o.equals is None)
    if all(o.boolean for o in operands):
        if not pairs and len(rest) == 2:
            first, second = rest

            def both(s: Scope) -> bool:
                return first(s) is True and second(s) is True

            return Compiled(both, boolean=True)

        def all_true(s: Scope) -> bool:
            if pairs:
                this = s[0]
                if type(this) is not dict:
                    return False
                for name, wanted in pairs:
                    if this.get(name) != wanted:
                        return False
            return all(fn(s) for fn in rest)

        return Compiled(all_true, boolean=True)

    def conjunction(s: Scope) -> Any:
        if pairs:
            this = s[0]
            if type(this) is not dict:
                return False
            for name, wanted in pairs:
                if this.get(name) != wanted:
                    return False
        unknown = False
        for fn in rest:
            value = fn(s)
            if value is False:
                return False
            if value is not True:
                unknown = True
        return None if unknown else True

    return Compiled(conjunction)


def _conjuncts(node: n.Node) -> list[n.Node]:
    while isinstance(node, n.Group):
        node = node.inner
    if isinstance(node, n.Logical) and node.op == "&&":
        out: list[n.Node] = []
        for operand in node.operands:
            out.extend(_conjuncts(operand))
        return out
    return [node]


def _is_type_attribute(node: n.Node) -> bool:
    while isinstance(node, n.Group):
        node = node.inner
    return isinstance(node, n.Identifier) and node.name == "_type"


def _is_pure_this_path(expr: t.Resolved) -> bool:
    """A mapped expression that only reads attributes of the element (foldable)."""
    while isinstance(expr, t.RAttr):
        expr = expr.base
    return isinstance(expr, t.RThis)


_DISPATCH: dict[type, Callable[[Compiler, Any, bool, bool], Compiled]] = {
    n.Literal: Compiler._literal,
    n.Param: Compiler._param,
    n.Identifier: Compiler._identifier,
    n.This: Compiler._this,
    n.Parent: Compiler._parent,
    n.Group: Compiler._group,
    n.Everything: Compiler._everything,
    n.ArrayLiteral: Compiler._array,
    n.ObjectLiteral: Compiler._object,
    n.Unary: Compiler._unary,
    n.Logical: Compiler._logical,
    n.Binary: Compiler._binary,
    n.FuncCall: Compiler._call,
    n.PipeCall: Compiler._pipe,
    n.Chain: Compiler._chain,
}
