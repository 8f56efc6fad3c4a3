"""The syntax tree the parser builds. Every node keeps the offset where it starts.

Traversals (`.a`, `[...]`, `[]`, `{...}`) are kept as a flat list on a `Chain`: whether a
bracket is an attribute, an index or a filter can depend on parameter values (`[$i]`), so
the compiler resolves the chain once the parameters are known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Node:
    pos: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: Any


@dataclass(frozen=True, slots=True)
class ArrayElement:
    value: Node
    spread: bool


@dataclass(frozen=True, slots=True)
class ArrayLiteral(Node):
    elements: tuple[ArrayElement, ...]


@dataclass(frozen=True, slots=True)
class KeyValue:
    """`"name": expr`, or a bare `expr` whose name comes from the expression (`name=None`)."""

    name: str | None
    value: Node


@dataclass(frozen=True, slots=True)
class Spread:
    """`...` (this value) or `...expr`."""

    value: Node | None


@dataclass(frozen=True, slots=True)
class ConditionalSpread:
    """`condition => {...}`: merge the object when the condition is true."""

    condition: Node
    value: Node


ObjectEntry = KeyValue | Spread | ConditionalSpread


@dataclass(frozen=True, slots=True)
class ObjectLiteral(Node):
    entries: tuple[ObjectEntry, ...]


@dataclass(frozen=True, slots=True)
class Everything(Node):
    pass


@dataclass(frozen=True, slots=True)
class This(Node):
    pass


@dataclass(frozen=True, slots=True)
class Parent(Node):
    levels: int


@dataclass(frozen=True, slots=True)
class Param(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Identifier(Node):
    """A bare name: an attribute of the current scope's value."""

    name: str


@dataclass(frozen=True, slots=True)
class Group(Node):
    inner: Node


@dataclass(frozen=True, slots=True)
class Pair(Node):
    """`condition => value`, only inside `select()`."""

    condition: Node
    value: Node


@dataclass(frozen=True, slots=True)
class FuncCall(Node):
    namespace: str
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class CustomCall(Node):
    """A call of a `fn` declared in the query; the parser replaces it by the body."""

    namespace: str
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class OrderTerm(Node):
    value: Node
    descending: bool


@dataclass(frozen=True, slots=True)
class Direction(Node):
    """`expr asc` / `expr desc`: only meaningful as a top-level order() argument."""

    inner: Node
    descending: bool


@dataclass(frozen=True, slots=True)
class PipeCall(Node):
    """`base | order(...)` (args are `OrderTerm`s) or `base | score(...)`."""

    base: Node
    name: str
    args: tuple[Node, ...]


# Selectors: the third argument of diff::changedAny / diff::changedOnly ---------------------


@dataclass(frozen=True, slots=True)
class SelAttr:
    base: Sel | None
    name: str


@dataclass(frozen=True, slots=True)
class SelCoerce:
    """`sel[]`: every element of the selected arrays."""

    base: Sel


@dataclass(frozen=True, slots=True)
class SelFilter:
    base: Sel
    expr: Node


@dataclass(frozen=True, slots=True)
class SelNested:
    """`sel.(a, b)` / `sel.(a)`: selectors applied inside each selected value."""

    base: Sel
    nested: Sel


@dataclass(frozen=True, slots=True)
class SelTuple:
    members: tuple[Sel, ...]


@dataclass(frozen=True, slots=True)
class SelAnywhere:
    """`anywhere(expr)`: every object (at any depth) for which `expr` is true."""

    expr: Node


Sel = SelAttr | SelCoerce | SelFilter | SelNested | SelTuple | SelAnywhere


@dataclass(frozen=True, slots=True)
class Selector(Node):
    selector: Sel


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "!", "-" or "+"
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str  # "==", "!=", "<", "<=", ">", ">=", "in", "match", "+", "-", "*", "/", "%", "**"
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Logical(Node):
    """`&&` or `||` over two or more operands (flattened, left to right)."""

    op: str
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Range(Node):
    """`a..b` (inclusive) or `a...b` (exclusive); only right of `in` or inside brackets."""

    left: Node
    right: Node
    inclusive: bool


# Traversal steps of a Chain -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DotStep:
    pos: int
    name: str


@dataclass(frozen=True, slots=True)
class BracketStep:
    """`[expr]`: attribute access, element access or filter, decided by the constant value."""

    pos: int
    expr: Node


@dataclass(frozen=True, slots=True)
class SliceStep:
    pos: int
    left: Node
    right: Node
    inclusive: bool


@dataclass(frozen=True, slots=True)
class DerefStep:
    """`->` (the referenced document) or `->name` (an attribute of it)."""

    pos: int
    name: str | None


@dataclass(frozen=True, slots=True)
class ArrayStep:
    """`[]`."""

    pos: int


@dataclass(frozen=True, slots=True)
class ProjectionStep:
    pos: int
    body: ObjectLiteral


Step = DotStep | BracketStep | SliceStep | ArrayStep | ProjectionStep | DerefStep


@dataclass(frozen=True, slots=True)
class Chain(Node):
    base: Node
    steps: tuple[Step, ...] = field(default=())
