"""Figures of one run from the buyers' answers and the store's request counts."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from bench.flash_sale.shoppers import Answer

RequestCounts = Mapping[str, Mapping[str, int]]


def percentile(values: Sequence[float], share: float) -> float:
    """Linear interpolation between closest ranks (`share` in [0, 1])."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(answers: Sequence[Answer]) -> dict[str, float]:
    latencies = [answer.latency_ms for answer in answers]
    return {
        "p50": round(percentile(latencies, 0.50), 1),
        "p95": round(percentile(latencies, 0.95), 1),
        "p99": round(percentile(latencies, 0.99), 1),
        "max": round(max(latencies, default=math.nan), 1),
    }


def requests_between(before: RequestCounts, after: RequestCounts) -> dict[str, dict[str, int]]:
    """The lake's answers given between two snapshots, endpoint -> status -> count."""
    spent: dict[str, dict[str, int]] = {}
    for endpoint, statuses in after.items():
        for status, count in statuses.items():
            delta = count - before.get(endpoint, {}).get(status, 0)
            if delta:
                spent.setdefault(endpoint, {})[status] = delta
    return spent


def total(counts: RequestCounts, *, endpoint: str | None = None, status: str | None = None) -> int:
    return sum(
        count
        for name, statuses in counts.items()
        if endpoint is None or name == endpoint
        for code, count in statuses.items()
        if status is None or code == status or (status == "5xx" and code.startswith("5"))
    )


def buying_figures(answers: Sequence[Answer], spent: RequestCounts) -> dict[str, Any]:
    """Throughput, latency and store cost of the buying phase.

    `reserves_per_second`: answers (won or refused alike) per second of the phase;
    `won_per_second`: holds granted per second until the last one was granted.
    `conflicts`: transactions the store refused on a revision or id guard (mutate 409),
    each re-planned on a fresh read by the engine; `retries`: every store request that had
    to be sent again (those 409s, plus 429s and 5xx answers the client retried).
    """
    outcomes = [answer.outcome for answer in answers]
    elapsed = max((answer.answered for answer in answers), default=0.0)
    won = [answer for answer in answers if answer.outcome == "won"]
    last_win = max((answer.answered for answer in won), default=0.0)
    conflicts = total(spent, endpoint="mutate", status="409")
    rate_limited = total(spent, status="429")
    store_errors = total(spent, status="5xx")
    others: dict[str, int] = {}
    for answer in answers:
        if answer.outcome == "other":
            key = f"{answer.status} {answer.code}"
            others[key] = others.get(key, 0) + 1
    return {
        "won": len(won),
        "refused": outcomes.count("refused"),
        "server_errors": outcomes.count("server_error"),
        "other_answers": others,
        "reserves_per_second": round(len(answers) / elapsed, 1) if elapsed else None,
        "won_per_second": round(len(won) / last_win, 1) if last_win else None,
        "buying_seconds": round(elapsed, 3),
        "latency_ms": latency_summary(answers),
        "store_requests_per_reserve": round(total(spent) / len(answers), 3) if answers else None,
        "store_requests": {name: total(spent, endpoint=name) for name in sorted(spent)},
        "conflicts": conflicts,
        "retries": conflicts + rate_limited + store_errors,
        "rate_limited": rate_limited,
    }


def throughput_series(
    answers: Sequence[Answer], width: float
) -> tuple[list[float], list[float], list[float]]:
    """(bucket start times, won/s, refused/s) over the buying phase, `width` s per bucket."""
    elapsed = max((answer.answered for answer in answers), default=0.0)
    count = max(1, math.ceil(elapsed / width))
    won = [0.0] * count
    refused = [0.0] * count
    for answer in answers:
        slot = min(int(answer.answered / width), count - 1)
        if answer.outcome == "won":
            won[slot] += 1 / width
        elif answer.outcome == "refused":
            refused[slot] += 1 / width
    return [index * width for index in range(count)], won, refused
