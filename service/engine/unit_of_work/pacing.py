"""Waiting for a paced store's next mutate slot before reading, not between read and write.

A store that paces its mutate requests (Sanity: about 25/s per IP, split between processes)
holds a write back in its limiter until a slot frees. A plan made on a read taken before
that wait ages while it waits, and on a hot product another process has written by then:
the guarded write is refused and the slot is spent for nothing. So an operation that will
write first sleeps out the expected wait, then reads and writes at once. After a refused
write the retry is spread over about one slot (full jitter), so the processes that lost a
race do not wake together and race again.

Only the waiting moves: the store still books every slot, so pacing is never exceeded, and
the guards still decide every write.
"""

from __future__ import annotations

from typing import Protocol, cast


class MutationPacing(Protocol):
    """What the engine needs of a store's mutate limiter (`cms_client.rate_limit`)."""

    @property
    def rate(self) -> float: ...

    def expected_wait(self) -> float:
        """Seconds the next mutate would wait if sent now (nothing booked)."""
        ...


def pacing_of(store: object) -> MutationPacing | None:
    """The mutate limiter of `store`, when it has one (the Sanity client), else None."""
    limiter = getattr(store, "limiter", None)
    rate = getattr(limiter, "rate", None)
    if callable(getattr(limiter, "expected_wait", None)) and isinstance(rate, int | float):
        return cast(MutationPacing, limiter)
    return None


#: Retries after a refused write are spread over this many mutate slots of the process.
SLOTS_TO_SPREAD_RETRIES = 1.5
