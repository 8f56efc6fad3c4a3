"""The functions of the subset, `now`, datetime arithmetic and `path()`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.groq.conftest import Run


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('*[_type == "product" && defined(stock)]._id', ["p1", "p2"]),
        ("defined(null)", False),
        ("defined(0)", True),
        ("defined(false)", True),
        ("defined([])", True),
        ('count(*[_type == "errorLog"])', 4),
        ("count([])", 0),
        ('count("abc")', None),
        ("count(null)", None),
        ('count({"a": 1})', None),
        ("global::count([1])", 1),
        ("*[count(tags) > 1]._id", ["p1"]),
        ('*[_type == "product"]{"s": coalesce(stock, -1)}.s', [5, 0, -1, -1]),
        ("coalesce()", None),
        ("coalesce(null, null)", None),
        ("coalesce(null, false, 1)", False),
        ('lower("MiXed")', "mixed"),
        ('upper("abc")', "ABC"),
        ("lower(1)", None),
        ("upper(null)", None),
        ('string::startsWith("inventory.x", "inventory.")', True),
        ('string::startsWith("abc", "b")', False),
        ('string::startsWith(1, "a")', None),
        (
            '*[string::startsWith(_id, "inventory.")]._id',
            [
                "inventory.reservation.s1",
                "inventory.reservation.s2",
                "inventory.reservation.s3",
            ],
        ),
    ],
)
def test_functions(run: Run, query: str, expected: Any) -> None:
    assert run(query) == expected


def test_select(run: Run) -> None:
    level = '{"level": select(stock > 2 => "plenty", stock > 0 => "few", "none")}.level'
    assert run('*[_type == "product"]' + level) == ["plenty", "none", "none", "none"]
    assert run('*[_id == "p2"][0].variants[]' + level) == ["plenty", "few"]
    assert run("select(false => 1)") is None
    assert run("select(null => 1, 2)") == 2
    assert run("select()") is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('dateTime("2025-03-01T12:00:00Z")', "2025-03-01T12:00:00Z"),
        ('dateTime("2025-03-01T13:30:00.250+01:30")', "2025-03-01T12:00:00.250Z"),
        ('dateTime("2025-03-01T12:00:00.123456Z")', "2025-03-01T12:00:00.123456Z"),
        ('dateTime("2025-03-01t12:00:00z")', "2025-03-01T12:00:00Z"),
        ('dateTime(dateTime("2025-03-01T12:00:00Z"))', "2025-03-01T12:00:00Z"),
        ('dateTime("not a date")', None),
        ('dateTime("2025-02-30T00:00:00Z")', None),
        ('dateTime("2025-03-01")', None),
        ('dateTime("2025-03-01T12:00:00")', None),
        ("dateTime(5)", None),
        ("dateTime(null)", None),
        ('dateTime("2025-03-01T12:00:00Z") - dateTime("2025-03-01T11:00:00Z")', 3600),
        ('dateTime("2025-03-01T11:00:00Z") - dateTime("2025-03-01T12:00:00Z")', -3600),
        ('dateTime("2025-03-01T12:00:00.5Z") - dateTime("2025-03-01T12:00:00Z")', 0.5),
        ('dateTime("2025-03-01T12:00:00Z") + 90', "2025-03-01T12:01:30Z"),
        ('dateTime("2025-03-01T12:00:00Z") - 86400', "2025-02-28T12:00:00Z"),
        ('dateTime("2025-03-01T12:00:00Z") + 0.5', "2025-03-01T12:00:00.500Z"),
        ('dateTime("2025-03-01T12:00:00Z") - 60*60*24 < dateTime("2025-02-28T12:00:01Z")', True),
        ('dateTime("2025-03-01T12:00:00Z") + "x"', None),
        ('1 + dateTime("2025-03-01T12:00:00Z")', "2025-03-01T12:00:01Z"),
        ('dateTime("2025-03-01T12:00:00Z") * 2', None),
        ('dateTime("9999-12-31T23:59:59Z") + 1', None),
        ('[dateTime("2025-03-01T12:00:00Z")] + [1]', ["2025-03-01T12:00:00Z", 1]),
        ('{"at": dateTime("2025-03-01T12:00:00Z")}', {"at": "2025-03-01T12:00:00Z"}),
    ],
)
def test_datetimes(run: Run, query: str, expected: Any) -> None:
    assert run(query) == expected


def test_now_is_the_injected_time(run: Run) -> None:
    assert run("now()") == "2025-03-01T12:00:00Z"
    assert run('now() == "2025-03-01T12:00:00Z"') is True
    assert run("dateTime::now()") == "2025-03-01T12:00:00Z"
    assert run('dateTime::now() == dateTime("2025-03-01T12:00:00Z")') is True
    # now() is a string for compatibility, so it never equals a datetime.
    assert run("now() == dateTime::now()") is False
    assert run("dateTime::now() - dateTime(now())") == 0
    with_millis = datetime(2025, 3, 1, 14, 0, 0, 500_000, tzinfo=timezone(timedelta(hours=2)))
    assert run("now()", at=with_millis) == "2025-03-01T12:00:00.500Z"
    assert run("now()", at=datetime(2025, 3, 1, 12, 0)) == "2025-03-01T12:00:00Z"


def test_reservations_expired_against_the_injected_clock(run: Run) -> None:
    # s1 ends 11:00Z; s2 ends 13:00+01:00, which is exactly now (not before it).
    query = '*[_type == "stockReservation" && dateTime(expiresAt) < dateTime::now()]._id'
    assert run(query) == ["inventory.reservation.s1", "inventory.reservation.s3"]
    query = '*[_type == "stockReservation" && dateTime(expiresAt) <= dateTime::now() - 3600]._id'
    assert run(query) == ["inventory.reservation.s1", "inventory.reservation.s3"]
    query = '*[_type == "stockReservation" && dateTime(expiresAt) < dateTime::now() - 3600]._id'
    assert run(query) == ["inventory.reservation.s3"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('*[_id in path("inventory.*")]._id', []),
        (
            '*[_id in path("inventory.**")]._id',
            ["inventory.reservation.s1", "inventory.reservation.s2", "inventory.reservation.s3"],
        ),
        (
            '*[_id in path("inventory.reservation.*")]._id',
            ["inventory.reservation.s1", "inventory.reservation.s2", "inventory.reservation.s3"],
        ),
        ('*[_id in path("drafts.*")]._id', ["drafts.p1"]),
        ('count(*[!(_id in path("drafts.**"))])', 10),
        ('*[_id in path("p*")]._id', []),
        ('"a.b" in path("a.*")', True),
        ('"a.b.c" in path("a.*")', False),
        ('"a.b.c" in path("a.**")', True),
        ('"a" in path("a.**")', False),
        ('"a.b" in path("*.b")', True),
        ('5 in path("a.*")', None),
        ("path(5)", None),
        ('path("a.*")', "a.*"),
        ('[path("a.*")]', ["a.*"]),
    ],
)
def test_path(run: Run, query: str, expected: Any) -> None:
    assert run(query) == expected


def test_path_from_a_parameter(run: Run) -> None:
    assert run("*[_id in path($p)]._id", p="drafts.**") == ["drafts.p1"]
    # Only whole segments are wildcards; `?` and a partial `*` are literal characters.
    assert run("*[_id in path($p)]._id", p="p?") == []


def test_references(run: Run) -> None:
    docs = [
        {"_id": "x", "a": {"b": [{"_ref": "t1"}]}},
        {"_id": "y", "_ref": "t1"},
        # An object with a `_ref` answers for itself; its other fields are not searched.
        {"_id": "z", "r": {"_ref": "t2", "inner": {"_ref": "t1"}}},
        {"_id": "w", "text": "t1"},
    ]
    assert run('*[references("t1")]._id', docs=docs) == ["x", "y"]
    assert run('*[references("t2", "none")]._id', docs=docs) == ["z"]
    assert run("*[references($ids)]._id", docs=docs, ids=["t2", "t1"]) == ["x", "y", "z"]
    assert run("*[references($ids)]._id", docs=docs, ids=[]) == []
    assert run("*[references(1)]._id", docs=docs) == []
    assert run('*[references("p1")]._id') == ["inventory.reservation.s1"]
    assert run('*[_type == "product" && references(*[_type == "nothing"]._id)]') == []
