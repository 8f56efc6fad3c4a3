"""Fairness between instances racing for one document (a hot product in a flash sale).

Revision guards decide every race, but not fairly. An instance whose write just committed
knows the new revision at once and writes again one round trip later; an instance whose
write was refused must first read the document again, so its next write lands a round trip
behind and, while the winner has buyers queued, is refused again. Measured with four
instances on one product (`stocksync bench flash-sale --scenario hot`), one instance lost
five to nine races in a row, and its buyers waited for the sale to end before they heard.
Two habits even the odds:

1. A group-commit batch's write on a contended document (one that met a conflict in this
   instance within `contention_window`), or of several buyers at once, sends the read its
   retry would need alongside it. If the write is refused, the retry plans on that read at
   once, without the jittered wait: a loser writes again one round trip after the refusal,
   as the winner does. It is an ordinary fresh read, only sent earlier (one that reached the
   store before the winning write is not used); the retry's guards still decide. Other
   writes send no extra read. A batch refused also takes along the reserves that queued
   behind it (`group_commit`), so one win answers that instance's whole queue.
2. A reserve batch of a product this instance committed less than one write round trip ago
   (as last measured, at most `MAX_GAP`) waits out the rest of that round trip before it is
   sealed, so an instance that has just read the new revision can land its write (buyers
   arriving meanwhile ride along). The winner cannot tell that others are trying (their
   refused writes leave no trace), so this holds whether or not a conflict was seen; on a
   single instance it only spaces the batches of a hot product (README, Performance, has
   what that costs).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta

#: Documents remembered (oldest forgotten first): only the recently contended matter.
REMEMBERED = 10_000
#: Weight of the newest write round trip in the running estimate.
RTT_WEIGHT = 0.25
#: Longest gap left after a commit, whatever a slow round trip suggested.
MAX_GAP = timedelta(milliseconds=250)


class Contention:
    def __init__(self, *, window: timedelta) -> None:
        self.window = window
        self._conflicts: OrderedDict[str, datetime] = OrderedDict()
        self._commits: OrderedDict[str, datetime] = OrderedDict()
        #: Running estimate of one write's round trip (None until a write was timed).
        self.write_rtt: timedelta | None = None

    def conflicted(self, ids: Iterable[str], at: datetime) -> None:
        """A transaction guarded on `ids` was refused at `at`."""
        _note(self._conflicts, ids, at)

    def committed(
        self, ids: Iterable[str], sent: datetime, answered: datetime, *, timed: bool = True
    ) -> None:
        """A transaction on `ids` sent at `sent` committed, answered at `answered`.
        `timed=False`: it waited in a paced store's limiter first, so its time is not a
        round trip (the commit still counts)."""
        if timed:
            rtt = max(answered - sent, timedelta(0))
            self.write_rtt = (
                rtt
                if self.write_rtt is None
                else self.write_rtt * (1 - RTT_WEIGHT) + rtt * RTT_WEIGHT
            )
        _note(self._commits, ids, answered)

    def contended(self, ids: Iterable[str], now: datetime) -> bool:
        """Whether any of `ids` met a conflict here within the window."""
        return any(
            (at := self._conflicts.get(doc_id)) is not None and now - at < self.window
            for doc_id in ids
        )

    def gap(self, ids: Iterable[str], now: datetime) -> float:
        """Seconds to wait before writing `ids` again (habit 2): 0 unless one of them was
        committed here less than a write round trip ago."""
        if self.write_rtt is None:
            return 0.0
        last = max((at for doc_id in ids if (at := self._commits.get(doc_id))), default=None)
        if last is None:
            return 0.0
        wait = last + min(self.write_rtt, MAX_GAP) - now
        return max(0.0, wait.total_seconds())


def _note(seen: OrderedDict[str, datetime], ids: Iterable[str], at: datetime) -> None:
    for doc_id in ids:
        seen[doc_id] = at
        seen.move_to_end(doc_id)
    while len(seen) > REMEMBERED:
        seen.popitem(last=False)
