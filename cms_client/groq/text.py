"""Text search: the `match` operator and `| score(...)` (spec "Full text search").

The spec leaves tokenisation to the implementation; this follows groq-js, the reference
implementation the official suite is checked against: a text is split on punctuation and
white space (dots only inside words), a pattern the same way with `*` kept as a wildcard,
and every pattern term must match some token, whole and case-insensitively. `score` gives
each term `freq * 2.2 / (freq + 1.2)` (BM25's saturation with k1 = 1.2) over the matching
tokens, sums over `||`, and over `&&` only when both sides score.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cms_client.groq import nodes as n
from cms_client.groq.compiled import Compiled, Scope, fold

if TYPE_CHECKING:
    from cms_client.groq.compiler import Compiler

# JavaScript's `\s` (what groq-js's patterns use), spelled out: Python's differs slightly.
_JS_SPACE = (
    "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
)
_TOKEN = re.compile(f'[^!@#$%^&*(),\\\\/?";:{{}}|\\[\\]+<>{_JS_SPACE}-]+')
_TERM = re.compile(f'[^!@#$%^&(),\\\\/?";:{{}}|\\[\\]+<>{_JS_SPACE}-]+')
# Dots at the edge of a word (`end.` / `.start`) are not part of it; JavaScript's `\b` is ASCII.
_EDGE_DOTS = re.compile(r"(\b\.+|\.+\b)", re.ASCII)


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(_EDGE_DOTS.sub("", text))


def pattern_terms(text: str) -> list[re.Pattern[str]]:
    terms = []
    for term in _TERM.findall(_EDGE_DOTS.sub("", text)):
        source = term[:1024].replace("*", ".*")
        try:
            terms.append(re.compile(f"^(?:{source})$", re.IGNORECASE | re.DOTALL))
        except re.error:
            # A term JavaScript accepts but Python's re does not (rare quantifier forms):
            # read it literally, wildcards aside.
            literal = ".*".join(re.escape(part) for part in term[:1024].split("*"))
            terms.append(re.compile(f"^{literal}$", re.IGNORECASE | re.DOTALL))
    return terms


def _gather(value: Any, split: Callable[[str], list[Any]]) -> tuple[list[Any], bool]:
    """The parts of a string or an array of strings; False when something else is there."""
    if type(value) is str:
        return split(value), True
    if type(value) is list:
        parts: list[Any] = []
        ok = True
        for item in value:
            if type(item) is str:
                parts.extend(split(item))
            else:
                ok = False
        return parts, ok
    return [], False


def matches(text: Any, pattern: Any) -> bool:
    tokens, _ = _gather(text, tokenize)
    terms, ok = _gather(pattern, pattern_terms)
    if not ok or not tokens or not terms:
        return False
    return all(any(term.match(token) for token in tokens) for term in terms)


def match_score(text: Any, pattern: Any) -> float:
    tokens, _ = _gather(text, tokenize)
    terms, ok = _gather(pattern, pattern_terms)
    if not ok or not tokens or not terms:
        return 0
    total = 0.0
    for term in terms:
        freq = sum(1 for token in tokens if term.match(token))
        total += freq * 2.2 / (freq + 1.2)
    return total


def compile_match(left: Compiled, right: Compiled) -> Compiled:
    text_fn, pattern_fn = left.fn, right.fn
    if right.const:
        pattern = right.value
        terms, ok = _gather(pattern, pattern_terms)

        def match_constant(s: Scope) -> bool:
            if not ok or not terms:
                return False
            tokens, _ = _gather(text_fn(s), tokenize)
            return bool(tokens) and all(
                any(term.match(token) for token in tokens) for term in terms
            )

        compiled = fold(match_constant, left)
        compiled.boolean = True
        return compiled

    def match(s: Scope) -> bool:
        return matches(text_fn(s), pattern_fn(s))

    compiled = fold(match, left, right)
    compiled.boolean = True
    return compiled


ScoreFn = Callable[[Scope], float]


def compile_score_term(compiler: Compiler, node: n.Node) -> ScoreFn:
    """How much one `score(...)` argument adds for an element (groq-js's evaluateScore)."""
    if isinstance(node, n.Binary) and node.op == "match":
        text_fn = compiler.compile(node.left, False, True).fn
        pattern_fn = compiler.compile(node.right, False, True).fn
        return lambda s: match_score(text_fn(s), pattern_fn(s))
    if isinstance(node, n.FuncCall) and node.namespace == "global" and node.name == "boost":
        inner = compile_score_term(compiler, node.args[0])
        boost_fn = compiler.compile(node.args[1], False, True).fn

        def boosted(s: Scope) -> float:
            base = inner(s)
            boost = boost_fn(s)
            if type(boost) in (int, float) and base > 0:
                return float(base + boost)
            return 0

        return boosted
    if isinstance(node, n.Logical):
        parts = [compile_score_term(compiler, operand) for operand in node.operands]
        if node.op == "||":
            return lambda s: sum(part(s) for part in parts)

        def both(s: Scope) -> float:
            total = 0.0
            for part in parts:
                value = part(s)
                if value == 0:
                    return 0
                total += value
            return total

        return both
    fn = compiler.compile(node, False, True).fn
    return lambda s: 1 if fn(s) is True else 0


def score(compiler: Compiler, node: n.PipeCall, base: Compiled, hidden: bool) -> Compiled:
    terms = [compile_score_term(compiler, arg) for arg in node.args]
    base_fn = base.fn

    def score_(s: Scope) -> Any:
        items = base_fn(s)
        if type(items) is not list:
            return None
        parent = s[1] if hidden else s
        scored: list[dict[str, Any]] = []
        for item in items:
            if type(item) is not dict:
                continue
            previous = item.get("_score")
            total = 0.0
            if type(previous) is int or type(previous) is float:
                total = float(previous)
            scope = (item, parent)
            for term in terms:
                total += term(scope)
            scored.append({**item, "_score": total})
        # Stable, like JavaScript's sort: equal scores keep their order.
        scored.sort(key=lambda doc: -doc["_score"])
        return scored

    return Compiled(score_)
