"""Starting a stocksync process for a benchmark and waiting until it answers (the stream
and import benchmarks; the flash-sale cluster has its own, with profiling and a lake
server of its own)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.flash_sale.cluster import base_environment, tail

START_TIMEOUT_S = 30.0


def spawn(
    work: Path, name: str, args: list[str], env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], Path]:
    """`python -m service.entrypoints.cli.main ARGS` in `work`, its output in NAME.log."""
    log = work / f"{name}.log"
    argv = [sys.executable, "-m", "service.entrypoints.cli.main", *args]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=work,
            env=env or base_environment(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, log


def wait_answering(process: subprocess.Popen[bytes], log: Path, url: str) -> None:
    """Until `url` answers at all (any status); raises with the log's end if it cannot."""
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx.Client(timeout=2.0) as http:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{log.stem} exited while starting:\n{tail(log)}")
            try:
                http.get(url)
                return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{log.stem} did not start in time:\n{tail(log)}")
            time.sleep(0.05)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
