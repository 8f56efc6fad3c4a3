"""Stock and reserved of a product over time, replayed from its ledger, drawn as inline SVG.

Each ledger entry holds one line's counters before and after, so the product's totals can
be replayed from the oldest entry in the window forward: lines that never appear in the
window kept their current counters throughout. The picture is a server-made SVG (two step
lines), so the page needs no JavaScript.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from markupsafe import Markup

from schemas.ledger import LEDGER_TYPE
from schemas.operations import ProductStatus

#: Ledger entries the chart replays at most (the newest ones).
CHART_ENTRIES = 300

CHART_QUERY = (
    f'*[_type == "{LEDGER_TYPE}" && productId == $productId]'
    f" | order(createdAt desc, _id desc) [0...{CHART_ENTRIES}]"
    "{createdAt, variantKey, size, previousStockQuantity, previousReservedQuantity,"
    " newStockQuantity, newReservedQuantity}"
)

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 34


@dataclass(frozen=True)
class Point:
    at: datetime
    stock: int
    reserved: int


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _key(entry: Mapping[str, Any]) -> str:
    """A line as the ledger names it: by variant key, else by size (as the engine does)."""
    variant_key, size = entry.get("variantKey"), entry.get("size")
    if isinstance(variant_key, str) and variant_key:
        return "key:" + variant_key
    if isinstance(size, str) and size.strip():
        return "size:" + size.strip().casefold()
    return "-"


def current_lines(status: ProductStatus) -> dict[str, tuple[int, int]]:
    """(stock, reserved) of each line now, keyed as the ledger names lines."""
    if status.variants is None:
        return {"-": (status.total, status.reserved)}
    return {
        _key({"variantKey": v.variant_key, "size": v.size}): (v.total, v.reserved)
        for v in status.variants
    }


def _counters(entry: Mapping[str, Any], when: str) -> tuple[int, int]:
    return _int(entry.get(f"{when}StockQuantity")), _int(entry.get(f"{when}ReservedQuantity"))


def series(
    newest_first: Sequence[Mapping[str, Any]],
    current: Mapping[str, tuple[int, int]],
    *,
    now: datetime,
) -> list[Point]:
    """The product's totals before the oldest entry, after each entry, and now."""
    timed = [(at, e) for e in newest_first if (at := _time(e.get("createdAt"))) is not None]
    # Lines the window never touches kept their current counters all along; a line it
    # touches started from its oldest entry's "previous" counters.
    values = dict(current)
    for _, entry in timed:
        values[_key(entry)] = _counters(entry, "previous")
    points: list[Point] = []
    oldest_first = list(reversed(timed))
    if oldest_first:
        points.append(_total(oldest_first[0][0], values))
    for at, entry in oldest_first:
        values[_key(entry)] = _counters(entry, "new")
        points.append(_total(at, values))
    points.append(_total(max(now, points[-1].at) if points else now, current))
    return points


def _total(at: datetime, values: Mapping[str, tuple[int, int]]) -> Point:
    return Point(
        at, sum(stock for stock, _ in values.values()), sum(res for _, res in values.values())
    )


def _label(moment: datetime) -> str:
    return moment.strftime("%d %b %H:%M")


def _step_path(points: Sequence[tuple[float, float]]) -> str:
    x0, y0 = points[0]
    parts = [f"M{x0:.1f} {y0:.1f}"]
    for x, y in points[1:]:
        parts.append(f"H{x:.1f} V{y:.1f}")
    return " ".join(parts)


def render_svg(points: Sequence[Point], *, title: str, threshold: int | None = None) -> Markup:
    """Two step lines (stock solid, reserved dashed) with a zero line, the top value, the
    low-stock threshold (dotted) and the first and last times; scales to the page width."""
    if not points:
        return Markup("")
    start, end = points[0].at, points[-1].at
    span = (end - start).total_seconds() or 1.0
    top = max(1, threshold or 0, *(max(p.stock, p.reserved) for p in points))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def xy(point: Point, value: int) -> tuple[float, float]:
        x = LEFT + plot_w * ((point.at - start).total_seconds() / span)
        y = TOP + plot_h * (1 - value / top)
        return x, y

    stock = _step_path([xy(p, p.stock) for p in points])
    reserved = _step_path([xy(p, p.reserved) for p in points])
    base = TOP + plot_h
    last = points[-1]
    limit = ""
    if threshold:
        y = TOP + plot_h * (1 - threshold / top)
        limit = (
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="threshold" '
            f'stroke="#b91c1c" stroke-width="1" stroke-dasharray="2 3"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{threshold}'
            "</text>"
        )
    summary = (
        f"{title}: stock {last.stock}, reserved {last.reserved} now; "
        f"{len(points)} points from {_label(start)} to {_label(end)}"
    )
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(summary)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(summary)}</title>"
        f'<line x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}" class="grid"/>'
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" class="axis"/>'
        f'<text x="{LEFT - 6}" y="{TOP + 4}" class="tick" text-anchor="end">{top}</text>'
        f'<text x="{LEFT - 6}" y="{base + 4}" class="tick" text-anchor="end">0</text>'
        f'<text x="{LEFT}" y="{HEIGHT - 12}" class="tick">{escape(_label(start))}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 12}" class="tick" text-anchor="end">'
        f"{escape(_label(end))}</text>"
        f"{limit}"
        f'<path d="{reserved}" class="series-reserved" fill="none" stroke="#d97706" '
        f'stroke-width="2" stroke-dasharray="6 4"/>'
        f'<path d="{stock}" class="series-stock" fill="none" stroke="#2563eb" '
        f'stroke-width="2.5"/>'
        "</svg>"
    )
    return Markup(svg)
