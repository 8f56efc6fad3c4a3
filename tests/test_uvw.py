"""uvw.py runs the uv on PATH when it is recent enough, else its private copy in .tools/.

The private copy's first install (venv + pip from PyPI) needs the network; `.ci/run` proves
it on the system Python with no uv on PATH. Here a fake uv stands in, so the choice itself is
checked without the network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(os.name == "nt", reason="fake uv is a POSIX shell script")


def fake_uv(folder: Path, version: str, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    uv = folder / "uv"
    uv.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "--version" ]; then echo "uv {version} (fake)"; exit 0; fi\n'
        f'echo "{name} ran: $*"\n'
        "exit 7\n"
    )
    uv.chmod(0o755)
    return uv


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of uvw.py in a folder of its own (its .tools/ goes there, not in the repo)."""
    shutil.copy(ROOT / "uvw.py", tmp_path / "uvw.py")
    return tmp_path


def run_uvw(checkout: Path, path: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(checkout / "uvw.py"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
        cwd=checkout,
        timeout=60,
    )


def test_uses_the_uv_on_path_and_passes_arguments_and_exit_status(checkout: Path) -> None:
    path_dir = checkout / "path"
    fake_uv(path_dir, "0.13.9", "path uv")
    answer = run_uvw(checkout, f"{path_dir}:/usr/bin:/bin", "run", "--locked", "pytest", "-k x")
    assert answer.stdout.strip() == "path uv ran: run --locked pytest -k x"
    assert answer.returncode == 7
    assert not (checkout / ".tools").exists()


def test_an_old_uv_on_path_is_passed_over_for_the_private_copy(checkout: Path) -> None:
    path_dir = checkout / "path"
    fake_uv(path_dir, "0.4.30", "old uv")
    fake_uv(checkout / ".tools" / "bin", "0.13.9", "private uv")
    (checkout / ".tools" / "uv-ready").write_text("0.13.9\n")
    answer = run_uvw(checkout, f"{path_dir}:/usr/bin:/bin", "sync", "--locked")
    assert answer.stdout.strip() == "private uv ran: sync --locked"
    assert "0.4.30" in answer.stderr and "needs uv >= 0.13" in answer.stderr


def test_without_uv_on_path_a_ready_private_copy_is_used(checkout: Path) -> None:
    fake_uv(checkout / ".tools" / "bin", "0.13.9", "private uv")
    (checkout / ".tools" / "uv-ready").write_text("0.13.9\n")
    answer = run_uvw(checkout, str(checkout / "empty"), "--help")
    assert answer.stdout.strip() == "private uv ran: --help"
    assert answer.stderr == ""


def test_a_half_made_private_copy_is_made_again(checkout: Path) -> None:
    """No `uv-ready` marker (an interrupted first run): uvw.py starts over, never runs it."""
    fake_uv(checkout / ".tools" / "bin", "0.13.9", "half-made uv")
    # An interpreter with no venv support stands in for Debian without python3-venv, so
    # the new attempt fails fast and offline, with the advice a newcomer needs.
    answer = subprocess.run(
        [sys.executable, "-c", BROKEN_VENV, str(checkout / "uvw.py")],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(checkout / "empty")},
        timeout=60,
    )
    assert "half-made uv" not in answer.stdout
    assert answer.returncode == 1
    assert "apt-get install python3-venv" in answer.stderr
    assert not (checkout / ".tools").exists()


BROKEN_VENV = """
import runpy, subprocess, sys, venv
def no_ensurepip(self, context):
    raise subprocess.CalledProcessError(1, ["python3", "-m", "ensurepip"])
venv.EnvBuilder._setup_pip = no_ensurepip
sys.argv = [sys.argv[1], "--version"]
runpy.run_path(sys.argv[0], run_name="__main__")
"""
