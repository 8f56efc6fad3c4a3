"""The README's commands are promises: CI runs the Quick start, and every command a reader may
copy runs on a fresh machine as written (no bare `python`, no `pip install` into the system
Python, no uv assumed on PATH)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "Quick start has no ```sh block"
    return [
        line.strip()
        for line in block.group(1).splitlines()
        if line.strip() and not line.startswith("#")
    ]


def shell_commands() -> list[str]:
    """Every command line of the README's ```sh blocks (continuations joined)."""
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        joined = block.replace("\\\n", " ")
        commands += [
            line.strip() for line in joined.splitlines() if line.strip() and line[0] != "#"
        ]
    return commands


def inline_commands() -> list[str]:
    """Inline code that reads as a command to run (starts with a program name)."""
    return [
        code
        for code in re.findall(r"`([^`\n]+)`", README)
        if re.match(r"(python3?|pip3?|uv|pytest|sh|bash) ", code)
    ]


def test_quick_start_has_exactly_two_commands_start_then_test() -> None:
    start, test = quick_start_commands()
    assert start == "python3 uvw.py run --locked --no-dev stocksync serve --demo"
    assert test == "python3 uvw.py run --locked pytest"


def test_ci_runs_the_readme_test_command() -> None:
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert quick_start_commands()[1] in ci_lines


def test_ci_runs_the_readme_start_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().replace("\\\n", " ")
    assert re.search(re.escape(quick_start_commands()[0]) + r"( |$)", ci, re.M)


def test_every_readme_command_runs_without_uv_or_a_bare_python() -> None:
    commands = shell_commands() + inline_commands()
    assert len(commands) >= 10, "the README's commands were not found"
    for command in commands:
        if command.startswith("curl "):
            continue
        assert not re.match(r"python |pip3? ", command), command
        assert "python3 -m uv" not in command and "pip install" not in command, command
        if command.startswith("python3 "):
            # python3 runs the wrapper (or `-m venv`, which uvw.py itself uses); scripts and
            # modules run inside the project's environment, through it.
            assert re.match(r"python3 (uvw\.py\b|-m venv\b)", command), command
