"""The stock chart: totals replayed from ledger entries, drawn as well-formed SVG."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

from service.entrypoints.console.chart import Point, render_svg, series

SVG = "{http://www.w3.org/2000/svg}"


def tx(at: str, size: str, before: tuple[int, int], after: tuple[int, int]) -> dict[str, Any]:
    return {
        "createdAt": f"2026-11-{at}Z",
        "variantKey": f"size-{size}",
        "size": size,
        "previousStockQuantity": before[0],
        "previousReservedQuantity": before[1],
        "newStockQuantity": after[0],
        "newReservedQuantity": after[1],
    }


NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


def test_totals_replay_each_line_and_untouched_lines_keep_their_counters() -> None:
    newest_first = [
        tx("20T10:00:00.000", "m", (4, 2), (2, 0)),  # sale of 2
        tx("19T10:00:00.000", "m", (4, 0), (4, 2)),  # hold of 2
        tx("18T10:00:00.000", "s", (0, 0), (6, 0)),  # restock
    ]
    current = {"key:size-s": (6, 0), "key:size-m": (2, 0), "key:size-l": (9, 1)}
    points = series(newest_first, current, now=NOW)
    assert [(p.stock, p.reserved) for p in points] == [
        (0 + 4 + 9, 0 + 0 + 1),  # before the oldest entry
        (6 + 4 + 9, 1),
        (6 + 4 + 9, 2 + 1),
        (6 + 2 + 9, 1),
        (6 + 2 + 9, 1),  # now
    ]
    assert points[0].at == datetime(2026, 11, 18, 10, tzinfo=UTC)
    assert points[-1].at == NOW


def test_without_entries_the_chart_is_the_current_figures() -> None:
    assert series([], {"-": (5, 1)}, now=NOW) == [Point(NOW, 5, 1)]


def test_the_svg_is_well_formed_with_both_series_and_the_threshold() -> None:
    points = [
        Point(datetime(2026, 11, 18, tzinfo=UTC), 10, 0),
        Point(datetime(2026, 11, 19, tzinfo=UTC), 6, 3),
        Point(NOW, 4, 0),
    ]
    tree = ElementTree.fromstring(str(render_svg(points, title="Tee <b>", threshold=5)))
    paths = {p.get("class"): p.get("d") or "" for p in tree.iter(f"{SVG}path")}
    assert set(paths) == {"series-stock", "series-reserved"}
    assert paths["series-stock"].startswith("M44.0 ")
    assert paths["series-stock"].count("H") == 2
    assert [line.get("class") for line in tree.iter(f"{SVG}line")] == ["grid", "axis", "threshold"]
    title = tree.find(f"{SVG}title")
    assert title is not None and title.text and title.text.startswith("Tee <b>: stock 4")


def test_nothing_is_drawn_without_points() -> None:
    assert str(render_svg([], title="x")) == ""
