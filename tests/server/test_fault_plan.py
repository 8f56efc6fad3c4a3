"""The fault plan and rate limit on their own: deterministic, validated, per client."""

from __future__ import annotations

from collections import Counter

import pytest

from cms_client.faults import Fault, FaultPlan, InjectedFault, RequestRateLimit
from tests.server.fakes import ManualMonotonic


def test_a_script_hits_exactly_the_named_request_of_each_endpoint() -> None:
    plan = FaultPlan.scripted(("mutate", 3, Fault.SERVER_ERROR), ("doc", 1, Fault.RATE_LIMITED))

    decisions = [plan.decide(endpoint) for endpoint in ["doc", "mutate", "query", "mutate"]]
    decisions += [plan.decide("mutate"), plan.decide("mutate"), plan.decide("doc")]

    assert decisions == [Fault.RATE_LIMITED, None, None, None, Fault.SERVER_ERROR, None, None]
    assert plan.injected == [
        InjectedFault("doc", 1, Fault.RATE_LIMITED),
        InjectedFault("mutate", 3, Fault.SERVER_ERROR),
    ]


def test_shares_replay_identically_for_one_seed_and_differ_for_another() -> None:
    def run(seed: int) -> list[Fault | None]:
        plan = FaultPlan(seed=seed, server_error_share=0.2, rate_limit_share=0.1)
        return [plan.decide("query") for _ in range(200)]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_shares_are_roughly_the_shares_asked_for() -> None:
    plan = FaultPlan(
        seed=1,
        server_error_share=0.2,
        rate_limit_share=0.1,
        commit_then_error_share=0.05,
        commit_then_drop_share=0.15,
    )
    counts = Counter(plan.decide("mutate") for _ in range(4000))

    assert 0.17 < counts[Fault.SERVER_ERROR] / 4000 < 0.23
    assert 0.08 < counts[Fault.RATE_LIMITED] / 4000 < 0.12
    assert 0.03 < counts[Fault.COMMIT_THEN_ERROR] / 4000 < 0.07
    assert 0.12 < counts[Fault.COMMIT_THEN_DROP] / 4000 < 0.18
    assert 0.46 < counts[None] / 4000 < 0.54


def test_lost_answers_are_only_planned_for_mutations() -> None:
    plan = FaultPlan(commit_then_drop_share=1.0)

    assert plan.decide("doc") is None
    assert plan.decide("query") is None
    assert plan.decide("mutate") is Fault.COMMIT_THEN_DROP


def test_endpoints_limit_where_random_faults_fall_but_not_scripts() -> None:
    plan = FaultPlan(
        server_error_share=1.0,
        endpoints=frozenset({"mutate"}),
        script={("query", 2): Fault.RATE_LIMITED},
    )

    assert [plan.decide("query") for _ in range(3)] == [None, Fault.RATE_LIMITED, None]
    assert plan.decide("mutate") is Fault.SERVER_ERROR


@pytest.mark.parametrize(
    "options",
    [
        {"server_error_share": 1.5},
        {"server_error_share": -0.1},
        {"server_error_share": 0.6, "rate_limit_share": 0.6},
        {"endpoints": frozenset({"listen"})},
        {"script": {("mutate", 0): Fault.SERVER_ERROR}},
        {"script": {("actions", 1): Fault.SERVER_ERROR}},
        {"retry_after_seconds": -1},
    ],
)
def test_impossible_plans_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FaultPlan(**options)  # type: ignore[arg-type]


def test_rate_limit_admits_a_burst_then_one_request_per_period() -> None:
    monotonic = ManualMonotonic()
    limit = RequestRateLimit(25, monotonic=monotonic)

    assert [limit.admit("10.0.0.1") for _ in range(25)] == [None] * 25
    wait = limit.admit("10.0.0.1")
    assert wait == pytest.approx(0.04)

    monotonic.advance(0.04)
    assert limit.admit("10.0.0.1") is None
    assert limit.admit("10.0.0.1") == pytest.approx(0.04)

    monotonic.advance(1.0)
    assert [limit.admit("10.0.0.1") for _ in range(25)] == [None] * 25


def test_rate_limit_counts_each_client_separately() -> None:
    limit = RequestRateLimit(2, monotonic=ManualMonotonic())

    assert [limit.admit("a"), limit.admit("a"), limit.admit("b")] == [None, None, None]
    assert limit.admit("a") is not None


def test_rate_limit_below_one_per_second_still_admits_the_first_request() -> None:
    monotonic = ManualMonotonic()
    limit = RequestRateLimit(0.5, monotonic=monotonic)

    assert limit.admit("a") is None
    assert limit.admit("a") == pytest.approx(2.0)
    monotonic.advance(2.0)
    assert limit.admit("a") is None
