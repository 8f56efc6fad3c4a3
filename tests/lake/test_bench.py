from __future__ import annotations

from bench.lake_throughput import run_inprocess
from cms_client.lake import Lake


async def test_inprocess_bench_reports_figures_and_cleans_up(lake: Lake):
    figures = await run_inprocess(lake, 24, concurrency=4)
    assert figures["store"] == "lake" and figures["concurrency"] == 4
    for scenario in ("sequential", "concurrent_distinct", "concurrent_hot"):
        assert figures[scenario]["operations"] == 24
        assert figures[scenario]["attempts"] >= 24
        assert figures[scenario]["ops_per_second"] > 0
    assert await lake.query('count(*[_type == "benchProduct"])') == 0
