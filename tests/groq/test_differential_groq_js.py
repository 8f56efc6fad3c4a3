"""The lake's GROQ engine against groq-js (the reference implementation) on generated queries
and documents: every case must give the same answer, or both must refuse the query.

Hypothesis builds batches of cases (a small dataset, a query from a grammar covering
operators, traversals, `->`, `match`, `score`, order, slices, projections and the function
namespaces, and parameters); each batch runs through groq-js in one Node process. Derandomized,
so CI sees the same cases every run.

Documented differences are left out of the grammar rather than excused after the fact:
- `array::unique` (the official suite, which the engine follows, removes duplicate nulls;
  groq-js keeps them) - covered by the suite instead;
- datetimes with sub-millisecond digits or shifted by fractions of a second (groq-js's
  JavaScript dates keep milliseconds; the engine keeps microseconds, like the stored text);
- `now()`'s text (both RFC 3339 UTC: groq-js always writes milliseconds, `.000Z`; the engine
  writes them only when there are some, as it does for every datetime);
- `identity()` (the caller's identity; groq-js answers "me" by default, as the engine does).

One refusal is documented rather than avoided: `*[0] | score(...)` (score over one element)
is invalid in the official suite, which the engine follows; groq-js answers null.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cms_client.errors import QueryError
from cms_client.groq import ListSource, evaluate
from tests.groq.conftest import NOW
from tests.support.node import run_node

_NODE_SCRIPT = """
import { parse, evaluate } from "groq-js";
let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = [];
const { documents, cases } = JSON.parse(input);
for (const { query, params } of cases) {
  try {
    const tree = parse(query, { params });
    const value = await evaluate(tree, { dataset: documents, params, timestamp: new Date(NOW) });
    out.push({ ok: true, result: await value.get() });
  } catch (error) {
    out.push({ ok: false, error: String(error && error.message) });
  }
}
console.log(JSON.stringify(out));
""".replace("NOW", json.dumps(NOW.isoformat()))

IDS = ["d0", "d1", "d2", "d3", "d4"]
WORDS = ["a", "b", "ab", "Hello world", "fish", "x.y", "the quick fox", "", "Ab"]
NUMBERS = [0, 1, 2, 3, -1, 7, 0.5, 2.25, -1.5, 10, 1e3, 0.1]

# Scalars, then values built from them.
scalar = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(WORDS),
    st.booleans(),
    st.none(),
)
value = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["x", "y", "a"]), inner, max_size=3),
    ),
    max_leaves=6,
)
block = st.builds(
    lambda texts: {
        "_type": "block",
        "children": [{"_type": "span", "text": text} for text in texts],
    },
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=2),
)


@st.composite
def documents(draw: st.DrawFn) -> list[dict[str, Any]]:
    docs = []
    for doc_id in IDS[: draw(st.integers(2, 5))]:
        doc: dict[str, Any] = {"_id": doc_id, "_type": draw(st.sampled_from(["t", "u"]))}
        for field in ("a", "b"):
            if draw(st.booleans()):
                doc[field] = draw(value)
        doc["n"] = draw(st.sampled_from(NUMBERS))
        doc["s"] = draw(st.sampled_from(WORDS))
        doc["arr"] = draw(st.lists(scalar, max_size=4))
        doc["obj"] = {"x": draw(scalar), "y": draw(st.sampled_from(NUMBERS))}
        doc["ref"] = {"_ref": draw(st.sampled_from([*IDS, "missing"]))}
        doc["refs"] = [{"_ref": draw(st.sampled_from(IDS))} for _ in range(draw(st.integers(0, 2)))]
        if draw(st.booleans()):
            doc["body"] = draw(st.lists(block, min_size=1, max_size=2))
        doc["at"] = draw(
            st.sampled_from(["2025-03-01T12:00:00Z", "2024-01-31T23:59:59.250Z", "not a date"])
        )
        docs.append(doc)
    return docs


def _literal(item: Any) -> str:
    return json.dumps(item)


ATTRIBUTES = [
    "a",
    "b",
    "n",
    "s",
    "arr",
    "obj",
    "obj.x",
    "obj.y",
    "arr[0]",
    "arr[-1]",
    "arr[1..2]",
    "arr[0...1]",
    "arr[]",
    "ref->n",
    "ref->s",
    "ref->_id",
    "refs[]->n",
    "refs[]->_id",
    "body",
    "at",
    "_type",
    "_id",
    "$p",
    "$q",
    "@.n",
]

UNARY_FUNCTIONS = [
    "count",
    "defined",
    "length",
    "string",
    "round",
    "lower",
    "upper",
    "string::lower",
    "array::compact",
    "math::sum",
    "math::min",
    "math::max",
    "math::avg",
    "pt::text",
    "dateTime",
]
BINARY_FUNCTIONS = [
    "string::split",
    "string::startsWith",
    "array::join",
    "array::intersects",
    "coalesce",
    "round",
]
OPERATORS = ["==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "&&", "||", "in", "match"]
SELECTORS = ["x", "(x, y)", "a", "obj.x", "arr[]", "(x, a).y", "anywhere(x == 1)"]


def expressions(depth: int) -> st.SearchStrategy[str]:
    leaves = st.one_of(
        st.sampled_from(ATTRIBUTES),
        st.sampled_from(NUMBERS).map(_literal),
        st.sampled_from(WORDS).map(_literal),
        st.sampled_from(["true", "false", "null", "[1, 2, 3]", '["a", "b"]']),
    )
    if depth == 0:
        return leaves
    sub = expressions(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(sub, st.sampled_from(OPERATORS), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["!", "-"]), sub).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(UNARY_FUNCTIONS), sub).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(BINARY_FUNCTIONS), sub, sub).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        st.tuples(sub, sub, sub).map(lambda t: f"select({t[0]} => {t[1]}, {t[2]})"),
        st.tuples(sub, sub).map(lambda t: f"[{t[0]}, {t[1]}]"),
        st.tuples(sub, st.sampled_from(["1..3", "0...2", '"a".."b"'])).map(
            lambda t: f"({t[0]} in {t[1]})"
        ),
        st.tuples(sub, sub).map(lambda t: f'{{"k": {t[0]}, "m": {t[1]}}}'),
        st.sampled_from(["1", "-1", "3", "60"]).map(lambda t: f"dateTime(at) + {t}"),
        st.sampled_from(['"*"', '"d*"', '"d?"']).map(lambda t: f"_id in path({t})"),
        st.just("references(ref._ref)"),
        st.tuples(
            st.sampled_from(["2", "3", "-2", "0.5"]), st.sampled_from(["0", "2", "3", "-1"])
        ).map(lambda t: f"({t[0]} ** {t[1]})"),
        st.tuples(sub, sub, st.sampled_from(SELECTORS)).map(
            lambda t: f"diff::changedAny({t[0]}, {t[1]}, {t[2]})"
        ),
        st.sampled_from(SELECTORS).map(lambda t: f"diff::changedOnly(obj, ref->obj, {t})"),
        st.tuples(sub, sub).map(lambda t: f'{{...obj, "z": {t[0]}, {t[1]} => {{"w": 1}}}}'),
        st.just('sanity::versionOf("d1")'),
    )


EXPRESSIONS = expressions(2)


@st.composite
def queries(draw: st.DrawFn) -> str:
    expr = EXPRESSIONS
    shape = draw(st.integers(0, 9))
    e1, e2 = draw(expr), draw(expr)
    if shape == 0:
        return e1
    if shape == 1:
        return f'*[{e1}]{{_id, "v": {e2}}}'
    if shape == 2:
        return f"*[{e1}] | order({e2} {draw(st.sampled_from(['asc', 'desc']))}, _id) [0..2] {{_id}}"
    if shape == 3:
        return f"count(*[{e1}])"
    if shape == 4:
        return f'*{{_id, ref->{{n, s}}, "v": {e1}}}'
    if shape == 5:
        return (
            f"*[{e1}] | score(s match {draw(st.sampled_from(WORDS).map(_literal))}) {{_id, _score}}"
        )
    if shape == 6:
        return f'*[_type == "t"].{draw(st.sampled_from(["n", "arr[]", "ref->s", "obj.x"]))}'
    if shape == 7:
        return f'*{{_id, "same": *[{e1} == ^.{draw(st.sampled_from(["n", "s", "a"]))}]._id}}'
    if shape == 8:
        return f'fn f::g($d) = $d{{_id, "v": {e1}}}; *[{e2}]{{"r": f::g(ref->)}}'
    return f"*[{e1}]{{_id, n, s}} | order({e2} desc)"


case = st.fixed_dictionaries(
    {
        "query": queries(),
        "params": st.fixed_dictionaries({"p": scalar, "q": st.lists(scalar, max_size=3)}),
    }
)


def same(expected: Any, actual: Any) -> bool:
    """JSON equality with GROQ's numbers (1 == 1.0, never == true) and unordered keys."""
    if expected is None or type(expected) in (bool, str):
        return type(actual) is type(expected) and actual == expected
    if type(expected) in (int, float):
        return type(actual) in (int, float) and (
            float(expected) == float(actual)
            or math.isclose(float(expected), float(actual), rel_tol=1e-15)
        )
    if type(expected) is list:
        return (
            type(actual) is list
            and len(actual) == len(expected)
            and all(same(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if type(expected) is dict:
        return (
            type(actual) is dict
            and expected.keys() == actual.keys()
            and all(same(item, actual[key]) for key, item in expected.items())
        )
    return False


DOCUMENTED_REFUSALS = ("score() must be applied to documents of `*`",)


def lake_answer(documents: list[dict[str, Any]], item: dict[str, Any]) -> dict[str, Any]:
    try:
        result = evaluate(item["query"], ListSource(documents), item["params"], now=NOW)
    except QueryError as exc:
        return {"ok": False, "error": exc.message, "unsupported": exc.construct is not None}
    return {"ok": True, "result": result}


def disagreements(documents: list[dict[str, Any]], batch: list[dict[str, Any]]) -> list[str]:
    payload = json.dumps({"documents": documents, "cases": batch})
    theirs = json.loads(run_node(_NODE_SCRIPT, stdin=payload, timeout=300))
    found = []
    for item, js in zip(batch, theirs, strict=True):
        ours = lake_answer(documents, item)
        if not ours["ok"] and not js["ok"]:
            continue
        if not ours["ok"] and any(fragment in ours["error"] for fragment in DOCUMENTED_REFUSALS):
            continue
        if ours["ok"] and js["ok"] and same(js["result"], ours["result"]):
            continue
        found.append(
            f"{item['query']!r} params={item['params']}\n"
            f"  groq-js: {json.dumps(js)[:400]}\n  lake:    {json.dumps(ours, default=str)[:400]}"
        )
    return found


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    # No shrinking: every case of a failing batch is reported, and shrinking would re-run
    # Node hundreds of times.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(documents(), st.lists(case, min_size=30, max_size=30))
def test_lake_and_groq_js_agree_on_generated_queries(
    docs: list[dict[str, Any]], batch: list[dict[str, Any]]
) -> None:
    found = disagreements(docs, batch)
    assert not found, (
        f"{len(found)} of {len(batch)} disagree over {json.dumps(docs)}:\n" + "\n".join(found[:10])
    )


def test_the_comparison_catches_a_difference() -> None:
    assert not same(1, True)
    assert not same({"a": 1}, {"a": 1, "b": 2})
    assert same({"a": 1.0, "b": [None]}, {"b": [None], "a": 1})
    assert disagreements([], [{"query": "1 + 1", "params": {}}]) == []
