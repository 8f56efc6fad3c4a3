"""Pratt parser from GROQ text to the syntax tree of `nodes`.

Precedence follows the spec (highest first): traversals and pipes; prefix `+`/`!`; `**`
(right-associative); prefix `-`; `* / %`; `+ -`; ranges; comparisons and `in`; `&&`; `||`.
Constructs outside the supported subset are refused here, with their position, so a query
never reaches evaluation with a meaning this engine does not implement.
"""

from __future__ import annotations

import dataclasses
import re

from cms_client.errors import QueryError
from cms_client.groq import nodes as n
from cms_client.groq.errors import invalid, syntax_error, unsupported
from cms_client.groq.lexer import Token, tokenize

# Binding powers: level L of the spec's precedence table gives a left power of 2L.
_OR, _AND, _COMPARE, _RANGE, _ADD, _MUL, _NEG, _POW, _NOT = 4, 6, 8, 10, 12, 14, 16, 18, 20
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})

#: (namespace, name) -> (min args, max args or None for any number).
SUPPORTED_FUNCTIONS: dict[tuple[str, str], tuple[int, int | None]] = {
    ("global", "count"): (1, 1),
    ("global", "defined"): (1, 1),
    ("global", "coalesce"): (0, None),
    ("global", "select"): (0, None),
    ("global", "dateTime"): (1, 1),
    ("global", "now"): (0, 0),
    ("global", "path"): (1, 1),
    ("global", "lower"): (1, 1),
    ("global", "upper"): (1, 1),
    ("global", "references"): (1, None),
    ("dateTime", "now"): (0, 0),
    ("string", "startsWith"): (2, 2),
}
# Real GROQ functions this engine deliberately does not answer (named as such in errors).
_KNOWN_UNSUPPORTED_GLOBALS = frozenset(
    {"after", "before", "operation", "boost", "score", "identity", "length", "round", "string"}
)
# `fn ns::name($a) = ...;` before the query (checked before tokenizing, which would stop at `=`).
_FUNCTION_DECLARATION = re.compile(r"(?:\s|//[^\n]*(?:\n|\Z))*(fn)\s+[A-Za-z_]\w*\s*::")
_KNOWN_NAMESPACES = frozenset(
    {
        "global",
        "dateTime",
        "string",
        "array",
        "math",
        "pt",
        "geo",
        "delta",
        "diff",
        "sanity",
        "text",
        "releases",
        "documents",
        "user",
    }
)


def parse_expression(query: str) -> n.Node:
    declaration = _FUNCTION_DECLARATION.match(query)
    if declaration is not None:
        raise unsupported(query, declaration.start(1), "fn", "custom function declaration")
    parser = _Parser(query)
    tree = parser.parse_query()
    _check_ranges(query, tree, allowed=False)
    return tree


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = tokenize(query)
        self.index = 0

    # Token helpers ------------------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def at(self, punct: str) -> bool:
        token = self.token
        return token.kind == "punct" and token.text == punct

    def at_word(self, word: str) -> bool:
        token = self.token
        return token.kind == "ident" and token.text == word

    def expect(self, punct: str, context: str) -> Token:
        if self.at(punct):
            return self.advance()
        raise self.error_expected(f"'{punct}' {context}")

    def error_expected(self, what: str) -> QueryError:
        token = self.token
        if token.kind == "ident" and token.text in ("asc", "desc"):
            return invalid(
                self.query, token.pos, f"'{token.text}' is only allowed inside order(...)"
            )
        if token.kind == "punct" and token.text == "=>":
            return invalid(
                self.query,
                token.pos,
                "'=>' is only allowed inside select(...) or as an object conditional",
            )
        return syntax_error(self.query, token.pos, f"expected {what}, found {token.describe()}")

    # Grammar --------------------------------------------------------------------------------

    def parse_query(self) -> n.Node:
        token = self.token
        if token.kind == "eof":
            raise syntax_error(self.query, token.pos, "the query is empty")
        tree = self.parse_expr(0)
        if self.token.kind != "eof":
            raise self.error_expected("an operator or the end of the query")
        return tree

    def parse_expr(self, min_power: int) -> n.Node:
        left = self.parse_prefix()
        while True:
            token = self.token
            op = token.text
            if token.kind == "punct":
                if op == "||" and min_power <= _OR:
                    left = self.parse_logical("||", left, _OR)
                    continue
                if op == "&&" and min_power <= _AND:
                    left = self.parse_logical("&&", left, _AND)
                    continue
                if op in _COMPARISONS and min_power <= _COMPARE:
                    self.advance()
                    right = self.parse_expr(_COMPARE + 1)
                    left = n.Binary(token.pos, op, left, right)
                    self.refuse_chained_comparison()
                    continue
                if op in ("..", "...") and min_power <= _RANGE:
                    self.advance()
                    right = self.parse_expr(_RANGE + 1)
                    left = n.Range(token.pos, left, right, inclusive=op == "..")
                    if self.at("..") or self.at("..."):
                        raise syntax_error(self.query, self.token.pos, "ranges cannot be chained")
                    continue
                if op in ("+", "-") and min_power <= _ADD:
                    self.advance()
                    left = n.Binary(token.pos, op, left, self.parse_expr(_ADD + 1))
                    continue
                if op in ("*", "/", "%") and min_power <= _MUL:
                    self.advance()
                    left = n.Binary(token.pos, op, left, self.parse_expr(_MUL + 1))
                    continue
                if op == "**" and min_power <= _POW:
                    self.advance()
                    left = n.Binary(token.pos, op, left, self.parse_expr(_POW))
                    continue
            elif token.kind == "ident":
                if op == "in" and min_power <= _COMPARE:
                    self.advance()
                    right = self.parse_expr(_COMPARE + 1)
                    left = n.Binary(token.pos, "in", left, right)
                    self.refuse_chained_comparison()
                    continue
                if op == "match":
                    raise unsupported(self.query, token.pos, "match", "text search")
            return left

    def refuse_chained_comparison(self) -> None:
        token = self.token
        if (token.kind == "punct" and token.text in _COMPARISONS) or (
            token.kind == "ident" and token.text in ("in", "match")
        ):
            raise syntax_error(
                self.query,
                token.pos,
                f"comparison operators cannot be chained; add parentheses before '{token.text}'",
            )

    def parse_logical(self, op: str, first: n.Node, power: int) -> n.Node:
        operands = [first]
        pos = self.token.pos
        while self.at(op):
            self.advance()
            operands.append(self.parse_expr(power + 1))
        return n.Logical(pos, op, tuple(operands))

    def parse_prefix(self) -> n.Node:
        token = self.token
        if token.kind == "punct":
            if token.text == "!":
                self.advance()
                return n.Unary(token.pos, "!", self.parse_expr(_NOT))
            if token.text == "+":
                self.advance()
                return n.Unary(token.pos, "+", self.parse_expr(_NOT))
            if token.text == "-":
                self.advance()
                return n.Unary(token.pos, "-", self.parse_expr(_NEG))
        return self.parse_traversals(self.parse_primary())

    def parse_primary(self) -> n.Node:
        token = self.token
        kind, text, pos = token.kind, token.text, token.pos
        if kind == "eof" or (kind == "punct" and text not in ("*", "@", "^", "(", "[", "{")):
            raise self.error_expected("an expression")
        self.advance()
        if kind in ("num", "str"):
            return n.Literal(pos, token.value)
        if kind == "param":
            return n.Param(pos, str(token.value))
        if kind == "ident":
            if text == "true":
                return n.Literal(pos, True)
            if text == "false":
                return n.Literal(pos, False)
            if text == "null":
                return n.Literal(pos, None)
            if self.at("::"):
                self.advance()
                name = self.token
                if name.kind != "ident":
                    raise self.error_expected(f"a function name after '{text}::'")
                self.advance()
                if not self.at("("):
                    raise self.error_expected(f"'(' to call {text}::{name.text}")
                return self.parse_call(text, name.text, pos)
            if self.at("("):
                return self.parse_call("global", text, pos)
            return n.Identifier(pos, text)
        if kind == "punct":
            if text == "*":
                return n.Everything(pos)
            if text == "@":
                return n.This(pos)
            if text == "^":
                levels = 1
                while self.at(".") and self.peek().kind == "punct" and self.peek().text == "^":
                    self.advance()
                    self.advance()
                    levels += 1
                return n.Parent(pos, levels)
            if text == "(":
                inner = self.parse_expr(0)
                if self.at(","):
                    raise unsupported(self.query, self.token.pos, "(a, b)", "tuple")
                self.expect(")", f"to close the '(' at position {pos}")
                return n.Group(pos, inner)
            if text == "[":
                return self.parse_array(pos)
            if text == "{":
                return self.parse_object(pos)
        raise AssertionError(f"unhandled token {token!r}")

    def parse_array(self, pos: int) -> n.ArrayLiteral:
        elements: list[n.ArrayElement] = []
        while not self.at("]"):
            spread = False
            if self.at("..."):
                self.advance()
                spread = True
            elements.append(n.ArrayElement(self.parse_expr(0), spread))
            if not self.at(","):
                break
            self.advance()
        self.expect("]", f"to close the array opened at position {pos}")
        return n.ArrayLiteral(pos, tuple(elements))

    def parse_object(self, pos: int) -> n.ObjectLiteral:
        entries: list[n.ObjectEntry] = []
        while not self.at("}"):
            if self.at("..."):
                self.advance()
                if self.at(",") or self.at("}"):
                    entries.append(n.Spread(None))
                else:
                    entries.append(n.Spread(self.parse_expr(0)))
            else:
                start = self.token
                value = self.parse_expr(0)
                if self.at(":"):
                    if not (isinstance(value, n.Literal) and isinstance(value.value, str)):
                        raise syntax_error(
                            self.query, start.pos, "object keys must be string literals"
                        )
                    self.advance()
                    entries.append(n.KeyValue(value.value, self.parse_expr(0)))
                elif self.at("=>"):
                    self.advance()
                    entries.append(n.ConditionalSpread(value, self.parse_expr(0)))
                else:
                    entries.append(n.KeyValue(None, value))
            if not self.at(","):
                break
            self.advance()
        self.expect("}", f"to close the object opened at position {pos}")
        return n.ObjectLiteral(pos, tuple(entries))

    def parse_call(self, namespace: str, name: str, pos: int) -> n.Node:
        key = (namespace, name)
        if key not in SUPPORTED_FUNCTIONS:
            self.refuse_function(namespace, name, pos)
        open_paren = self.expect("(", "to start the arguments")
        args: list[n.Node] = []
        while not self.at(")"):
            arg = self.parse_expr(0)
            if self.at("=>"):
                if key != ("global", "select"):
                    raise self.error_expected("',' or ')'")
                arrow = self.advance()
                arg = n.Pair(arrow.pos, arg, self.parse_expr(0))
            args.append(arg)
            if not self.at(","):
                break
            self.advance()
        self.expect(")", f"to close the arguments opened at position {open_paren.pos}")
        low, high = SUPPORTED_FUNCTIONS[key]
        label = name if namespace == "global" else f"{namespace}::{name}"
        if len(args) < low or (high is not None and len(args) > high):
            wanted = str(low) if low == high else f"at least {low}"
            noun = "argument" if low == 1 else "arguments"
            raise invalid(self.query, pos, f"{label}() takes {wanted} {noun}, got {len(args)}")
        if key == ("global", "select"):
            for arg in args[:-1]:
                if not isinstance(arg, n.Pair):
                    raise invalid(
                        self.query,
                        arg.pos,
                        "only the last argument of select() may be a default without '=>'",
                    )
        return n.FuncCall(pos, namespace, name, tuple(args))

    def refuse_function(self, namespace: str, name: str, pos: int) -> None:
        label = name if namespace == "global" else f"{namespace}::{name}"
        if namespace == "global" and name == "order":
            raise invalid(self.query, pos, "order() is a pipe function: write `... | order(...)`")
        if namespace == "global" and name in _KNOWN_UNSUPPORTED_GLOBALS:
            raise unsupported(
                self.query, pos, f"{label}()", "function outside the supported subset"
            )
        if namespace in _KNOWN_NAMESPACES and namespace != "global":
            raise unsupported(
                self.query, pos, f"{label}()", "function outside the supported subset"
            )
        raise unsupported(self.query, pos, f"{label}()", "unknown function")

    def parse_traversals(self, base: n.Node) -> n.Node:
        steps: list[n.Step] = []
        while True:
            token = self.token
            if token.kind != "punct":
                break
            text = token.text
            if text == ".":
                self.advance()
                name = self.token
                if name.kind != "ident":
                    raise self.error_expected("an attribute name after '.'")
                self.advance()
                steps.append(n.DotStep(token.pos, name.text))
            elif text == "[":
                self.advance()
                if self.at("]"):
                    self.advance()
                    steps.append(n.ArrayStep(token.pos))
                    continue
                content = self.parse_expr(0)
                self.expect("]", f"to close the '[' at position {token.pos}")
                if isinstance(content, n.Range):
                    steps.append(
                        n.SliceStep(token.pos, content.left, content.right, content.inclusive)
                    )
                else:
                    steps.append(n.BracketStep(token.pos, content))
            elif text == "{":
                self.advance()
                steps.append(n.ProjectionStep(token.pos, self.parse_object(token.pos)))
            elif text == "->":
                raise unsupported(self.query, token.pos, "->", "dereference")
            elif text == "|":
                self.advance()
                if self.at("{"):
                    brace = self.advance()
                    steps.append(n.ProjectionStep(brace.pos, self.parse_object(brace.pos)))
                    continue
                base = self.parse_pipe(n.Chain(base.pos, base, tuple(steps)) if steps else base)
                steps = []
            else:
                break
        return n.Chain(base.pos, base, tuple(steps)) if steps else base

    def parse_pipe(self, base: n.Node) -> n.Node:
        name = self.token
        if name.kind != "ident" or self.peek().text not in ("(", "::"):
            raise self.error_expected("a pipe function call or a projection after '|'")
        if name.text != "order" or self.peek().text != "(":
            label = name.text
            if self.peek().text == "::":
                label = f"{name.text}::{self.peek(2).text}"
            what = "text scoring" if label == "score" else "pipe function outside the subset"
            raise unsupported(self.query, name.pos, f"{label}()", what)
        self.advance()
        open_paren = self.advance()
        terms: list[n.OrderTerm] = []
        while not self.at(")"):
            start = self.token.pos
            value = self.parse_expr(0)
            descending = False
            if self.at_word("asc") or self.at_word("desc"):
                descending = self.advance().text == "desc"
            terms.append(n.OrderTerm(start, value, descending))
            if not self.at(","):
                break
            self.advance()
        self.expect(")", f"to close the order(...) opened at position {open_paren.pos}")
        if not terms:
            raise invalid(self.query, name.pos, "order() needs at least one argument")
        return n.PipeCall(name.pos, base, "order", tuple(terms))


def _check_ranges(query: str, node: object, *, allowed: bool) -> None:
    """Ranges only mean something right of `in` (a slice's range never reaches here)."""
    if isinstance(node, n.Range):
        if not allowed:
            raise invalid(
                query, node.pos, "a range is only allowed right of 'in' or inside [...] as a slice"
            )
        _check_ranges(query, node.left, allowed=False)
        _check_ranges(query, node.right, allowed=False)
    elif isinstance(node, n.Binary):
        _check_ranges(query, node.left, allowed=False)
        _check_ranges(query, node.right, allowed=node.op == "in")
    elif isinstance(node, tuple):
        for item in node:
            _check_ranges(query, item, allowed=False)
    elif dataclasses.is_dataclass(node):
        for spec in dataclasses.fields(node):
            _check_ranges(query, getattr(node, spec.name), allowed=False)
