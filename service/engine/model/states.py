"""The states a shop talks about: a stock line's state, and when a hold is overdue.

One definition each, used by the engine's planners and sweeps and by every reader (read
models, alerts, the console), so a number on a page always means what the engine means.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from schemas.operations import StockState
from schemas.reservation import StockReservation

#: How urgent a state is: a line that moves up this order got worse.
#: Selling beyond stock (backorder, preorder) is less urgent than nothing to sell.
STOCK_STATE_RANK: dict[StockState, int] = {
    "in_stock": 0,
    "low_stock": 1,
    "preorder": 2,
    "backorder": 2,
    "out_of_stock": 3,
}


def stock_state(available: int, threshold: int) -> StockState:
    if available <= 0:
        return "out_of_stock"
    if available <= threshold:
        return "low_stock"
    return "in_stock"


def worst_state(states: list[StockState]) -> StockState:
    """The most urgent of `states` (what a product with several lines is filed under)."""
    return max(states, key=STOCK_STATE_RANK.__getitem__)


def got_worse(before: StockState, after: StockState) -> bool:
    return STOCK_STATE_RANK[after] > STOCK_STATE_RANK[before]


def overdue_cutoff(now: datetime, grace: timedelta) -> datetime:
    """Holds whose `expiresAt` is at or before this instant are overdue (design rule 6:
    they stop counting as soon as a reserve needs their stock).

    Stores find candidates with `OVERDUE_HOLD` (strictly before `$cutoff`, so a hold at the
    exact instant waits for the next look); the planners decide with `is_overdue` on the
    fresh document."""
    return now - grace


def is_overdue(reservation: StockReservation, now: datetime, grace: timedelta) -> bool:
    """Active and past its expiry plus the grace a late payment gets."""
    return reservation.status == "active" and reservation.expires_at <= overdue_cutoff(now, grace)
