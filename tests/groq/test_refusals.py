"""Unsupported constructs and malformed queries fail with the construct and its position."""

from __future__ import annotations

import pytest

from cms_client.errors import BadRequest, QueryError
from cms_client.groq import ListSource, evaluate, parse
from tests.groq.conftest import DOCS, NOW


@pytest.mark.parametrize(
    ("query", "construct", "position", "what"),
    [
        ("a->b", "->", 1, "dereference"),
        ('*[_type == "a"]{"p": ref->}', "->", 24, "dereference"),
        ('*[title match "x"]', "match", 8, "text search"),
        ('*[_type == "a"] | score(title)', "score()", 18, "text scoring"),
        ("boost(a, 2)", "boost()", 0, "outside the supported subset"),
        ("pt::text(body)", "pt::text()", 0, "outside the supported subset"),
        ("geo::distance(a, b)", "geo::distance()", 0, "outside the supported subset"),
        ("delta::changedAny(title)", "delta::changedAny()", 0, "outside the supported subset"),
        ("before().title", "before()", 0, "outside the supported subset"),
        ("after()", "after()", 0, "outside the supported subset"),
        ("operation()", "operation()", 0, "outside the supported subset"),
        ("math::sum([1])", "math::sum()", 0, "outside the supported subset"),
        ("*[foo(1)]", "foo()", 2, "unknown function"),
        ("*[x::y(1)]", "x::y()", 2, "unknown function"),
        ("fn ns::f($a) = $a; 1", "fn", 0, "custom function declaration"),
        ("(1, 2)", "(a, b)", 2, "tuple"),
    ],
)
def test_unsupported_constructs_are_refused_at_parse_time(
    query: str, construct: str, position: int, what: str
) -> None:
    with pytest.raises(QueryError) as caught:
        parse(query)
    error = caught.value
    assert error.construct == construct
    assert error.position == position
    assert error.query == query
    assert f"unsupported GROQ construct '{construct}'" in error.message
    assert what in error.message
    assert f"at position {position} " in error.message


def test_position_names_line_and_column() -> None:
    query = '*[\n  _type == "a"\n  && x->y]'
    with pytest.raises(QueryError) as caught:
        parse(query)
    assert caught.value.message == (
        "unsupported GROQ construct '->' (dereference) at position 24 (line 3, column 7)"
    )


@pytest.mark.parametrize(
    ("query", "position", "fragment"),
    [
        ("", 0, "the query is empty"),
        ('*[_type == "a"', 14, "expected ']' to close the '[' at position 1"),
        ("*[a = 1]", 4, "did you mean '=='?"),
        ('{"a" 1}', 5, "expected '}' to close the object opened at position 0"),
        ("{a: 1}", 1, "object keys must be string literals"),
        ("*[a == b == c]", 9, "comparison operators cannot be chained"),
        ("1 < 2 in [true]", 6, "comparison operators cannot be chained"),
        ('"abc', 0, "string is not closed"),
        ("*[x].", 5, "expected an attribute name after '.'"),
        ("1 +", 3, "expected an expression"),
        ('*[_type == "a"] | foo', 18, "expected a pipe function call or a projection after '|'"),
        ("[1, 2", 5, "expected ']' to close the array opened at position 0"),
        ("count(1, 2", 10, "expected ')' to close the arguments opened at position 5"),
        ("a asc", 2, "'asc' is only allowed inside order(...)"),
        ("x => 1", 2, "'=>' is only allowed inside select(...)"),
        ("select(a => 1, 2, b => 3)", 15, "only the last argument of select()"),
        ("count(1, 2)", 0, "count() takes 1 argument, got 2"),
        ("now(1)", 0, "now() takes 0 arguments, got 1"),
        ("references()", 0, "references() takes at least 1 argument, got 0"),
        ("1..2", 1, "a range is only allowed right of 'in'"),
        ("[1..2]", 2, "a range is only allowed right of 'in'"),
        ("$", 0, "expected a parameter name after '$'"),
        (r'"\q"', 1, "invalid escape sequence"),
        (r'"\ud800"', 7, "not a valid Unicode code point"),
        ("#", 0, "unexpected character '#'"),
        ("order(x)", 0, "order() is a pipe function"),
        ("* | order()", 4, "order() needs at least one argument"),
        ("* | order(x)) ", 12, "expected an operator or the end of the query"),
    ],
)
def test_malformed_queries_name_the_position(query: str, position: int, fragment: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(query)
    error = caught.value
    assert error.position == position
    assert error.construct is None
    assert fragment in error.message
    assert f"at position {position} (line 1, column {position + 1})" in error.message


@pytest.mark.parametrize(
    ("query", "params", "position", "fragment"),
    [
        ("*[_type == $type]", {}, 11, "parameter $type is not defined"),
        ("select(false => $later, 1)", {}, 16, "parameter $later is not defined"),
        ("[1, 2][1.5]", {}, 7, "array index must be an integer, got 1.5"),
        ("[1, 2][$i]", {"i": 0.5}, 7, "array index must be an integer, got 0.5"),
        ("*[0...x]", {}, 6, "slice bounds must be integer constants"),
        ("*[0...$n]", {"n": "3"}, 6, "slice bounds must be integer constants"),
        ("*[x]{a.b}", {}, 5, "cannot tell the attribute name"),
        ("*[x]{@}", {}, 5, "cannot tell the attribute name"),
    ],
)
def test_errors_found_when_parameters_are_known(
    query: str, params: dict[str, object], position: int, fragment: str
) -> None:
    parse(query)
    with pytest.raises(QueryError) as caught:
        evaluate(query, ListSource(DOCS), params, now=NOW)
    assert caught.value.position == position
    assert fragment in caught.value.message


def test_parameters_must_be_json() -> None:
    with pytest.raises(QueryError, match=r"\$ids\[1\] is not a JSON value: set"):
        evaluate("$ids", ListSource([]), {"ids": ["a", {"b"}]}, now=NOW)
    with pytest.raises(QueryError, match="non-string key"):
        evaluate("$o", ListSource([]), {"o": {1: "x"}}, now=NOW)


def test_query_errors_are_bad_requests() -> None:
    # The lake's HTTP server answers BadRequest with 400, as Sanity does for bad GROQ.
    with pytest.raises(BadRequest):
        parse("*[a->b]")


def test_absurdly_nested_queries_are_refused_not_crashed() -> None:
    with pytest.raises(QueryError, match="nested too deeply"):
        parse("[" * 3000 + "]" * 3000)
