"""The processes of one run: the lake server and K `stocksync serve` processes.

Everything listens on 127.0.0.1 on free ports, runs in a temporary directory (so no `.env`
of the caller's is read) with an environment stripped of the caller's stocksync, Sanity and
Stripe settings, and writes its output to a log file there. `Cluster` is a context manager:
on the way out every process is stopped (terminate, then kill), whatever happened.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from bench.flash_sale.lake_process import STATS_PATH
from service.config import env_variables

#: The repository root, so the subprocesses import this checkout's `bench` and `service`.
ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
DATASET = "production"
#: Seconds a process may take to start serving.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
_INHERITED_PREFIXES = ("SANITY_", "STOCKSYNC_", "STRIPE_", "VERCEL")


@dataclass(frozen=True)
class Keys:
    """The secrets of one run, generated fresh."""

    lake_token: str = field(default_factory=lambda: secrets.token_hex(16))
    storefront: str = field(default_factory=lambda: "sf-" + secrets.token_hex(16))
    staff: str = field(default_factory=lambda: "staff-" + secrets.token_hex(16))
    stripe_webhook: str = field(default_factory=lambda: "whsec_" + secrets.token_hex(16))


@dataclass(frozen=True)
class ClusterConfig:
    processes: int
    latency_ms: float
    coalesce: bool
    warm_cache: bool
    mutate_rate_limit: float | None = None
    #: Run each service process under cProfile, its stats written here on exit.
    profile_dir: Path | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def base_environment() -> dict[str, str]:
    """The caller's environment without any setting stocksync reads."""
    ours = set(env_variables())
    env = {
        name: value
        for name, value in os.environ.items()
        if name.upper() not in ours and not name.upper().startswith(_INHERITED_PREFIXES)
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _flag(value: bool) -> str:
    return "true" if value else "false"


class Cluster(AbstractContextManager["Cluster"]):
    def __init__(self, config: ClusterConfig, keys: Keys | None = None) -> None:
        self.config = config
        self.keys = keys or Keys()
        self.lake_url = ""
        self.service_urls: list[str] = []
        self._stack = ExitStack()
        self._processes: list[tuple[str, subprocess.Popen[bytes], Path]] = []
        self._workdir = Path()

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Cluster:
        try:
            self._workdir = Path(
                self._stack.enter_context(tempfile.TemporaryDirectory(prefix="flash-sale-"))
            )
            self._stack.callback(self._stop_all)
            self._start_lake()
            for index in range(self.config.processes):
                self._start_service(index)
            self._wait_until_serving()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stack.close()

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = self._workdir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                argv, cwd=self._workdir, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        self._processes.append((name, process, log))

    def _start_lake(self) -> None:
        port = free_port()
        self.lake_url = f"http://{HOST}:{port}"
        argv = [
            sys.executable,
            "-m",
            "bench.flash_sale.lake_process",
            "--port",
            str(port),
            f"--token={self.keys.lake_token}",
            "--latency-ms",
            str(self.config.latency_ms),
            "--dataset",
            DATASET,
        ]
        if self.config.mutate_rate_limit is not None:
            argv += ["--mutate-rate-limit", str(self.config.mutate_rate_limit)]
        self._spawn("lake", argv, base_environment())

    def service_environment(self) -> dict[str, str]:
        pacing: dict[str, str] = {}
        if self.config.mutate_rate_limit is not None:
            # As the README advises for several instances behind one IP: each paces itself to
            # its share of the store's mutation budget, so they queue instead of drawing 429s.
            share = self.config.mutate_rate_limit / self.config.processes
            pacing["SANITY_MUTATIONS_PER_SECOND"] = f"{share:g}"
        return {
            **base_environment(),
            **pacing,
            "SANITY_PROJECT_ID": "bench",
            "SANITY_DATASET": DATASET,
            "SANITY_API_HOST": self.lake_url,
            "SANITY_API_TOKEN": self.keys.lake_token,
            "STOREFRONT_API_KEY": self.keys.storefront,
            "ADMIN_API_KEYS": f"bench:admin:{self.keys.staff}",
            "STRIPE_WEBHOOK_SECRET": self.keys.stripe_webhook,
            "STOCKSYNC_COALESCE": _flag(self.config.coalesce),
            "STOCKSYNC_WARM_CACHE": _flag(self.config.warm_cache),
        }

    def _start_service(self, index: int) -> None:
        port = free_port()
        self.service_urls.append(f"http://{HOST}:{port}")
        profiler: list[str] = []
        if self.config.profile_dir is not None:
            self.config.profile_dir.mkdir(parents=True, exist_ok=True)
            out = self.config.profile_dir / f"stocksync-{index}.prof"
            profiler = ["-m", "cProfile", "-o", str(out.resolve())]
        argv = [
            sys.executable,
            *profiler,
            "-m",
            "service.entrypoints.cli.main",
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
        self._spawn(f"stocksync-{index}", argv, self.service_environment())

    def _wait_until_serving(self) -> None:
        probes = [(self._processes[0], self.lake_url + STATS_PATH)]
        probes += [
            (process, url + "/api/health")
            for process, url in zip(self._processes[1:], self.service_urls, strict=True)
        ]
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(timeout=2.0) as http:
            for (name, process, log), url in probes:
                while True:
                    if process.poll() is not None:
                        raise RuntimeError(f"{name} exited while starting:\n{tail(log)}")
                    try:
                        if http.get(url).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{name} did not start in time:\n{tail(log)}")
                    time.sleep(0.05)

    def _stop_all(self) -> None:
        for name, process, _log in self._processes:
            if process.poll() is None:
                if self.config.profile_dir is not None and name.startswith("stocksync"):
                    # uvicorn re-raises the signal it stopped on; only SIGINT (raised as
                    # KeyboardInterrupt) lets cProfile write its stats on the way out.
                    process.send_signal(signal.SIGINT)
                else:
                    process.terminate()
        for _name, process, _log in self._processes:
            try:
                process.wait(timeout=STOP_TIMEOUT * (4 if self.config.profile_dir else 1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)

    # -- for the run -----------------------------------------------------------------------

    def crashed(self) -> Iterator[str]:
        """The processes that have exited, with the end of their log."""
        for name, process, log in self._processes:
            if process.poll() is not None:
                yield f"{name} exited with {process.returncode}:\n{tail(log)}"


def tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
