"""The official GROQ test suite, one pytest case per suite file (see `official_suite.py`).

Every one of the 7,420 tests agrees today, so the bar is all of them: a wrong answer fails
its file, and so does a refusal (a feature lost). Skipped when `../shared` is absent.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.groq import official_suite as suite

pytestmark = pytest.mark.skipif(
    suite.SUITE_PATH is None, reason="the official GROQ suite (../shared/reference) is absent"
)


def _files() -> list[str]:
    if suite.SUITE_PATH is None:
        return []
    return sorted({test["file"] for test in suite.load_suite()["tests"]})


def _tests_of(file: str) -> list[dict[str, Any]]:
    return [test for test in suite.load_suite()["tests"] if test["file"] == file]


@pytest.mark.parametrize("file", _files())
def test_suite_file_agrees(file: str) -> None:
    failures = []
    for test in _tests_of(file):
        outcome = suite.run_test(test)
        if outcome.kind != "agree":
            failures.append(
                f"{outcome.kind} {test['id']}: {test['query'].strip()!r}\n  {outcome.detail}"
            )
    assert not failures, "\n".join(failures)


def test_the_runner_tells_wrong_from_refused() -> None:
    # The comparison itself: a different answer is wrong, a refusal is not an answer.
    test = {
        "id": "x",
        "file": "x.yml",
        "query": "1 + 1",
        "result": 3,
        "valid": True,
        "params": None,
        "features": [],
        "dataset": next(iter(suite.load_suite()["datasets"])),
    }
    assert suite.run_test(test).kind == "wrong"
    assert suite.run_test({**test, "result": 2}).kind == "agree"
    assert suite.run_test({**test, "valid": False}).kind == "wrong"
    assert suite.run_test({**test, "query": "geo::distance(a, b)"}).kind == "refused"
    assert suite.run_test({**test, "query": "1 +", "valid": False}).kind == "agree"
    assert not suite.matches(1, True)
    assert suite.matches({"a": 1}, {"a": 1.0, "_rev": "x"})
    assert not suite.matches([1, 2], [2, 1])


def test_counts_cover_the_whole_suite() -> None:
    counts = Counter(outcome.kind for _, outcome in suite.run_all())
    assert counts["wrong"] == 0
    assert counts["agree"] == len(suite.load_suite()["tests"]) == 7420
