from __future__ import annotations

import pytest

from cms_client.lake.paths import Index, Key, Match, PathError, format_path, locate, parse_path


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("stock", (Key("stock"),)),
        ("a.b.c", (Key("a"), Key("b"), Key("c"))),
        ("arr[0]", (Key("arr"), Index(0))),
        ("arr[-1]", (Key("arr"), Index(-1))),
        ('arr[_key=="k1"]', (Key("arr"), Match("_key", "k1"))),
        ("arr[_key=='k1'].qty", (Key("arr"), Match("_key", "k1"), Key("qty"))),
        ('arr[ _key == "k1" ].qty', (Key("arr"), Match("_key", "k1"), Key("qty"))),
        ("arr[n==3]", (Key("arr"), Match("n", 3))),
        ('a["odd-key"].b', (Key("a"), Key("odd-key"), Key("b"))),
        ("'odd key'.b", (Key("odd key"), Key("b"))),
        ('["x.y"]', (Key("x.y"),)),
        ('a["say \\"hi\\""]', (Key("a"), Key('say "hi"'))),
        ("grid[1][2]", (Key("grid"), Index(1), Index(2))),
        ("$price", (Key("$price"),)),
    ],
)
def test_parses_supported_forms(text, segments):
    assert parse_path(text) == segments


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "non-empty"),
        ("a..b", "recursive descent"),
        ("a[*]", "wildcards"),
        ("a.*", "wildcards"),
        ("a[1:3]", "ranges"),
        ("a[1,2]", "ranges and unions"),
        ("a[?(@.x==1)]", "filter expressions"),
        ("a[", "unterminated"),
        ("a[0", "expected ']'"),
        ('a["x]', "unterminated quoted"),
        ("a[_key]", "expected '=='"),
        ("a[_key==]", "string or number"),
        ("a b", "unexpected ' '"),
        ("9lives", "attribute name"),
    ],
)
def test_refuses_what_it_does_not_support_and_says_where(text, problem):
    with pytest.raises(PathError, match=problem.replace("[", r"\[").replace("(", r"\(")):
        parse_path(text)


def test_format_round_trips():
    for text in ['a.b[0][_key=="k"].c', 'a["odd-key"][-1]', "a[n==3]"]:
        assert format_path(parse_path(text)) == text


def test_locate_finds_items_by_index_and_key():
    doc = {"items": [{"_key": "a", "q": 1}, {"_key": "b", "q": 2}]}
    assert locate(doc, parse_path("items[-1].q"), create=False).get() == 2  # type: ignore[union-attr]
    assert locate(doc, parse_path('items[_key=="a"].q'), create=False).get() == 1  # type: ignore[union-attr]
    assert locate(doc, parse_path("items[2]"), create=False) is None
    assert locate(doc, parse_path('items[_key=="zz"].q'), create=False) is None


def test_locate_creates_missing_objects_only_when_the_rest_can_match():
    doc: dict[str, object] = {"s": "text"}
    place = locate(doc, parse_path("a.b.c"), create=True)
    assert place is not None
    place.put(1)
    assert doc["a"] == {"b": {"c": 1}}
    assert locate(doc, parse_path("x.list[0]"), create=True) is None
    assert "x" not in doc, "a path that cannot match leaves the document untouched"
    assert locate(doc, parse_path("s.inner"), create=True) is None
    assert doc["s"] == "text"


def test_match_never_confuses_booleans_with_numbers():
    doc = {"arr": [{"n": True}, {"n": 1}]}
    place = locate(doc, parse_path("arr[n==1]"), create=False)
    assert place is not None and place.slot == 1
