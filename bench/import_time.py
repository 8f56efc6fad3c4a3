"""Cold import time of the app against bare FastAPI, measured in one run.

Each sample is a fresh interpreter that times one import with `perf_counter` (bytecode
caches warm, as on a warm disk). Samples of the modules alternate so drift hits them alike;
the median of each is printed with the ratio, then where the app's import time goes, per
package, as `python -X importtime` reports it.

    python3 -m uv run python bench/import_time.py [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("fastapi", "service.entrypoints.http.app", "api.index")
_TIMED = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
_MARK = "--import starts--"


def _environment() -> dict[str, str]:
    """The process environment without settings, so the app starts as on a fresh deploy."""
    prefixes = ("SANITY_", "STRIPE_", "STOCKSYNC_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env["PYTHONPATH"] = str(ROOT)
    return env


def sample(module: str) -> float:
    result = subprocess.run(
        [sys.executable, "-c", _TIMED.format(module=module)],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip())


def by_package(module: str, count: int) -> list[tuple[float, str]]:
    """Own import time (`-X importtime` self column) summed per top-level package."""
    code = f"import sys; sys.stderr.write({_MARK!r} + '\\n'); import {module}"
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    totals: dict[str, float] = {}
    for line in result.stderr.split(_MARK, 1)[1].splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, _, name = (part.strip() for part in line[len("import time:") :].split("|"))
        package = name.split(".")[0]
        totals[package] = totals.get(package, 0.0) + int(own) / 1000
    return sorted(((ms, pkg) for pkg, ms in totals.items()), reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()

    samples: dict[str, list[float]] = {module: [] for module in MODULES}
    for _ in range(args.runs):
        for module in MODULES:
            samples[module].append(sample(module))
    medians = {module: statistics.median(values) for module, values in samples.items()}

    python = sys.version.split()[0]
    print(f"cold import, median of {args.runs} fresh interpreters (python {python})")
    base = medians["fastapi"]
    for module in MODULES:
        values = samples[module]
        print(
            f"  {module:<12} {medians[module] * 1000:7.1f} ms  "
            f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})  "
            f"x{medians[module] / base:.2f} of fastapi"
        )
    print("  (api.index also builds the app: settings, routers, OpenAPI models)")
    print("\nown import time by package under api.index (-X importtime, one run):")
    for ms, package in by_package("api.index", args.top):
        print(f"  {ms:7.1f} ms  {package}")
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, api.index; print('stripe' in sys.modules)"],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"\nstripe imported by api.index: {loaded}")


if __name__ == "__main__":
    main()
