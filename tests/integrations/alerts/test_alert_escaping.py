"""Issue 12 item 5: a product title cannot ping a Slack channel or make a link."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.integrations.alerts.crossings import Crossing
from service.integrations.alerts.messages import alert_message, slack_escape
from service.integrations.alerts.reorder import digest_message, reorder_message
from service.read_models.stock_lines import StockLine
from service.read_models.stock_reports import ReorderItem


def crossing(title: str, size: str | None = None) -> Crossing:
    return Crossing(
        product_id="p1",
        title=title,
        variant_key=None,
        size=size,
        before="in_stock",
        after="low_stock",
        stock=2,
        reserved=0,
        available=2,
        threshold=5,
        at=datetime(2026, 11, 21, 12, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("<!channel> sale", "&lt;!channel&gt; sale"),
        ("<http://evil.example|Click>", "&lt;http://evil.example|Click&gt;"),
        ("Salt & Pepper", "Salt &amp; Pepper"),
        ("&lt;already&gt;", "&amp;lt;already&amp;gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
    ],
)
def test_titles_are_escaped_in_the_slack_text(title: str, shown: str) -> None:
    message = alert_message(crossing(title))
    assert message["text"].startswith(f"Low stock: {shown} has 2 units")
    assert "<" not in message["text"] and ">" not in message["text"]
    # Programs reading the structured fields get the title as stored.
    assert message["title"] == title


def test_sizes_are_escaped_too() -> None:
    assert "(&lt;!here&gt;)" in alert_message(crossing("Tee", size="<!here>"))["text"]


def test_escaping_is_the_three_slack_entities_only() -> None:
    assert slack_escape("*bold* _it_ ~s~ `c` \"q\" 'a'") == "*bold* _it_ ~s~ `c` \"q\" 'a'"


def _line(title: str, size: str | None) -> StockLine:
    return StockLine(
        document_id="p1",
        slug="p1",
        title=title,
        sku=None,
        size=size,
        variant_key="v1" if size else None,
        stock=1,
        reserved=0,
        state="low_stock",
        reorder_point=3,
        reorder_quantity=None,
    )


def test_reorder_alerts_and_the_digest_escape_titles_and_sizes() -> None:
    at = datetime(2026, 11, 21, 12, tzinfo=UTC)
    alert = reorder_message(_line("<!channel> tee", "<!here>"), available=1, suggested=5, at=at)
    assert "&lt;!channel&gt; tee" in alert["text"] and "&lt;!here&gt;" in alert["text"]
    assert "<" not in alert["text"] and alert["title"] == "<!channel> tee"
    item = ReorderItem(
        product_id="p1",
        document_id="p1",
        size="<@U1>",
        title="Salt & <http://x|y>",
        available_stock=1,
        reorder_point=3,
        reorder_quantity=None,
        suggested_quantity=5,
        velocity_per_day=0.0,
        days_of_cover=None,
    )
    digest = digest_message([item], at=at)
    assert "Salt &amp; &lt;http://x|y&gt; (&lt;@U1&gt;)" in digest["text"]
    assert "<" not in digest["text"] and digest["items"][0]["title"] == "Salt & <http://x|y>"
