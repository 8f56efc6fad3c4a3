"""The official JavaScript tools (groq-js, @sanity/client) under Node, for tests that hold the lake
against them (design rule 12: outside shapes come from outside).

`tests/node/package.json` and its lock pin the versions; the first test that needs them installs
them with `npm ci` (the npm registry is reachable wherever the suite runs). A machine without Node
skips those tests cleanly instead of failing.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parent.parent / "node"


def node_dir() -> Path:
    """The folder with `node_modules` installed; skips the calling test when Node is absent."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are not installed")
    lock_path = NODE_DIR / ".install.lock"
    with lock_path.open("w") as lock:
        # Several pytest processes may start at once; one installs, the others wait for it.
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = NODE_DIR / "node_modules" / ".package-lock.json"
        if (
            not stamp.exists()
            or stamp.stat().st_mtime < (NODE_DIR / "package-lock.json").stat().st_mtime
        ):
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=NODE_DIR,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if result.returncode != 0:
                pytest.fail(f"npm ci in {NODE_DIR} failed:\n{result.stderr[-2000:]}")
    return NODE_DIR


def run_node(script: str, *, stdin: str = "", timeout: float = 120) -> str:
    """Run an ES-module script with `tests/node` as its working folder; return its stdout."""
    folder = node_dir()
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=folder,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"node failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result.stdout
