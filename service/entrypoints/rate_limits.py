"""Per-client rate limits on the public and storefront routes (token buckets).

The store takes about 25 mutations a second per project; a storefront stuck in a retry loop
or a crawler walking stock-status must not spend them for everyone. Each client gets a
bucket of `burst` requests refilled at `per_second`; an empty bucket answers 429
`rate_limited` with `Retry-After` (whole seconds) in the one error shape.

Who is a client: on storefront routes, the storefront key presented (a storefront's server
calls on behalf of all its shoppers from a few IPs, so the key is what one storefront
spends); on the public GET stock-status, the caller's address (`x-vercel-forwarded-for`,
then the first `x-forwarded-for` hop, then the socket peer). Staff, cron and webhook routes
are not limited: they are authenticated and bounded by who holds the keys.

Buckets live in the process: with several instances (Vercel runs one per concurrent
request burst) each counts on its own, so the effective limit is the per-instance limit
times the instances running. README "Rate limits" says what to set for that.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from service.entrypoints.errors import ApiError

#: Clients remembered per bucket set; the least recently seen are forgotten beyond it.
MAX_CLIENTS = 10_000


@dataclass(frozen=True)
class Limit:
    per_second: float
    burst: int

    @classmethod
    def per_minute(cls, count: int, *, burst: int | None = None) -> Limit:
        return cls(per_second=count / 60, burst=burst if burst is not None else max(1, count))


class TokenBuckets:
    """One bucket per client key; `monotonic` is injected so tests move time by hand."""

    def __init__(self, limit: Limit, *, monotonic: Callable[[], float]) -> None:
        if limit.per_second <= 0 or limit.burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")
        self.limit = limit
        self._monotonic = monotonic
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> float | None:
        """Take one token: None when admitted, else the seconds until one is free."""
        with self._lock:
            now = self._monotonic()
            tokens, since = self._buckets.pop(client, (float(self.limit.burst), now))
            tokens = min(float(self.limit.burst), tokens + (now - since) * self.limit.per_second)
            if tokens >= 1.0 - 1e-9:
                self._buckets[client] = (tokens - 1.0, now)
                wait = None
            else:
                self._buckets[client] = (tokens, now)
                wait = (1.0 - tokens) / self.limit.per_second
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
            return wait


def too_many(wait: float, what: str) -> ApiError:
    seconds = max(1, math.ceil(wait))
    return ApiError(
        429,
        "rate_limited",
        f"Too many requests from this {what}; try again in {seconds} s.",
        details=[f"retryAfter: {seconds}"],
        headers={"Retry-After": str(seconds)},
        title="Too many requests",
    )


def key_client(key: str) -> str:
    """A storefront key as a bucket name (hashed: keys are secrets, buckets are not)."""
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:24]


def address_client(headers: dict[str, str], peer: str | None) -> str:
    forwarded = headers.get("x-vercel-forwarded-for") or headers.get("x-forwarded-for") or ""
    first = forwarded.split(",")[0].strip()[:64]
    return "ip:" + (first or peer or "unknown")
