"""Unsupported constructs and malformed queries fail with the construct and its position."""

from __future__ import annotations

import pytest

from cms_client.errors import BadRequest, QueryError
from cms_client.groq import ListSource, evaluate, parse
from tests.groq.conftest import DOCS, NOW


@pytest.mark.parametrize(
    ("query", "construct", "position"),
    [
        ("geo::distance(a, b)", "geo::distance()", 0),
        ("delta::changedAny(title)", "delta::changedAny()", 0),
        ("before().title", "before()", 0),
        ("after()", "after()", 0),
        ("*[text::query('shoes')]", "text::query()", 2),
        ("sanity::projectId()", "sanity::projectId()", 0),
        ("*[anywhere(a == 1)]", "anywhere()", 2),
    ],
)
def test_unsupported_constructs_are_refused_at_parse_time(
    query: str, construct: str, position: int
) -> None:
    # Real GROQ the lake does not answer (search index, geometry, delta mode, project
    # settings): refused by name, never answered wrongly.
    with pytest.raises(QueryError) as caught:
        parse(query)
    error = caught.value
    assert error.construct == construct
    assert error.position == position
    assert error.query == query
    assert f"unsupported GROQ construct '{construct}'" in error.message
    assert "the lake's GROQ engine does not answer" in error.message
    assert f"at position {position} " in error.message


def test_position_names_line_and_column() -> None:
    query = '*[\n  _type == "a"\n  && geo::contains(a, b)]'
    with pytest.raises(QueryError) as caught:
        parse(query)
    assert caught.value.message == (
        "unsupported GROQ construct 'geo::contains()' (function the lake's GROQ engine does "
        "not answer) at position 23 (line 3, column 6)"
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
        ("a asc", 2, "'asc' is only allowed at the end of an order() term"),
        ("[1, true] | order(@ && true asc)", 28, "'asc' is only allowed at the end"),
        ("*[foo(1)]", 2, "undefined function foo()"),
        ("*[x::y(1)]", 2, "undefined namespace 'x' in x::y()"),
        ("(1, 2)", 2, "a tuple (a, b) is only allowed as a selector"),
        ("*[x]{@}", 5, "cannot tell the attribute name"),
        ("*[x]{^.a}", 5, "cannot tell the attribute name"),
        ("boost(a, 2)", 0, "boost() is only allowed inside score(...)"),
        ("*{a} | score(a == 1)", 7, "score() must be applied to documents of `*`"),
        ("fn f::g($a, $b) = $a{x}; 1", 0, "custom functions take exactly one parameter"),
        ("fn f::g($a) = $a; 1", 0, "a custom function's body must be $param{...}"),
        ('fn f::g($a) = $a{"v": $a}; 1', 22, "$a may only start the function body"),
        ("fn f::g($a) = $a{x}; f::g()", 21, "f::g() takes 1 argument, got 0"),
        ("fn f::g($a) = $a{'x': f::g(x)}; f::g(1)", 22, "recursive function definition"),
        ("diff::changedAny(a, b, 1)", 23, "invalid selector syntax"),
        ("round(1, 2, 3)", 0, "round() takes 1 to 2 arguments, got 3"),
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
        parse("*[a = b]")


def test_absurdly_nested_queries_are_refused_not_crashed() -> None:
    with pytest.raises(QueryError, match="nested too deeply"):
        parse("[" * 3000 + "]" * 3000)
