"""The flash-sale benchmark, end to end with tiny numbers: real processes on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.entrypoints.cli.main import main

KEYS = {
    "sold",
    "oversold",
    "units_left",
    "won",
    "refused",
    "server_errors",
    "reserves_per_second",
    "latency_ms",
    "store_requests_per_reserve",
    "conflicts",
    "retries",
}


@pytest.mark.slow
def test_a_small_hot_sale_sells_the_stock_once_and_reports_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    out = tmp_path / "run.json"
    argv = ["bench", "flash-sale", "--processes", "2", "--buyers", "20", "--stock", "5"]
    argv += ["--latency-ms", "0", "--abandon", "0.4", "--json", str(out)]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert json.loads(out.read_text()) == printed
    assert printed.keys() >= KEYS
    assert set(printed["latency_ms"]) >= {"p50", "p95", "p99"}
    assert printed["oversold"] == 0
    assert printed["server_errors"] == 0
    # 20 buyers for 5 units: 5 holds, 15 refusals; 2 of the 5 winners abandon.
    assert (printed["won"], printed["refused"]) == (5, 15)
    assert (printed["paid"], printed["released"], printed["unsettled"]) == (3, 2, 0)
    assert (printed["sold"], printed["units_left"]) == (3, 2)
    assert printed["store_check"]["sale_entries"] == 3
    assert printed["store_check"]["reserved_left"] == 0
    assert printed["store_requests_per_reserve"] > 0
    chart = Path(printed["chart"])
    assert chart == out.with_suffix(".png")
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_impossible_options_are_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str],
):
    with pytest.raises(SystemExit) as refused:
        main(["bench", "flash-sale", "--processes", "0"])
    assert "processes must be between 1 and 16" in str(refused.value)
