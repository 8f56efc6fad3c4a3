"""Reading the console's forms and filters: lenient for filters (an odd value is ignored),
strict for the adjust form (a problem is shown next to the form, nothing is sent)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Literal, TypeVar, get_args

from schemas.ledger import LedgerEntryType
from schemas.operations import AdjustReason

ADJUST_REASONS: tuple[AdjustReason, ...] = get_args(AdjustReason)
LEDGER_TYPES: tuple[LedgerEntryType, ...] = get_args(LedgerEntryType)
MAX_UNITS = 1_000_000
MAX_NOTE = 500
MAX_PAGE = 100_000
#: A whole number as typed: optional sign, ASCII digits (bigger ones are refused as too many).
#: A one-time form key as `new_form_key` makes them.
_ONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_WHOLE = re.compile(r"[+-]?[0-9]{1,12}")

T = TypeVar("T", bound=str)


def choice(value: str | None, allowed: tuple[T, ...]) -> T | None:
    """`value` when it is one of `allowed`, else None (an unknown filter shows everything)."""
    for option in allowed:
        if value == option:
            return option
    return None


def page_number(value: str | None) -> int:
    try:
        number = int(value or "1")
    except ValueError:
        return 1
    return min(max(1, number), MAX_PAGE)


def day(value: str | None, *, end: bool = False) -> datetime | None:
    """A `YYYY-MM-DD` date input as the start (or end) of that day in UTC."""
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return datetime.combine(parsed, time.max if end else time.min, tzinfo=UTC)


@dataclass(frozen=True)
class AdjustForm:
    """The adjust form as typed, so a refused form can be shown again as it was."""

    line: str = ""
    mode: Literal["set", "delta"] = "delta"
    amount: str = ""
    reason: str = ""
    note: str = ""
    #: The form's one-time key (rendered with the page): a resubmission replays instead of
    #: adjusting twice.
    once: str = ""
    #: The staff override of the below-reserved refusal.
    below_reserved: bool = False
    #: Slug of the stock location (products stocked by location).
    location: str = ""

    @property
    def variant_key(self) -> str | None:
        return self.line[4:] if self.line.startswith("key:") else None

    @property
    def size(self) -> str | None:
        return self.line[5:] if self.line.startswith("size:") else None


@dataclass(frozen=True)
class AdjustInput:
    form: AdjustForm
    problem: str | None
    units: int = 0
    reason: AdjustReason = "correction"


def read_adjust(fields: dict[str, str]) -> AdjustInput:
    form = AdjustForm(
        line=fields.get("line", ""),
        mode="set" if fields.get("mode") == "set" else "delta",
        amount=fields.get("amount", "").strip(),
        reason=fields.get("reason", ""),
        note=fields.get("note", "").strip(),
        once=fields.get("once", "") if _ONCE.fullmatch(fields.get("once", "")) else "",
        below_reserved=fields.get("below_reserved") == "yes",
        location=fields.get("location", "").strip()[:200],
    )
    reason = choice(form.reason, ADJUST_REASONS)
    if reason is None:
        return AdjustInput(form, "Choose a reason: " + ", ".join(ADJUST_REASONS) + ".")
    # ASCII digits only: int() would also take "1_000" and other scripts' digits.
    if _WHOLE.fullmatch(form.amount) is None:
        what = "the new stock" if form.mode == "set" else "the change (e.g. 5 or -2)"
        return AdjustInput(form, f"Enter {what} as a whole number.")
    units = int(form.amount)
    if abs(units) > MAX_UNITS:
        return AdjustInput(form, f"Enter at most {MAX_UNITS} units.")
    if len(form.note) > MAX_NOTE:
        return AdjustInput(form, f"Keep the note under {MAX_NOTE} characters.")
    return AdjustInput(form, None, units, reason)


def new_form_key() -> str:
    """A one-time key for one rendering of a form (random, so it names one intent)."""
    return secrets.token_urlsafe(18)
