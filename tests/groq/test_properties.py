"""Properties checked against plain Python over generated datasets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cms_client.groq import ListSource, evaluate

NOW = datetime(2025, 3, 1, tzinfo=UTC)

documents = st.lists(
    st.fixed_dictionaries(
        {"_type": st.sampled_from(["a", "b"])},
        optional={"n": st.integers(-5, 5)},
    ),
    max_size=15,
).map(lambda docs: [{"_id": f"d{i}", **doc} for i, doc in enumerate(docs)])
bounds = st.integers(-20, 20)


def matching(docs: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    return [d for d in docs if d["_type"] == "a" and "n" in d and d["n"] > k]


@settings(max_examples=150, deadline=None)
@given(documents, st.integers(-6, 6), bounds, bounds)
def test_slices_match_python_slicing(
    docs: list[dict[str, Any]], k: int, start: int, end: int
) -> None:
    source = ListSource(docs)
    filtered = matching(docs, k)
    params = {"k": k, "a": start, "b": end}
    exclusive = evaluate('*[_type == "a" && n > $k][$a...$b]', source, params, now=NOW)
    assert exclusive == filtered[start:end]
    # Inclusive: negative bounds count from the end, then both ends are kept.
    size = len(filtered)
    low = start + size if start < 0 else start
    high = end + size if end < 0 else end
    inclusive = evaluate('*[_type == "a" && n > $k][$a..$b]', source, params, now=NOW)
    assert inclusive == [d for i, d in enumerate(filtered) if low <= i <= high]


@settings(max_examples=100, deadline=None)
@given(documents, st.integers(-6, 6))
def test_count_is_the_length_of_the_filtered_list(docs: list[dict[str, Any]], k: int) -> None:
    source = ListSource(docs)
    count = evaluate('count(*[_type == "a" && n > $k])', source, {"k": k}, now=NOW)
    listed = evaluate('*[_type == "a" && n > $k]', source, {"k": k}, now=NOW)
    assert count == len(listed) == len(matching(docs, k))


@settings(max_examples=100, deadline=None)
@given(documents)
def test_order_is_a_stable_sort_with_missing_values_last(docs: list[dict[str, Any]]) -> None:
    ordered = evaluate("*[_type == 'b'] | order(n asc)", ListSource(docs), now=NOW)
    expected = sorted(
        (d for d in docs if d["_type"] == "b"),
        key=lambda d: (0, d["n"]) if "n" in d else (1, 0),
    )
    assert ordered == expected
