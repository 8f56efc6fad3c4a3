"""Literals and operators, with the spec's null and three-valued semantics."""

from __future__ import annotations

from typing import Any

import pytest

from tests.groq.conftest import Run


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"Hi"', "Hi"),
        ("'single'", "single"),
        (r'"tab\there \"q\" \\ \/"', 'tab\there "q" \\ /'),
        (r'"\u00e9\u{1F600}\ud83d\ude00"', "é😀😀"),
        ("42", 42),
        ("3.5", 3.5),
        ("1e3", 1000),
        ("2.5E-1", 0.25),
        ("-2", -2),
        ("true", True),
        ("false", False),
        ("null", None),
        ('[1, "a", null, [true], ]', [1, "a", None, [True]]),
        ('{"a": 1, "b": {"c": [2]},}', {"a": 1, "b": {"c": [2]}}),
        ('{"a": 1, "a": 2}', {"a": 2}),
        ('[1, ...[2, 3], ...null, ..."x", 4]', [1, 2, 3, 4]),
        ("// a comment\n1 + // another\n 2", 3),
        ("\u00a01\u0085+\t2\r\n", 3),
    ],
)
def test_literals(run: Run, query: str, expected: Any) -> None:
    assert run(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("2 ** 3 ** 2", 512),
        ("-2 ** 2", -4),
        ("- -3", 3),
        ("+5", 5),
        ("7 / 2", 3.5),
        ("8 / 4", 2),
        ("7 % 3", 1),
        ("-7 % 3", -1),
        ("7 % -3", 1),
        ("7.5 % 2", 1.5),
        ("2 ** -1", 0.5),
        ("1 / 0", None),
        ("1 % 0", None),
        ("(-8) ** 0.5", None),
        ("10 ** 400", None),
        ('"a" + "b"', "ab"),
        ("[1] + [2, 3]", [1, 2, 3]),
        ('{"a": 1, "b": 1} + {"b": 2}', {"a": 1, "b": 2}),
        ('1 + "a"', None),
        ("null + 1", None),
        ("true + 1", None),
        ("2 * true", None),
        ('-"a"', None),
        ('+"a"', None),
        ('"a" - "a"', None),
        ("[1] * 2", None),
    ],
)
def test_arithmetic(run: Run, query: str, expected: Any) -> None:
    assert run(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("1 == 1.0", True),
        ('"a" == "a"', True),
        ('1 == "1"', False),
        ("null == null", True),
        ("1 == null", False),
        ("null != 1", True),
        ("[1] == [1]", False),
        ("{} == {}", False),
        ("[] != []", True),
        # Python's True == 1 must not leak in: GROQ booleans are not numbers.
        ("true == 1", False),
        ("false == 0", False),
        ("true == true", True),
        ('"1" != 1', True),
        ('*[_id == "p3"][0].stock == null', True),
        ('*[_id == "p3"][0].stock != null', False),
    ],
)
def test_equality(run: Run, query: str, expected: Any) -> None:
    assert run(query) is expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("1 < 2", True),
        ("2 <= 2", True),
        ("2 > 2", False),
        ("2 >= 2", True),
        ("1 < 1.5", True),
        ('"a" < "b"', True),
        ('"Z" < "a"', True),
        ('"ab" < "abc"', True),
        ("true > false", True),
        ('1 < "2"', None),
        ("null < 1", None),
        ("1 >= null", None),
        ("[1] < [2]", None),
        ("true < 1", None),
        ('dateTime("2025-01-01T00:00:00Z") < dateTime("2025-01-01T01:00:00+02:00")', False),
        ('dateTime("2025-01-01T00:00:00Z") > dateTime("2025-01-01T01:00:00+02:00")', True),
        ('dateTime("2025-01-01T00:00:00Z") == dateTime("2025-01-01T01:00:00+01:00")', True),
        ('dateTime("2025-01-01T00:00:00Z") < "2026"', None),
        ('"2025-01-01T00:00:00Z" < "2025-01-01T01:00:00+02:00"', True),
    ],
)
def test_comparison(run: Run, query: str, expected: Any) -> None:
    assert run(query) is expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("true && true", True),
        ("true && null", None),
        ("false && null", False),
        ("null && false", False),
        ("true || null", True),
        ("false || null", None),
        ("null || null", None),
        ("false || false", False),
        ("!null", None),
        ("!true", False),
        ("!false", True),
        ("!1", None),
        ("1 && true", None),
        ('"x" || false', None),
        ("true || false && false", True),
        ("(true || false) && false", False),
        ("!true == false", True),
        ("1 < 2 && 2 < 3 && 3 < 4", True),
    ],
)
def test_logic_is_three_valued(run: Run, query: str, expected: Any) -> None:
    assert run(query) is expected


def test_logic_over_documents(run: Run) -> None:
    # `resolved` is missing on e2: `!resolved` is null there, so the filter drops it,
    # while `resolved != true` is true (null is not equal to true).
    assert run('*[_type == "errorLog" && !resolved]._id') == ["e1", "e4"]
    assert run('*[_type == "errorLog" && resolved != true]._id') == ["e1", "e2", "e4"]
    assert run('*[_type == "errorLog" && (resolved || severity == "warning")]._id') == [
        "e3",
        "e4",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("2 in [1, 2, 3]", True),
        ('"b" in ["a"]', False),
        ("null in [null]", True),
        ("null in [1]", False),
        ("1 in [true]", False),
        ("true in [1]", False),
        ("[1] in [[1]]", False),
        ("1.0 in [1]", True),
        ("2 in 1..3", True),
        ("3 in 1..3", True),
        ("3 in 1...3", False),
        ("0 in 1..3", False),
        ("1.5 in 1..2", True),
        ('"b" in "a".."c"', True),
        ('1 in "a".."c"', None),
        ('1 in 1.."z"', None),
        ("1 in 2", None),
        ("1 in null", None),
        ('"a" in "abc"', None),
        ("2 in [1, ...[2]]", True),
    ],
)
def test_in(run: Run, query: str, expected: Any) -> None:
    assert run(query) is expected


def test_in_with_params_and_attributes(run: Run) -> None:
    assert run("$x in $list", x=2, list=[1, 2]) is True
    assert run("$x in $list", x="2", list=[1, 2]) is False
    assert run('*["gift" in tags]._id') == ["p1"]
    assert run("*[price in 10..13]._id") == ["p1", "drafts.p1"]
    assert run("*[price in $low...$high]._id", low=8.5, high=13) == ["p1", "p3"]
