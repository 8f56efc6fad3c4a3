from __future__ import annotations

import json

import pytest

from bench.lake_throughput import run_inprocess
from cms_client.lake import Lake
from service.entrypoints.cli.main import main


async def test_inprocess_bench_reports_figures_and_cleans_up(lake: Lake):
    figures = await run_inprocess(lake, 24, concurrency=4)
    assert figures["store"] == "lake" and figures["concurrency"] == 4
    for scenario in ("sequential", "concurrent_distinct", "concurrent_hot"):
        assert figures[scenario]["operations"] == 24
        assert figures[scenario]["attempts"] >= 24
        assert figures[scenario]["ops_per_second"] > 0
    assert await lake.query('count(*[_type == "benchProduct"])') == 0


def test_stocksync_bench_lake_throughput_prints_both_sequential_ratios(
    capsys: pytest.CaptureFixture[str],
):
    assert main(["bench", "lake-throughput", "--n", "100", "--concurrency", "2", "--no-http"]) == 0
    figures = json.loads(capsys.readouterr().out)
    ratios = figures["inprocess_to_raw"]
    assert figures["raw_sqlite"]["full"]["synchronous"] == "FULL"
    assert ratios["lake_sequential"]["operations"] == 100
    assert ratios["lake_sequential_sync"]["operations"] == 100
    assert ratios["sequential"] > 0 and ratios["sequential_sync"] > 0


def test_stocksync_bench_passes_options_to_the_benchmark(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exited:
        main(["bench", "groq-speed", "--help"])
    assert exited.value.code == 0
    assert "stocksync bench groq-speed" in capsys.readouterr().out
