"""The official GROQ test suite (sanity-io/groq-test-suite) run against the lake's engine.

The suite lives outside the repository, in `../shared/reference/groq-test-suite/` next to the
checkout (its README gives the shape and the comparison rules); `SUITE_PATH` is None when it is
absent. Each test ends in one of three outcomes:

- `agree`: a valid query gives the expected result, or an invalid one is refused;
- `refused`: a valid query is refused with a `QueryError` (a documented refusal, never trusted);
- `wrong`: any other answer (a different result, an accepted invalid query, a crash).

Run `python3 -m uv run python -m tests.groq.official_suite` for the counts (`-v` lists every
test that did not agree).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from cms_client.errors import QueryError
from cms_client.groq import ListSource, evaluate, parse

_REPO = Path(__file__).resolve().parents[2]
_RELATIVE = Path("shared") / "reference" / "groq-test-suite" / "groq-suite.json.gz"


def _find_suite() -> Path | None:
    """`../shared/...` next to the checkout; a git worktree one folder deeper also finds it."""
    for folder in _REPO.parents:
        candidate = folder / _RELATIVE
        if candidate.exists():
            return candidate
    return None


SUITE_PATH = _find_suite()
#: What `now()` answers; no test of the suite depends on the clock's value.
NOW = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # "agree", "refused" or "wrong"
    detail: str = ""


@cache
def load_suite() -> dict[str, Any]:
    assert SUITE_PATH is not None
    with gzip.open(SUITE_PATH, "rt", encoding="utf-8") as handle:
        suite: dict[str, Any] = json.load(handle)
    return suite


@cache
def _source(dataset: str) -> ListSource:
    # The suite's datasets are sorted by `_id`, as a store returns them.
    documents = load_suite()["datasets"][dataset]["documents"]
    return ListSource(sorted(documents, key=lambda doc: str(doc.get("_id", ""))))


def matches(expected: Any, actual: Any) -> bool:
    """The suite's comparison: numbers exactly (as doubles), arrays in order, objects by the
    expected keys (a store may add `_rev`, `_createdAt`, ...)."""
    if expected is None or type(expected) is bool or type(expected) is str:
        return type(actual) is type(expected) and actual == expected
    if type(expected) in (int, float):
        if type(actual) not in (int, float):
            return False
        return math.isclose(float(expected), float(actual), rel_tol=0, abs_tol=0) or (
            float(expected) == float(actual)
        )
    if type(expected) is list:
        actual = _ranked(expected, actual)
        return (
            type(actual) is list
            and len(actual) == len(expected)
            and all(matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if type(expected) is dict:
        return type(actual) is dict and all(
            key in actual and matches(value, actual[key]) for key, value in expected.items()
        )
    return False


def _ranked(expected: list[Any], actual: Any) -> Any:
    """Scoring tests give each hit's rank as `_pos` (1 = best score, equal scores share a
    rank) instead of a `_score` only one implementation would produce."""
    if not (
        expected
        and all(type(item) is dict and "_pos" in item for item in expected)
        and type(actual) is list
        and all(type(item) is dict and type(item.get("_score")) in (int, float) for item in actual)
    ):
        return actual
    scores = sorted({item["_score"] for item in actual}, reverse=True)
    rank = {score: position for position, score in enumerate(scores, start=1)}
    return [
        {**{k: v for k, v in item.items() if k != "_score"}, "_pos": rank[item["_score"]]}
        for item in actual
    ]


def run_test(test: dict[str, Any]) -> Outcome:
    try:
        query = parse(test["query"])
        result = evaluate(query, _source(test["dataset"]), test["params"] or {}, now=NOW)
    except QueryError as exc:
        if not test["valid"]:
            return Outcome("agree")
        return Outcome("refused", exc.message)
    except Exception as exc:
        return Outcome("wrong", f"crashed: {type(exc).__name__}: {exc}")
    if not test["valid"]:
        return Outcome("wrong", f"accepted an invalid query, answered {_short(result)}")
    if matches(test["result"], result):
        return Outcome("agree")
    return Outcome("wrong", f"expected {_short(test['result'])}, got {_short(result)}")


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 300 else text[:300] + "..."


def run_all() -> list[tuple[dict[str, Any], Outcome]]:
    return [(test, run_test(test)) for test in load_suite()["tests"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="list every disagreement")
    parser.add_argument("--refusals", action="store_true", help="group refusals by message")
    args = parser.parse_args()
    if SUITE_PATH is None:
        raise SystemExit(f"the official suite is not in ../{_RELATIVE} from {_REPO}")
    results = run_all()
    counts = Counter(outcome.kind for _, outcome in results)
    total = len(results)
    if args.verbose:
        for test, outcome in results:
            if outcome.kind != "agree":
                print(f"{outcome.kind:7s} {test['id']}: {test['query'].strip()!r}")
                print(f"        {outcome.detail}")
    if args.refusals:
        groups = Counter(
            outcome.detail.split(" at position")[0]
            for _, outcome in results
            if outcome.kind == "refused"
        )
        for message, count in groups.most_common():
            print(f"{count:5d}  {message}")
    print(
        f"official GROQ suite: {total} tests, agree {counts['agree']} "
        f"({100 * counts['agree'] / total:.1f}%), refused {counts['refused']}, "
        f"wrong {counts['wrong']}"
    )


if __name__ == "__main__":
    main()
