"""The run's chart: reserve latency distribution and throughput over time, one PNG.

Several runs (coalescing off and on) share the axes, so the difference shows at a glance.
matplotlib is a development dependency: imported here only, with the file-only backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.flash_sale.figures import throughput_series
from bench.flash_sale.shoppers import Answer

COLOURS = ("#c0392b", "#2471a3", "#229954", "#7d3c98")


def write_chart(path: Path, title: str, runs: Sequence[tuple[str, Sequence[Answer]]]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (latency_axes, rate_axes) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    longest = max((a.latency_ms for _, answers in runs for a in answers), default=1.0)
    bins = [longest * step / 40 for step in range(41)]
    # One bucket width for every run, so their rates compare bucket for bucket.
    duration = max((a.answered for _, answers in runs for a in answers), default=1.0)
    width = max(0.1, duration / 30)
    for colour, (label, answers) in zip(COLOURS, runs, strict=False):
        latency_axes.hist(
            [answer.latency_ms for answer in answers],
            bins=bins,
            alpha=0.55,
            color=colour,
            label=label,
        )
        times, won, refused = throughput_series(answers, width)
        rate_axes.plot(
            times, won, color=colour, linewidth=2, drawstyle="steps-post", label=f"{label}: won"
        )
        rate_axes.plot(
            times,
            refused,
            color=colour,
            linewidth=1,
            linestyle="--",
            drawstyle="steps-post",
            label=f"{label}: refused",
        )
    latency_axes.set_title("Reserve latency")
    latency_axes.set_xlabel("ms (request sent to answer received)")
    latency_axes.set_ylabel("buyers")
    latency_axes.legend()
    rate_axes.set_title(f"Answers per second during the sale ({width:.2f} s buckets)")
    rate_axes.set_xlabel("seconds since the first buyer")
    rate_axes.set_ylabel("answers / s")
    rate_axes.legend(fontsize="small")
    figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
