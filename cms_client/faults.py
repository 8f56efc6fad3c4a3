"""Production conditions the local lake server can imitate: failures, throttling, lost answers.

Sanity answers 5xx and 429 now and then, and a mutation whose answer is lost may or may not
have committed. Code above `cms_client` must survive all three, so the local server can
produce them on purpose, deterministically: either from a script ("the 3rd mutate answers
500") or from shares of requests drawn with a seeded random generator, so a failing run can
be replayed exactly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

Endpoint = Literal["doc", "query", "mutate"]
ENDPOINTS: frozenset[str] = frozenset({"doc", "query", "mutate"})


class Fault(StrEnum):
    #: 500 before the request reaches the lake: nothing happened.
    SERVER_ERROR = "server-error"
    #: 429 with `Retry-After` before the request reaches the lake: nothing happened.
    RATE_LIMITED = "rate-limited"
    #: The lake handles the request (a mutation commits), then the answer is replaced by a 500.
    COMMIT_THEN_ERROR = "commit-then-error"
    #: The lake handles the request, then the connection is cut before the body is sent.
    COMMIT_THEN_DROP = "commit-then-drop"


@dataclass(frozen=True)
class InjectedFault:
    endpoint: str
    #: 1-based count of requests to `endpoint` when the fault was injected.
    number: int
    fault: Fault


@dataclass
class FaultPlan:
    """Which requests fail, and how.

    `script` names exact requests: `{("mutate", 3): Fault.COMMIT_THEN_DROP}` fails the third
    mutate request of the server's life. The shares apply to every other request of the
    `endpoints` listed, drawn from `random.Random(seed)`; the two commit-then-* shares apply
    to mutate requests only (a lost answer to a read is just a server error). A scripted
    request never also draws a random fault, so scripts stay exact when shares are set.
    """

    seed: int = 0
    server_error_share: float = 0.0
    rate_limit_share: float = 0.0
    commit_then_error_share: float = 0.0
    commit_then_drop_share: float = 0.0
    endpoints: frozenset[str] = ENDPOINTS
    retry_after_seconds: int = 1
    script: Mapping[tuple[str, int], Fault] = field(default_factory=dict)
    #: Every fault injected so far, in order (for assertions and bench reports).
    injected: list[InjectedFault] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        shares = (
            self.server_error_share,
            self.rate_limit_share,
            self.commit_then_error_share,
            self.commit_then_drop_share,
        )
        if any(not 0.0 <= share <= 1.0 for share in shares) or sum(shares) > 1.0:
            raise ValueError("fault shares must each lie in [0, 1] and add up to at most 1")
        if unknown := set(self.endpoints) - ENDPOINTS:
            raise ValueError(f"unknown endpoints {sorted(unknown)}; known: {sorted(ENDPOINTS)}")
        for (endpoint, number), _fault in self.script.items():
            if endpoint not in ENDPOINTS or number < 1:
                raise ValueError(f"bad script entry ({endpoint!r}, {number})")
        if self.retry_after_seconds < 0:
            raise ValueError("retry_after_seconds must not be negative")
        self._random = random.Random(self.seed)
        self._counts: dict[str, int] = dict.fromkeys(ENDPOINTS, 0)

    @classmethod
    def scripted(cls, *entries: tuple[str, int, Fault]) -> FaultPlan:
        """`FaultPlan.scripted(("mutate", 3, Fault.SERVER_ERROR))`."""
        return cls(script={(endpoint, number): fault for endpoint, number, fault in entries})

    def decide(self, endpoint: str) -> Fault | None:
        """Count one request to `endpoint` and say which fault, if any, it gets."""
        if endpoint not in self._counts:
            return None
        self._counts[endpoint] += 1
        number = self._counts[endpoint]
        fault = self.script.get((endpoint, number))
        if fault is None and endpoint in self.endpoints:
            fault = self._draw(endpoint)
        if fault is not None:
            self.injected.append(InjectedFault(endpoint, number, fault))
        return fault

    def _draw(self, endpoint: str) -> Fault | None:
        roll = self._random.random()
        bands: list[tuple[float, Fault]] = [
            (self.server_error_share, Fault.SERVER_ERROR),
            (self.rate_limit_share, Fault.RATE_LIMITED),
        ]
        if endpoint == "mutate":
            bands += [
                (self.commit_then_error_share, Fault.COMMIT_THEN_ERROR),
                (self.commit_then_drop_share, Fault.COMMIT_THEN_DROP),
            ]
        upper = 0.0
        for share, fault in bands:
            upper += share
            if roll < upper:
                return fault
        return None


class RequestRateLimit:
    """A token bucket per client: bursts of up to `per_second` requests, then `per_second`/s.

    Sanity limits mutate requests to about 25 per second per IP. `monotonic` is injected so
    tests move time by hand instead of waiting.
    """

    def __init__(self, per_second: float, *, monotonic: Callable[[], float]) -> None:
        if not per_second > 0:
            raise ValueError("a rate limit must be positive")
        self.per_second = per_second
        self.capacity = max(1.0, per_second)
        self._monotonic = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}

    def admit(self, client: str) -> float | None:
        """Take one token for `client`: None when admitted, else the seconds until one is free."""
        now = self._monotonic()
        tokens, since = self._buckets.get(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - since) * self.per_second)
        # The tolerance absorbs float drift, so a client that waited exactly the advised
        # time is admitted.
        if tokens < 1.0 - 1e-9:
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.per_second
        self._buckets[client] = (tokens - 1.0, now)
        return None

    def remaining(self, client: str) -> int:
        tokens, _since = self._buckets.get(client, (self.capacity, 0.0))
        return math.floor(tokens)
