"""Every patch operation on its own, and Sanity's fixed order when several share a patch."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cms_client.lake.patches import PatchProblem, apply_patch


def patched(document: dict[str, Any], operations: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(document)
    apply_patch(result, operations)
    return result


DOC: dict[str, Any] = {
    "_id": "p",
    "_type": "product",
    "title": "Mug",
    "stock": {"onHand": 5, "reserved": 1},
    "items": [{"_key": "a", "qty": 1}, {"_key": "b", "qty": 2}],
    "tags": ["x", "y", "z"],
}


class TestSet:
    def test_overwrites_and_adds_attributes(self):
        out = patched(DOC, {"set": {"title": "Cup", "stock.onHand": 9, "color": "red"}})
        assert (out["title"], out["stock"]["onHand"], out["color"]) == ("Cup", 9, "red")
        assert out["stock"]["reserved"] == 1

    def test_creates_missing_parent_objects(self):
        assert patched(DOC, {"set": {"a.b.c": 1}})["a"] == {"b": {"c": 1}}

    def test_sets_array_items_by_index_and_by_key(self):
        out = patched(DOC, {"set": {"tags[0]": "X", "tags[-1]": "Z", 'items[_key=="b"].qty': 7}})
        assert out["tags"] == ["X", "y", "Z"]
        assert out["items"][1] == {"_key": "b", "qty": 7}

    def test_replaces_a_whole_item_by_key(self):
        out = patched(DOC, {"set": {'items[_key=="a"]': {"_key": "a", "qty": 0}}})
        assert out["items"][0] == {"_key": "a", "qty": 0}

    def test_a_path_that_does_not_match_changes_nothing(self):
        ops = {"set": {"tags[9]": "?", 'items[_key=="zz"].qty': 1, "title.sub": 1}}
        assert patched(DOC, ops) == DOC

    def test_values_are_copied_not_shared(self):
        value = {"nested": [1]}
        out = patched(DOC, {"set": {"meta": value}})
        value["nested"].append(2)
        assert out["meta"] == {"nested": [1]}


class TestSetIfMissing:
    def test_writes_only_absent_keys(self):
        out = patched(DOC, {"setIfMissing": {"title": "No", "stock.onHand": 0, "stock.sold": 0}})
        assert out["title"] == "Mug"
        assert out["stock"] == {"onHand": 5, "reserved": 1, "sold": 0}

    def test_null_counts_as_present(self):
        assert patched({"a": None}, {"setIfMissing": {"a": 1}}) == {"a": None}

    def test_creates_parents(self):
        assert patched({}, {"setIfMissing": {"a.b": []}}) == {"a": {"b": []}}


class TestUnset:
    def test_removes_attributes_items_and_ignores_missing(self):
        out = patched(DOC, {"unset": ["title", 'items[_key=="a"]', "tags[-1]", "nope", "x.y"]})
        assert "title" not in out
        assert out["items"] == [{"_key": "b", "qty": 2}]
        assert out["tags"] == ["x", "y"]

    def test_takes_a_list(self):
        with pytest.raises(PatchProblem, match="array of paths"):
            patched(DOC, {"unset": "title"})


class TestIncDec:
    def test_adds_and_subtracts(self):
        out = patched(DOC, {"inc": {"stock.onHand": 2, 'items[_key=="b"].qty': 1.5}})
        assert out["stock"]["onHand"] == 7
        assert out["items"][1]["qty"] == 3.5
        assert patched(DOC, {"dec": {"stock.reserved": 1}})["stock"]["reserved"] == 0

    def test_integers_stay_integers(self):
        value = patched(DOC, {"inc": {"stock.onHand": 1}})["stock"]["onHand"]
        assert value == 6 and isinstance(value, int)

    @pytest.mark.parametrize("path", ["stock.sold", "nope.deeper", 'items[_key=="zz"].qty'])
    def test_a_missing_field_fails(self, path):
        with pytest.raises(PatchProblem, match="does not exist"):
            patched(DOC, {"inc": {path: 1}})

    @pytest.mark.parametrize(("path", "kind"), [("title", "str"), ("stock", "dict")])
    def test_a_non_number_fails(self, path, kind):
        with pytest.raises(PatchProblem, match=f"its value is {kind}, not a number"):
            patched(DOC, {"dec": {path: 1}})

    def test_booleans_are_not_numbers(self):
        with pytest.raises(PatchProblem, match="not a number"):
            patched({"flag": True}, {"inc": {"flag": 1}})
        with pytest.raises(PatchProblem, match="not a number"):
            patched(DOC, {"inc": {"stock.onHand": True}})


class TestInsert:
    def test_before_after_replace_by_index(self):
        assert patched(DOC, {"insert": {"before": "tags[0]", "items": ["w"]}})["tags"] == [
            "w",
            "x",
            "y",
            "z",
        ]
        assert patched(DOC, {"insert": {"after": "tags[-1]", "items": ["!", "?"]}})["tags"] == [
            "x",
            "y",
            "z",
            "!",
            "?",
        ]
        assert patched(DOC, {"insert": {"replace": "tags[1]", "items": ["Y1", "Y2"]}})["tags"] == [
            "x",
            "Y1",
            "Y2",
            "z",
        ]

    def test_by_key(self):
        new = {"_key": "n", "qty": 0}
        out = patched(DOC, {"insert": {"after": 'items[_key=="a"]', "items": [new]}})
        assert [item["_key"] for item in out["items"]] == ["a", "n", "b"]
        out = patched(DOC, {"insert": {"replace": 'items[_key=="b"]', "items": [new]}})
        assert [item["_key"] for item in out["items"]] == ["a", "n"]

    def test_into_an_empty_array(self):
        assert patched({"a": []}, {"insert": {"after": "a[-1]", "items": [1]}}) == {"a": [1]}
        assert patched({"a": []}, {"insert": {"before": "a[0]", "items": [1]}}) == {"a": [1]}

    @pytest.mark.parametrize(
        ("spec", "problem"),
        [
            ({"after": "missing[-1]", "items": [1]}, "no array there"),
            ({"after": "title[0]", "items": [1]}, "no array there"),
            ({"after": "tags[7]", "items": [1]}, "no such array item"),
            ({"after": 'items[_key=="zz"]', "items": [1]}, "no such array item"),
            ({"after": "tags", "items": [1]}, "must name an array item"),
            ({"after": "tags[0]"}, "'items' array"),
            ({"after": "tags[0]", "before": "tags[0]", "items": [1]}, "exactly one"),
        ],
    )
    def test_refusals(self, spec, problem):
        with pytest.raises(PatchProblem, match=problem):
            patched(DOC, {"insert": spec})


class TestOrder:
    def test_sanity_order_whatever_the_key_order(self):
        # insert, dec, inc, unset, set, setIfMissing as written; applied in the reverse.
        ops = {
            "insert": {"after": "log[-1]", "items": ["end"]},
            "dec": {"n": 1},
            "inc": {"n": 10},
            "unset": ["tmp"],
            "set": {"tmp": 1, "n": 5},
            "setIfMissing": {"n": 100, "log": []},
        }
        # setIfMissing n=100, log=[] -> set n=5 tmp=1 -> unset tmp -> inc 15 -> dec 14
        assert patched({}, ops) == {"n": 14, "log": ["end"]}

    def test_set_then_inc_sees_the_set_value(self):
        assert patched({}, {"inc": {"n": 1}, "set": {"n": 1}}) == {"n": 2}


class TestRefusals:
    @pytest.mark.parametrize("field", ["_id", "_rev", "_updatedAt"])
    def test_server_fields_cannot_be_patched(self, field):
        with pytest.raises(PatchProblem, match="set by the server"):
            patched(DOC, {"set": {field: "x"}})

    def test_unknown_operation(self):
        with pytest.raises(PatchProblem, match="Unknown patch operation 'replace'"):
            patched(DOC, {"replace": {"a": 1}})

    def test_bad_path_names_the_problem(self):
        with pytest.raises(PatchProblem, match="wildcards") as caught:
            patched(DOC, {"set": {"items[*].qty": 1}})
        assert caught.value.kind == "invalidPathError"

    def test_diff_match_patch_is_refused_not_ignored(self):
        with pytest.raises(PatchProblem, match="diffMatchPatch"):
            patched(DOC, {"diffMatchPatch": {"title": "@@ -1 +1 @@"}})
