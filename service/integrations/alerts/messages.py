"""The JSON an alert posts: Slack's `text` for people, structured fields for programs.

`text` is Slack mrkdwn, where `<...>` is markup: a title like `<!channel>` pinged the whole
channel and `<http://x|y>` made a link. Slack's rule (Formatting text, "Escaping text") is
to replace `&`, `<` and `>` with HTML entities in any user-provided text; the structured
fields stay as stored, for programs that read them as data.
"""

from __future__ import annotations

from typing import Any

from schemas.base import format_timestamp
from service.integrations.alerts.crossings import Crossing

_HEADLINE = {"low_stock": "Low stock", "out_of_stock": "Out of stock"}


def slack_escape(text: str) -> str:
    """Text shown as itself in Slack mrkdwn: `&` first, so entities are not escaped twice."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def alert_text(crossing: Crossing) -> str:
    headline = _HEADLINE.get(crossing.after, crossing.after)
    units = "unit" if crossing.available == 1 else "units"
    return (
        f"{headline}: {slack_escape(crossing.label)} has {crossing.available} {units} available "
        f"(stock {crossing.stock}, reserved {crossing.reserved}, "
        f"low-stock threshold {crossing.threshold})."
    )


def alert_message(crossing: Crossing) -> dict[str, Any]:
    """A Slack incoming-webhook body (`text`) that other receivers can read field by field."""
    return {
        "text": alert_text(crossing),
        "event": "inventory.low_stock",
        "productId": crossing.product_id,
        "title": crossing.title,
        "variant": crossing.size or crossing.variant_key,
        "variantKey": crossing.variant_key,
        "size": crossing.size,
        "state": crossing.after,
        "previousState": crossing.before,
        "available": crossing.available,
        "stock": crossing.stock,
        "reserved": crossing.reserved,
        "threshold": crossing.threshold,
        "time": format_timestamp(crossing.at),
    }
