"""Compiled GROQ operators: equality, comparison, `in`, arithmetic (spec "Operators").

Each builder specialises the common shapes of a service's filters (an attribute compared
with a constant, `x in $list`) and folds operations on constants.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from cms_client.groq.compiled import Compiled, Scope, fold
from cms_client.groq.values import (
    COMPARABLE_TYPES,
    NUMBER_TYPES,
    GroqPath,
    equal,
    number,
    partial_compare,
    shift_datetime,
)


def compile_equality(left: Compiled, right: Compiled, *, negate: bool) -> Compiled:
    if left.const and not right.const:
        left, right = right, left
    fn = left.fn
    if right.const and not left.const:
        c = right.value
        tc = type(c)
        path = left.path
        if tc is str and path is not None and len(path) == 1 and not negate:
            # The hot case: `_type == "product"`.
            name = path[0]

            def attr_equals_string(s: Scope) -> bool:
                this = s[0]
                return type(this) is dict and this.get(name) == c

            return Compiled(attr_equals_string, boolean=True, equals=(name, c))
        if c is None:

            def test(s: Scope) -> bool:
                return fn(s) is None

        elif tc is str:
            text: str = c

            def test(s: Scope) -> bool:
                # No non-string equals a string, so plain `==` is the spec's Equal here.
                value: object = fn(s)
                return text == value

        elif tc is bool:

            def test(s: Scope) -> bool:
                return fn(s) is c

        elif tc in NUMBER_TYPES:

            def test(s: Scope) -> bool:
                value = fn(s)
                return type(value) in NUMBER_TYPES and value == c

        else:

            def test(s: Scope) -> bool:
                return equal(fn(s), c)

        if not negate:
            return Compiled(test, boolean=True)

        def not_test(s: Scope) -> bool:
            return not test(s)

        return Compiled(not_test, boolean=True)

    other = right.fn
    if negate:

        def unequal(s: Scope) -> bool:
            return not equal(fn(s), other(s))

        return _boolean(fold(unequal, left, right))

    def equals(s: Scope) -> bool:
        return equal(fn(s), other(s))

    return _boolean(fold(equals, left, right))


def _boolean(compiled: Compiled) -> Compiled:
    compiled.boolean = True
    return compiled


_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def compile_comparison(op: str, left: Compiled, right: Compiled) -> Compiled:
    if left.const and not right.const:
        left, right, op = right, left, _FLIPPED[op]
    fn = left.fn
    if right.const and not left.const and type(right.value) in COMPARABLE_TYPES:
        c = right.value
        accepted = NUMBER_TYPES if type(c) in NUMBER_TYPES else frozenset({type(c)})

        if op == "<":

            def compare(s: Scope) -> Any:
                v = fn(s)
                return v < c if type(v) in accepted else None

        elif op == "<=":

            def compare(s: Scope) -> Any:
                v = fn(s)
                return v <= c if type(v) in accepted else None

        elif op == ">":

            def compare(s: Scope) -> Any:
                v = fn(s)
                return v > c if type(v) in accepted else None

        else:

            def compare(s: Scope) -> Any:
                v = fn(s)
                return v >= c if type(v) in accepted else None

        return Compiled(compare)

    other = right.fn
    wanted = {"<": (-1,), "<=": (-1, 0), ">": (1,), ">=": (1, 0)}[op]

    def general(s: Scope) -> Any:
        order = partial_compare(fn(s), other(s))
        return None if order is None else order in wanted

    return fold(general, left, right)


def compile_in(left: Compiled, right: Compiled) -> Compiled:
    fn = left.fn
    if right.const and type(right.value) is list:
        return _compile_membership(left, right.value)
    if right.const and type(right.value) is GroqPath:
        pattern: GroqPath = right.value

        def in_path(s: Scope) -> Any:
            value = fn(s)
            if type(value) is GroqPath:
                value = value.pattern
            return pattern.matches(value) if type(value) is str else None

        return fold(in_path, left)
    other = right.fn

    def in_(s: Scope) -> Any:
        value = fn(s)
        choices = other(s)
        if type(choices) is list:
            return any(equal(value, choice) for choice in choices)
        if type(choices) is GroqPath:
            if type(value) is GroqPath:
                value = value.pattern
            return choices.matches(value) if type(value) is str else None
        return None

    return fold(in_, left, right)


def _compile_membership(left: Compiled, choices: list[Any]) -> Compiled:
    """`x in [...]` with a constant array: a set lookup per type instead of a scan."""
    fn = left.fn
    strings: set[str] = set()
    numbers: set[int | float] = set()
    datetimes: set[datetime] = set()
    booleans: set[bool] = set()
    has_null = False
    for choice in choices:
        tc = type(choice)
        if choice is None:
            has_null = True
        elif tc is str:
            strings.add(choice)
        elif tc is bool:
            booleans.add(choice)
        elif tc in NUMBER_TYPES:
            numbers.add(choice)
        elif tc is datetime:
            datetimes.add(choice)
        # Arrays and objects equal nothing, so they can never match.
    if len(strings) == len(choices):

        def in_strings(s: Scope) -> bool:
            value = fn(s)
            return type(value) is str and value in strings

        return _boolean(fold(in_strings, left))

    def member(s: Scope) -> bool:
        value = fn(s)
        tv = type(value)
        if tv is str:
            return value in strings
        if value is None:
            return has_null
        if tv is bool:
            return value in booleans
        if tv in NUMBER_TYPES:
            return value in numbers
        if tv is datetime:
            return value in datetimes
        return False

    return _boolean(fold(member, left))


def compile_in_range(
    value: Compiled, low: Compiled, high: Compiled, *, inclusive: bool
) -> Compiled:
    fn, low_fn, high_fn = value.fn, low.fn, high.fn

    def in_range(s: Scope) -> Any:
        start = low_fn(s)
        end = high_fn(s)
        # Spec EvaluateRange: endpoints that cannot be compared make no range (null).
        if partial_compare(start, end) is None:
            return None
        v = fn(s)
        above = partial_compare(v, start)
        below = partial_compare(v, end)
        if above is None or below is None:
            return None
        if above < 0 or below > 0:
            return False
        return inclusive or below != 0

    return fold(in_range, value, low, high)


def compile_arithmetic(op: str, left: Compiled, right: Compiled) -> Compiled:
    fn, other = left.fn, right.fn
    operation = _ARITHMETIC[op]

    def arithmetic(s: Scope) -> Any:
        return operation(fn(s), other(s))

    return fold(arithmetic, left, right)


def _double(value: int | float) -> int | float:
    """A Python int beyond 2**53 is not a GROQ number yet: round it to the double it is."""
    if type(value) is int and not -_EXACT <= value <= _EXACT:
        return float(value)
    return value


_EXACT = 2**53


def _plus(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta in NUMBER_TYPES and tb in NUMBER_TYPES:
        return number(_double(a) + _double(b))
    if ta is tb and (ta is str or ta is list):
        return a + b
    if ta is dict and tb is dict:
        return {**a, **b}
    if ta is datetime and tb in NUMBER_TYPES:
        return shift_datetime(a, b)
    if tb is datetime and ta in NUMBER_TYPES:
        return shift_datetime(b, a)
    return None


def _minus(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta in NUMBER_TYPES and tb in NUMBER_TYPES:
        return number(_double(a) - _double(b))
    if ta is datetime:
        if tb is datetime:
            return number((a - b).total_seconds())
        if tb in NUMBER_TYPES:
            return shift_datetime(a, -b)
    return None


def _times(a: Any, b: Any) -> Any:
    if type(a) in NUMBER_TYPES and type(b) in NUMBER_TYPES:
        return number(_double(a) * _double(b))
    return None


def _divide(a: Any, b: Any) -> Any:
    if type(a) in NUMBER_TYPES and type(b) in NUMBER_TYPES and b != 0:
        try:
            return number(_double(a) / _double(b))
        except OverflowError:
            return None
    return None


def _remainder(a: Any, b: Any) -> Any:
    if type(a) in NUMBER_TYPES and type(b) in NUMBER_TYPES and b != 0:
        a, b = _double(a), _double(b)
        # The sign follows the dividend, as in JavaScript (Python's % follows the divisor).
        if type(a) is int and type(b) is int:
            r = abs(a) % abs(b)
            return -r if a < 0 else r
        return number(math.fmod(a, b))
    return None


def _power(a: Any, b: Any) -> Any:
    if type(a) not in NUMBER_TYPES or type(b) not in NUMBER_TYPES:
        return None
    a, b = _double(a), _double(b)
    try:
        approximate = math.pow(a, b)
    except (OverflowError, ValueError):
        return None
    if type(a) is int and type(b) is int and b >= 0:
        # Within double range (checked above), so the exact integer is small enough.
        return number(a**b)
    return number(approximate)


_ARITHMETIC = {
    "+": _plus,
    "-": _minus,
    "*": _times,
    "/": _divide,
    "%": _remainder,
    "**": _power,
}
