"""GROQ values as Python objects, and the spec's equality and ordering over them.

JSON values map to themselves (`None`, `bool`, `int`/`float`, `str`, `list`, `dict`). The two
GROQ-only types are a timezone-aware `datetime` in UTC (from `dateTime()`) and `GroqPath`
(from `path()`); `to_json` turns both into strings for the result. `bool` is tested before
numbers everywhere because Python counts `True` as the integer 1 and GROQ does not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

NUMBER_TYPES = frozenset({int, float})
# Types PartialCompare orders (mixed int/float is handled separately).
COMPARABLE_TYPES = frozenset({int, float, str, bool, datetime})
_LARGEST_DOUBLE = 1.7976931348623157e308
_EXACT_INT_LIMIT = 2**53

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})\Z")
# RFC 3339 also allows a lowercase `t` and `z`.
_RFC3339_ANY_CASE = re.compile(_RFC3339.pattern, re.IGNORECASE)


class GroqPath:
    """A `path()` pattern: `*` matches one dot-free segment, `**` matches anything."""

    __slots__ = ("_regex", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        parts = []
        for part in pattern.split("."):
            if part == "*":
                parts.append(r"[^.]+")
            elif part == "**":
                parts.append(r".*")
            else:
                parts.append(re.escape(part))
        self._regex = re.compile(r"\.".join(parts) + r"\Z", re.DOTALL)

    def matches(self, text: str) -> bool:
        return self._regex.match(text) is not None

    def __repr__(self) -> str:
        return f"GroqPath({self.pattern!r})"


def parse_datetime(text: str) -> datetime | None:
    """RFC 3339 (`2024-05-01T10:00:00Z`, fractions, offsets) to UTC; None when invalid."""
    if _RFC3339.match(text) is None:
        if _RFC3339_ANY_CASE.match(text) is None:
            return None
        text = text.upper()
    try:
        # The pattern has vetted the shape; fromisoformat checks the calendar and clock.
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


def format_datetime(moment: datetime) -> str:
    """RFC 3339 with `Z`: no fraction for whole seconds, 3 digits for milliseconds, else 6."""
    moment = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    text = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
    text += f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    micro = moment.microsecond
    if micro == 0:
        return text + "Z"
    if micro % 1000 == 0:
        return text + f".{micro // 1000:03d}Z"
    return text + f".{micro:06d}Z"


def shift_datetime(moment: datetime, seconds: float) -> datetime | None:
    try:
        return moment + timedelta(seconds=seconds)
    except OverflowError:
        return None


def js_string(value: Any) -> str:
    """What JavaScript's `${value}` gives for a boolean, number or datetime."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is datetime:
        return format_datetime(value)
    if type(value) is int:
        if abs(value) < 10**21:
            return str(value)
        value = float(value)
    return _js_number(float(value))


def _js_number(value: float) -> str:
    """ECMAScript Number::toString: the shortest round-trip digits, laid out its way."""
    if value == 0:
        return "0"
    if value < 0:
        return "-" + _js_number(-value)
    # repr() has the shortest round-trip digits, as JavaScript does; only the layout differs.
    shortest = repr(value)
    mantissa, _, exp_part = shortest.partition("e")
    exponent = int(exp_part) if exp_part else 0
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # Position of the decimal point relative to the digit string (value = 0.digits * 10**n).
    leading_zeros = len(whole + fraction) - len((whole + fraction).lstrip("0"))
    n = len(whole) - leading_zeros + exponent
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    sign = "+" if n - 1 >= 0 else "-"
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{head}e{sign}{abs(n - 1)}"


def number(result: int | float) -> int | float | None:
    """A GROQ number: non-finite becomes null, and a whole float is written as an integer."""
    if type(result) is float:
        if not math.isfinite(result):
            return None
        if result.is_integer() and -_EXACT_INT_LIMIT < result < _EXACT_INT_LIMIT:
            return int(result)
        return result
    if -_EXACT_INT_LIMIT <= result <= _EXACT_INT_LIMIT:
        return result
    # Beyond 2**53 an exact integer result is rounded to the double IEEE arithmetic gives.
    if -_LARGEST_DOUBLE <= result <= _LARGEST_DOUBLE:
        return float(result)
    return None


def equal(a: Any, b: Any) -> bool:
    """Spec `Equal`: null equals null; numbers, strings, booleans and datetimes by value;
    arrays and objects are never equal (not even to themselves)."""
    if a is None:
        return b is None
    ta = type(a)
    tb = type(b)
    if ta is str or ta is datetime:
        return tb is ta and a == b
    if ta is bool:
        return tb is bool and a is b
    if ta in NUMBER_TYPES:
        return tb in NUMBER_TYPES and a == b
    return False


def partial_compare(a: Any, b: Any) -> int | None:
    """Spec `PartialCompare`: -1, 0 or 1 between same-typed comparable values, else None."""
    ta = type(a)
    tb = type(b)
    if ta is not tb and not (ta in NUMBER_TYPES and tb in NUMBER_TYPES):
        return None
    if ta not in COMPARABLE_TYPES:
        return None
    return -1 if a < b else (1 if a > b else 0)


def total_order_key(value: Any) -> tuple[int, Any]:
    """Spec `TotalCompare` as a sort key: datetimes, numbers, strings, booleans, then the
    rest (null, arrays, objects), which compare equal to each other."""
    t = type(value)
    if t is datetime:
        return (1, value)
    if t in NUMBER_TYPES:
        return (2, value)
    if t is str:
        return (3, value)
    if t is bool:
        return (4, value)
    return (5, 0)


def to_json(value: Any) -> Any:
    """Replace datetimes and paths (at any depth) by their JSON strings."""
    t = type(value)
    if t is dict:
        return {key: to_json(item) for key, item in value.items()}
    if t is list:
        return [to_json(item) for item in value]
    if t is datetime:
        return format_datetime(value)
    if t is GroqPath:
        return value.pattern
    return value


def from_json(value: Any, where: str) -> Any:
    """Check a parameter is a JSON value and copy it into plain dicts and lists.

    Raises TypeError naming `where` for anything else (a set, a datetime, ...). Non-finite
    floats become null, as GROQ has no NaN or Infinity.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return number(float(value))
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-string key {key!r}")
            result[key] = from_json(item, f"{where}.{key}")
        return result
    if isinstance(value, list | tuple):
        return [from_json(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise TypeError(f"{where} is not a JSON value: {type(value).__name__}")
