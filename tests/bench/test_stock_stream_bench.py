"""The stock-stream benchmark, end to end with small numbers: two real service processes."""

from __future__ import annotations

import json

import pytest

from service.entrypoints.cli.main import main


@pytest.mark.slow
def test_every_subscriber_gets_every_change_across_processes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # More subscribers than one address may open per minute (120): each stands for its own
    # browser, so the per-address limit must not refuse them (it once hung the bench).
    argv = ["bench", "stock-stream", "--subscribers", "130", "--changes", "2"]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["deliveries"] == 260
    assert printed["missed"] == 0
    assert printed["p50_ms"] <= printed["p99_ms"]
