"""The Dockerfile: slim, non-root, runtime dependencies only, serving on $PORT.

No image can be pulled or built here, so this checks the file's promises and then repeats
its build stage without Docker: the same `uv sync` from only the files it copies, into a
fresh environment, which must serve the app from outside the source tree.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def test_slim_base_and_a_non_root_user_in_the_final_stage() -> None:
    args = dict(a.split("=", 1) for w, a in instructions() if w == "ARG" and "=" in a)
    image = args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", image), image
    stage = final_stage()
    assert stage[0] == ("FROM", "${PYTHON_IMAGE}")
    users = [a for w, a in stage if w == "USER"]
    assert users and users[-1] not in ("root", "0"), users
    copies = [a for w, a in stage if w == "COPY"]
    assert copies == ["--from=build /app/.venv /app/.venv"], "only the venv goes in"


def test_runtime_dependencies_only_from_the_lock() -> None:
    syncs = [a for w, a in instructions() if w == "RUN" and "uv sync" in a]
    assert syncs
    for sync in syncs:
        assert "--locked" in sync and "--no-dev" in sync, sync
        assert "--extra" not in sync and "--all-extras" not in sync, sync
    uvw = (ROOT / "uvw.py").read_text()
    pinned = re.search(r'UV_VERSION = "([^"]+)"', uvw)
    assert pinned and f"uv=={pinned.group(1)}" in DOCKERFILE, "one uv version for both"


def test_it_copies_what_the_wheel_is_built_from() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    copied = {
        name
        for w, a in instructions()
        if w == "COPY" and "--from" not in a
        for name in shlex.split(a)[:-1]
    }
    assert {"pyproject.toml", "uv.lock", "README.md"} <= copied
    assert set(packages) <= copied, (packages, copied)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".tools", "tests", "data", ".env"} <= set(ignored)


def test_it_serves_on_the_port_the_host_names() -> None:
    stage = final_stage()
    cmd = [a for w, a in stage if w == "CMD"][-1]
    assert "stocksync serve --host 0.0.0.0 --port" in cmd and "$PORT" in cmd
    env = " ".join(a for w, a in stage if w == "ENV")
    assert "PORT=8000" in env and "STOCKSYNC_DATA=/data/" in env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_the_build_stage_without_docker_serves_the_app(tmp_path: Path) -> None:
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.skip("needs uv (run the suite with `uv run pytest`)")
    src = tmp_path / "src"
    src.mkdir()
    for word, args in instructions():
        if word == "COPY" and "--from" not in args:
            *sources, _target = shlex.split(args)
            for name in sources:
                path = ROOT / name
                if path.is_dir():
                    shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(path, src / name)
    venv = tmp_path / "venv"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    # The packages are in uv's cache from this checkout's own sync: no network needed.
    sync = [uv, "sync", "--locked", "--no-dev", "--no-editable", "--offline", "--quiet"]
    done = subprocess.run(sync, cwd=src, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    python = venv / "bin" / "python"
    has_pytest = subprocess.run([python, "-c", "import pytest"], capture_output=True)
    assert has_pytest.returncode != 0, "the image would carry the test tools"

    port = _free_port()
    run_dir = tmp_path / "app"  # like the image: no source tree beside the process
    run_dir.mkdir()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [venv / "bin" / "stocksync", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=run_dir,
        env={
            "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
            "STOCKSYNC_DATA": str(tmp_path / "lake"),
            "ADMIN_API_KEYS": "ada:admin:key-0123456789",
        },
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health") as answer:
                    assert answer.status == 200
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "server.log").read_text()
                assert time.monotonic() < deadline, "the app did not start"
                time.sleep(0.2)
        # The docs assets come from an installed package; the console templates and styles
        # must be inside the wheel.
        pages = ("/docs", "/docs-assets/swagger-ui-bundle.js", "/console/sign-in")
        for path in (*pages, "/console/static/console.css"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as answer:
                assert answer.status == 200, path
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
