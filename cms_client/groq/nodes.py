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
class OrderTerm(Node):
    value: Node
    descending: bool


@dataclass(frozen=True, slots=True)
class PipeCall(Node):
    """`base | order(...)`, the only pipe function of the subset."""

    base: Node
    name: str
    args: tuple[OrderTerm, ...]


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "!", "-" or "+"
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str  # "==", "!=", "<", "<=", ">", ">=", "in", "+", "-", "*", "/", "%", "**"
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
class ArrayStep:
    """`[]`."""

    pos: int


@dataclass(frozen=True, slots=True)
class ProjectionStep:
    pos: int
    body: ObjectLiteral


Step = DotStep | BracketStep | SliceStep | ArrayStep | ProjectionStep


@dataclass(frozen=True, slots=True)
class Chain(Node):
    base: Node
    steps: tuple[Step, ...] = field(default=())
