"""`stocksync serve --demo` as a subprocess in a folder of its own, as a newcomer starts it:
no configuration at all (the developer's own stocksync variables are left out)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from service.config import env_variables

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 30


@dataclass
class DemoServer:
    base_url: str
    storefront_key: str
    admin_key: str
    manager_key: str
    cron_secret: str
    output: list[str]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def printed(output: list[str], name: str) -> str:
    for line in output:
        match = re.match(rf"\s+{name}[=:] ?(\S+)$", line)
        if match:
            return match.group(1)
    raise AssertionError(f"{name} not printed:\n" + "\n".join(output))


def demo_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in set(env_variables())}
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def cli(workdir: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """One `stocksync ...` command run to its end in `workdir`."""
    return subprocess.run(
        [sys.executable, "-m", "service.entrypoints.cli.main", *args],
        cwd=workdir,
        env=demo_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextmanager
def running_demo(workdir: Path, port: int, *extra: str) -> Iterator[DemoServer]:
    """The demo serving on `port` until the block ends."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "service.entrypoints.cli.main",
            "serve",
            "--demo",
            "--port",
            str(port),
            "--log-level",
            "warning",
            *extra,
        ],
        cwd=workdir,
        env=demo_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []

    def collect() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line.rstrip("\n"))

    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                reader.join(timeout=5)
                raise AssertionError("server exited:\n" + "\n".join(output))
            try:
                if httpx.get(f"{base_url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("server did not start:\n" + "\n".join(output))
            time.sleep(0.05)  # waiting on another process, not on the clock
        yield DemoServer(
            base_url=base_url,
            storefront_key=printed(output, "STOREFRONT_API_KEY"),
            admin_key=printed(output, "admin key"),
            manager_key=printed(output, "inventory_manager key"),
            cron_secret=printed(output, "CRON_SECRET"),
            output=output,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
