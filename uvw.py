"""uv, wherever it is: `python3 uvw.py ARGS` runs `uv ARGS` (a wrapper, like `gradlew`).

It uses the `uv` on PATH when there is one recent enough for the committed `uv.lock`;
otherwise a private copy in `.tools/` (a virtual environment made with `python3 -m venv`,
with the pinned uv installed into it by pip). So the Quick start works with any Python
3.11+, uv installed or not, and on systems whose Python is "externally managed" (PEP 668:
Debian 12, Ubuntu 23.04+, Homebrew), where `pip install uv` into the system Python is
refused. Only the standard library: it runs before anything is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

# The uv that wrote uv.lock; older ones may not read it. Pinned so every private copy is
# the same tool.
UV_VERSION = "0.13.9"
MIN_UV = (0, 13)
ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
# Written last, once uv is installed: a half-made .tools (interrupted, no network) is redone.
READY = TOOLS / "uv-ready"
BIN = "Scripts" if os.name == "nt" else "bin"
EXE = ".exe" if os.name == "nt" else ""


def _say(message: str) -> None:
    print(f"uvw: {message}", file=sys.stderr, flush=True)


def _version(uv: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run(
            [uv, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    # "uv 0.13.9 (abc 2025-01-01)"
    words = out.split()
    if len(words) < 2:
        return None
    try:
        return tuple(int(part) for part in words[1].split(".")[:3])
    except ValueError:
        return None


def uv_on_path() -> str | None:
    """The uv on PATH, if it is recent enough for the lock file."""
    found = shutil.which("uv")
    if found is None:
        return None
    version = _version(found)
    if version is None or version[:2] < MIN_UV:
        shown = ".".join(map(str, version)) if version else "unknown version"
        _say(f"{found} is uv {shown}; this project needs uv >= {'.'.join(map(str, MIN_UV))}.")
        return None
    return found


def private_uv() -> str:
    """uv in .tools/, made on first use with the running Python's venv and pip."""
    uv = TOOLS / BIN / f"uv{EXE}"
    if READY.exists() and uv.exists():
        return str(uv)
    _say(f"no suitable uv on PATH: installing uv {UV_VERSION} into {TOOLS} (once)")
    shutil.rmtree(TOOLS, ignore_errors=True)
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
    except (OSError, subprocess.CalledProcessError) as exc:
        shutil.rmtree(TOOLS, ignore_errors=True)
        _say(f"could not create a virtual environment ({exc}).")
        _say("On Debian or Ubuntu install the venv module first: sudo apt-get install python3-venv")
        raise SystemExit(1) from None
    python = TOOLS / BIN / f"python{EXE}"
    install = [
        str(python),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        f"uv=={UV_VERSION}",
    ]
    if subprocess.call(install) != 0 or not uv.exists():
        shutil.rmtree(TOOLS, ignore_errors=True)
        _say(f"could not install uv {UV_VERSION} from PyPI (see pip's message above).")
        raise SystemExit(1)
    READY.write_text(f"{UV_VERSION}\n")
    return str(uv)


def main(argv: list[str]) -> int:
    # Runs under whatever `python3` is, so an older one gets a sentence, not a traceback.
    if sys.version_info < (3, 11):  # noqa: UP036
        _say(f"stocksync needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
        return 1
    uv = uv_on_path() or private_uv()
    if os.name == "nt":
        return subprocess.call([uv, *argv])
    # Replace this process, so Ctrl-C and the exit status are uv's own.
    os.execv(uv, [uv, *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
