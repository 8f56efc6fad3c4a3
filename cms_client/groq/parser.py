"""Pratt parser from GROQ text to the syntax tree of `nodes`.

Precedence follows the spec (highest first): traversals and pipes; prefix `+`/`!`; `**`
(right-associative); prefix `-`; `* / %`; `+ -`; ranges; comparisons and `in`; `&&`; `||`.
Constructs outside the supported subset are refused here, with their position, so a query
never reaches evaluation with a meaning this engine does not implement.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from cms_client.errors import QueryError
from cms_client.groq import nodes as n
from cms_client.groq.errors import invalid, syntax_error, unsupported
from cms_client.groq.lexer import Token, tokenize

# Binding powers: level L of the spec's precedence table gives a left power of 2L.
_OR, _AND, _COMPARE, _RANGE, _ADD, _MUL, _NEG, _POW, _NOT = 4, 6, 8, 10, 12, 14, 16, 18, 20
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})

#: (namespace, name) -> (min args, max args or None for any number): the functions groq-js
#: implements outside delta mode (its namespace registry), with the same arities.
SUPPORTED_FUNCTIONS: dict[tuple[str, str], tuple[int, int | None]] = {
    ("global", "coalesce"): (0, None),
    ("global", "count"): (1, 1),
    ("global", "dateTime"): (1, 1),
    ("global", "defined"): (1, 1),
    ("global", "identity"): (0, 0),
    ("global", "length"): (1, 1),
    ("global", "path"): (1, 1),
    ("global", "string"): (1, 1),
    ("global", "references"): (1, None),
    ("global", "round"): (1, 2),
    ("global", "now"): (0, 0),
    ("global", "lower"): (1, 1),
    ("global", "upper"): (1, 1),
    ("global", "select"): (0, None),
    ("global", "boost"): (2, 2),
    ("string", "lower"): (1, 1),
    ("string", "upper"): (1, 1),
    ("string", "split"): (2, 2),
    ("string", "startsWith"): (2, 2),
    ("array", "join"): (2, 2),
    ("array", "compact"): (1, 1),
    ("array", "unique"): (1, 1),
    ("array", "intersects"): (2, 2),
    ("pt", "text"): (1, 1),
    ("delta", "operation"): (0, None),
    ("diff", "changedAny"): (3, 3),
    ("diff", "changedOnly"): (3, 3),
    ("sanity", "versionOf"): (1, 1),
    ("sanity", "partOfRelease"): (1, 1),
    ("math", "min"): (1, 1),
    ("math", "max"): (1, 1),
    ("math", "sum"): (1, 1),
    ("math", "avg"): (1, 1),
    ("dateTime", "now"): (0, 0),
    ("releases", "all"): (0, 0),
}
# Real GROQ functions this engine does not answer (refused as unsupported, not as unknown):
# they need a search index, geometry, the project's settings or delta mode.
_KNOWN_UNSUPPORTED = frozenset(
    {
        ("global", "anywhere"),
        ("global", "before"),
        ("global", "after"),
        ("global", "operation"),
        ("delta", "changedAny"),
        ("delta", "changedOnly"),
        ("sanity", "projectId"),
        ("sanity", "dataset"),
        ("media", "aspect"),
        ("text", "query"),
        ("text", "semanticSimilarity"),
        ("geo", "latLng"),
        ("geo", "contains"),
        ("geo", "intersects"),
        ("geo", "distance"),
        ("documents", "get"),
        ("documents", "incomingRefCount"),
        ("documents", "incomingGlobalDocumentReferenceCount"),
        ("user", "attributes"),
    }
)
_KNOWN_NAMESPACES = frozenset(namespace for namespace, _ in SUPPORTED_FUNCTIONS) | frozenset(
    namespace for namespace, _ in _KNOWN_UNSUPPORTED
)
_SELECTOR_FUNCTIONS = frozenset({("diff", "changedAny"), ("diff", "changedOnly")})


@dataclasses.dataclass(frozen=True, slots=True)
class _FunctionDeclaration:
    pos: int
    params: tuple[str, ...]
    body: n.Node


def parse_expression(query: str) -> n.Node:
    parser = _Parser(query)
    tree = parser.parse_query()
    _check_ranges(query, tree, allowed=False)
    _check_directions(query, tree)
    return tree


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = tokenize(query)
        self.index = 0
        self.functions: dict[tuple[str, str], _FunctionDeclaration] = {}
        #: Custom functions declared before the query (found before parsing, so a
        #: declaration may call one declared after it).
        self.declared = _declared_functions(self.tokens)
        #: True inside the arguments of `| score(...)`, where `boost()` is allowed.
        self.in_score = False

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
        if token.kind == "punct" and token.text == "=":
            return syntax_error(self.query, token.pos, "unexpected '=' (did you mean '=='?)")
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
        while self.at_word("fn") and self.peek().kind == "ident" and self.peek(2).text == "::":
            self.parse_function_declaration()
        tree = self.parse_expr(0)
        if self.token.kind != "eof":
            raise self.error_expected("an operator or the end of the query")
        return self.expand(tree, ()) if self.functions else tree

    def expand(self, node: n.Node, stack: tuple[tuple[str, str], ...]) -> n.Node:
        """Replace custom function calls by their bodies, the parameter by the argument."""

        def visit(item: object) -> object:
            if not isinstance(item, n.CustomCall):
                return None
            key = (item.namespace, item.name)
            label = f"{item.namespace}::{item.name}"
            declaration = self.functions.get(key)
            if declaration is None:
                raise invalid(self.query, item.pos, f"undefined function {label}()")
            if key in stack:
                raise invalid(self.query, item.pos, f"recursive function definition of {label}")
            if len(item.args) != len(declaration.params):
                raise invalid(
                    self.query,
                    item.pos,
                    f"{label}() takes {len(declaration.params)} argument, got {len(item.args)}",
                )
            args = [self.expand(arg, stack) for arg in item.args]
            body = self.expand(declaration.body, (*stack, key))
            bindings = dict(zip(declaration.params, args, strict=True))
            return _rebuild(
                body,
                lambda leaf: (
                    n.Group(leaf.pos, bindings[leaf.name])
                    if isinstance(leaf, n.Param) and leaf.name in bindings
                    else None
                ),
            )

        result = _rebuild(node, visit)
        assert isinstance(result, n.Node)
        return result

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
                if op == "match" and min_power <= _COMPARE:
                    self.advance()
                    right = self.parse_expr(_COMPARE + 1)
                    left = n.Binary(token.pos, "match", left, right)
                    self.refuse_chained_comparison()
                    continue
                if op in ("asc", "desc") and min_power <= _COMPARE:
                    self.advance()
                    left = n.Direction(token.pos, left, op == "desc")
                    continue
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
                    raise invalid(
                        self.query, self.token.pos, "a tuple (a, b) is only allowed as a selector"
                    )
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
                    if (self.at(",") or self.at("}")) and not _may_name_itself(value):
                        raise invalid(
                            self.query,
                            start.pos,
                            "cannot tell the attribute name of this projection entry; "
                            'write "name": <expression>',
                        )
                    entries.append(n.KeyValue(None, value))
            if not self.at(","):
                break
            self.advance()
        self.expect("}", f"to close the object opened at position {pos}")
        return n.ObjectLiteral(pos, tuple(entries))

    def parse_call(self, namespace: str, name: str, pos: int) -> n.Node:
        key = (namespace, name)
        custom = key in self.declared
        if not custom and key not in SUPPORTED_FUNCTIONS:
            self.refuse_function(namespace, name, pos)
        if key == ("global", "boost") and not self.in_score:
            raise invalid(self.query, pos, "boost() is only allowed inside score(...)")
        open_paren = self.expect("(", "to start the arguments")
        args: list[n.Node] = []
        while not self.at(")"):
            if not custom and key in _SELECTOR_FUNCTIONS and len(args) == 2:
                start = self.token.pos
                args.append(n.Selector(start, self.parse_selector()))
            else:
                arg = self.parse_expr(0)
                if self.at("=>"):
                    if key != ("global", "select") or custom:
                        raise self.error_expected("',' or ')'")
                    arrow = self.advance()
                    arg = n.Pair(arrow.pos, arg, self.parse_expr(0))
                args.append(arg)
            if not self.at(","):
                break
            self.advance()
        self.expect(")", f"to close the arguments opened at position {open_paren.pos}")
        label = name if namespace == "global" else f"{namespace}::{name}"
        if custom:
            return n.CustomCall(pos, namespace, name, tuple(args))
        low, high = SUPPORTED_FUNCTIONS[key]
        if len(args) < low or (high is not None and len(args) > high):
            if low == high:
                wanted = str(low)
            elif high is None:
                wanted = f"at least {low}"
            else:
                wanted = f"{low} to {high}"
            noun = "argument" if low == 1 and high in (1, None) else "arguments"
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
        if namespace == "global" and name in ("order", "score"):
            raise invalid(
                self.query, pos, f"{name}() is a pipe function: write `... | {name}(...)`"
            )
        if (namespace, name) in _KNOWN_UNSUPPORTED:
            raise unsupported(
                self.query, pos, f"{label}()", "function the lake's GROQ engine does not answer"
            )
        if namespace not in _KNOWN_NAMESPACES:
            raise invalid(self.query, pos, f"undefined namespace '{namespace}' in {label}()")
        raise invalid(self.query, pos, f"undefined function {label}()")

    # Custom functions -----------------------------------------------------------------------

    def parse_function_declaration(self) -> None:
        """`fn ns::name($param) = $param{...};` (the forms groq-js accepts)."""
        fn_token = self.advance()
        namespace = self.advance().text
        self.advance()  # ::
        name_token = self.token
        if name_token.kind != "ident":
            raise self.error_expected("a function name")
        self.advance()
        key = (namespace, name_token.text)
        self.expect("(", f"after fn {namespace}::{name_token.text}")
        params: list[str] = []
        while not self.at(")"):
            token = self.token
            if token.kind != "param":
                raise self.error_expected("a parameter ($name)")
            params.append(str(token.value))
            self.advance()
            if not self.at(","):
                break
            self.advance()
        self.expect(")", "to close the parameters")
        self.expect("=", "before the function body")
        if len(params) != 1:
            raise invalid(self.query, fn_token.pos, "custom functions take exactly one parameter")
        body = self.parse_expr(0)
        self.expect(";", "after the function declaration")
        _check_function_body(self.query, fn_token.pos, body, params[0])
        self.functions[key] = _FunctionDeclaration(fn_token.pos, tuple(params), body)

    # Selectors --------------------------------------------------------------------------------

    def parse_selector(self) -> n.Sel:
        """A diff::changedAny/changedOnly selector: `a`, `a.b`, `a[]`, `a[filter]`,
        `(a, b)`, `a.(b, c)`, `anywhere(expr)`, in any combination."""
        token = self.token
        selector: n.Sel
        if token.kind == "ident" and self.peek().text == "(":
            if token.text != "anywhere":
                raise invalid(self.query, token.pos, "invalid selector syntax")
            self.advance()
            self.advance()
            expr = self.parse_expr(0)
            self.expect(")", "to close anywhere(")
            selector = n.SelAnywhere(expr)
        elif token.kind == "ident" and token.text not in ("true", "false", "null"):
            self.advance()
            selector = n.SelAttr(None, token.text)
        elif self.at("("):
            selector = self.parse_selector_group()
        else:
            raise invalid(self.query, token.pos, "invalid selector syntax")
        while True:
            token = self.token
            if self.at("."):
                self.advance()
                if self.at("("):
                    group_pos = self.token.pos
                    nested = self.parse_selector_group()
                    if isinstance(nested, n.SelAnywhere):
                        raise invalid(self.query, group_pos, "invalid nested selector")
                    selector = n.SelNested(selector, nested)
                    continue
                name = self.token
                if name.kind != "ident":
                    raise invalid(self.query, name.pos, "invalid selector syntax")
                self.advance()
                selector = n.SelAttr(selector, name.text)
            elif self.at("["):
                self.advance()
                if self.at("]"):
                    self.advance()
                    selector = n.SelCoerce(selector)
                    continue
                expr = self.parse_expr(0)
                self.expect("]", f"to close the '[' at position {token.pos}")
                if isinstance(expr, n.Literal) and type(expr.value) is str:
                    selector = n.SelAttr(selector, expr.value)
                elif isinstance(expr, n.Literal) and type(expr.value) in (int, float):
                    raise invalid(self.query, token.pos, "invalid array access in a selector")
                else:
                    selector = n.SelFilter(selector, expr)
            elif self.at(",") or self.at(")"):
                return selector
            else:
                raise invalid(self.query, token.pos, "invalid selector syntax")

    def parse_selector_group(self) -> n.Sel:
        open_paren = self.expect("(", "to start a selector group")
        members = [self.parse_selector()]
        while self.at(","):
            self.advance()
            members.append(self.parse_selector())
        self.expect(")", f"to close the selector group at position {open_paren.pos}")
        return members[0] if len(members) == 1 else n.SelTuple(tuple(members))

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
                self.advance()
                name_token = self.token
                # `->name` is the referenced document's attribute (no space allowed).
                if name_token.kind == "ident" and name_token.pos == token.pos + 2:
                    self.advance()
                    steps.append(n.DerefStep(token.pos, name_token.text))
                else:
                    steps.append(n.DerefStep(token.pos, None))
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
        label = name.text
        if self.peek().text == "::":
            namespace = name.text
            self.advance()
            self.advance()
            name = self.token
            if name.kind != "ident" or self.peek().text != "(":
                raise self.error_expected("a pipe function name after '::'")
            label = f"{namespace}::{name.text}"
            if namespace != "global":
                raise invalid(self.query, name.pos, f"undefined pipe function {label}()")
        if name.text not in ("order", "score"):
            raise invalid(self.query, name.pos, f"undefined pipe function {label}()")
        self.advance()
        open_paren = self.advance()
        args: list[n.Node] = []
        was_in_score = self.in_score
        self.in_score = name.text == "score"
        try:
            while not self.at(")"):
                start = self.token.pos
                value = self.parse_expr(0)
                if name.text == "order":
                    descending = False
                    if isinstance(value, n.Direction):
                        descending = value.descending
                        value = value.inner
                    args.append(n.OrderTerm(start, value, descending))
                else:
                    args.append(value)
                if not self.at(","):
                    break
                self.advance()
        finally:
            self.in_score = was_in_score
        self.expect(")", f"to close the {label}(...) opened at position {open_paren.pos}")
        if not args:
            raise invalid(self.query, name.pos, f"{label}() needs at least one argument")
        if name.text == "score":
            _check_score_base(self.query, name.pos, base)
        return n.PipeCall(name.pos, base, name.text, tuple(args))


def _may_name_itself(node: n.Node) -> bool:
    """Whether a bare projection entry can take its name from an attribute it starts from
    (`{title}`, `{items[0]}`); `{^.a}`, `{@.a}` or `{1}` never can (the rest is decided once
    the traversal is resolved)."""
    while True:
        if isinstance(node, n.Group):
            node = node.inner
        elif isinstance(node, n.PipeCall | n.Chain):
            node = node.base
        else:
            return isinstance(node, n.Identifier)


def _check_score_base(query: str, pos: int, node: n.Node) -> None:
    """score() ranks documents: its input is `*`, filtered, sliced or ordered."""
    while True:
        if isinstance(node, n.Everything):
            return
        if isinstance(node, n.PipeCall):
            node = node.base
            continue
        if isinstance(node, n.Chain) and all(
            isinstance(step, n.SliceStep)
            or (
                isinstance(step, n.BracketStep)
                and not (isinstance(step.expr, n.Literal) and type(step.expr.value) in (int, float))
            )
            for step in node.steps
        ):
            node = node.base
            continue
        raise invalid(query, pos, "score() must be applied to documents of `*` (filtered)")


def _declared_functions(tokens: list[Token]) -> frozenset[tuple[str, str]]:
    """The `fn ns::name(...) = ...;` declarations at the start of the query."""
    declared: set[tuple[str, str]] = set()
    i = 0
    while (
        i + 3 < len(tokens)
        and tokens[i].kind == "ident"
        and tokens[i].text == "fn"
        and tokens[i + 1].kind == "ident"
        and tokens[i + 2].text == "::"
        and tokens[i + 3].kind == "ident"
    ):
        declared.add((tokens[i + 1].text, tokens[i + 3].text))
        depth = 0
        while i < len(tokens) and tokens[i].kind != "eof":
            text = tokens[i].text if tokens[i].kind == "punct" else ""
            if text in ("(", "[", "{"):
                depth += 1
            elif text in (")", "]", "}"):
                depth -= 1
            elif text == ";" and depth == 0:
                break
            i += 1
        i += 1
    return frozenset(declared)


def _rebuild(node: object, replace: Callable[[object], object | None]) -> object:
    """A copy of the tree where `replace` returns a substitute (None: keep and descend)."""
    substitute = replace(node)
    if substitute is not None:
        return substitute
    if isinstance(node, tuple):
        return tuple(_rebuild(item, replace) for item in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {
            spec.name: _rebuild(getattr(node, spec.name), replace)
            for spec in dataclasses.fields(node)
        }
        return dataclasses.replace(node, **changes)
    return node


def _check_function_body(query: str, pos: int, body: n.Node, param: str) -> None:
    """groq-js's forms: `$p{...}`, `$p->{...}`, `$p[]{...}`, `$p[]->{...}`; the parameter is
    not used again inside, and `^` does not reach above the function's own scopes."""
    steps = body.steps if isinstance(body, n.Chain) else ()
    shapes = {
        (n.ProjectionStep,),
        (n.DerefStep, n.ProjectionStep),
        (n.ArrayStep, n.ProjectionStep),
        (n.ArrayStep, n.DerefStep, n.ProjectionStep),
    }
    if (
        not isinstance(body, n.Chain)
        or not (isinstance(body.base, n.Param) and body.base.name == param)
        or tuple(type(step) for step in steps) not in shapes
        or any(isinstance(step, n.DerefStep) and step.name is not None for step in steps)
    ):
        raise invalid(
            query,
            pos,
            "a custom function's body must be $param{...}, $param->{...}, "
            "$param[]{...} or $param[]->{...}",
        )
    projection = steps[-1]
    assert isinstance(projection, n.ProjectionStep)
    _check_function_scopes(query, projection.body, param, 1)


def _check_function_scopes(query: str, node: object, param: str, level: int) -> None:
    if isinstance(node, n.Param) and node.name == param:
        raise invalid(query, node.pos, f"${param} may only start the function body")
    if isinstance(node, n.Parent) and node.levels > level:
        raise invalid(query, node.pos, "'^' reaches outside the custom function")
    if isinstance(node, n.ProjectionStep | n.BracketStep):
        # A projection or a filter opens a new scope.
        for spec in dataclasses.fields(node):
            _check_function_scopes(query, getattr(node, spec.name), param, level + 1)
        return
    if isinstance(node, tuple):
        for item in node:
            _check_function_scopes(query, item, param, level)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for spec in dataclasses.fields(node):
            _check_function_scopes(query, getattr(node, spec.name), param, level)


def _check_directions(query: str, node: object) -> None:
    """`asc`/`desc` only as the last word of an order() argument (the parser unwraps those)."""
    if isinstance(node, n.Direction):
        word = "desc" if node.descending else "asc"
        raise invalid(query, node.pos, f"'{word}' is only allowed at the end of an order() term")
    if isinstance(node, tuple):
        for item in node:
            _check_directions(query, item)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for spec in dataclasses.fields(node):
            _check_directions(query, getattr(node, spec.name))


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
        right = node.right
        if node.op == "in" and isinstance(right, n.Group) and isinstance(right.inner, n.Range):
            right = right.inner  # `x in (a .. b)`
        _check_ranges(query, right, allowed=node.op == "in")
    elif isinstance(node, tuple):
        for item in node:
            _check_ranges(query, item, allowed=False)
    elif dataclasses.is_dataclass(node):
        for spec in dataclasses.fields(node):
            _check_ranges(query, getattr(node, spec.name), allowed=False)
