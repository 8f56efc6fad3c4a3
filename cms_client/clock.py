"""Time as an injected dependency: production uses `utc_now`, tests pass a manual clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with millisecond precision and a `Z`, as Sanity writes system fields."""
    # `isoformat` runs in C; `strftime` cost a measurable share of a lake write.
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
