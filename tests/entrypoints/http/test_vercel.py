"""The Vercel deployment: entrypoint, preset, crons and what the bundle leaves out."""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CONFIG = json.loads((ROOT / "vercel.json").read_text())


def expand_braces(pattern: str) -> list[str]:
    match = re.search(r"\{([^{}]*)\}", pattern)
    if not match:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [p for part in match.group(1).split(",") for p in expand_braces(head + part + tail)]


def excluded(path: str) -> bool:
    pattern = CONFIG["functions"]["api/index.py"]["excludeFiles"]
    return any(fnmatch.fnmatch(path, p) for p in expand_braces(pattern))


def test_the_entrypoint_defines_a_top_level_app():
    tree = ast.parse((ROOT / "api" / "index.py").read_text())
    targets = [
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    ]
    assert "app" in targets


def test_fastapi_preset_without_catch_all_rewrites():
    assert CONFIG["framework"] == "fastapi"
    assert not {"rewrites", "routes", "builds"} & set(CONFIG)


def test_tests_and_local_data_are_left_out_of_the_bundle():
    for path in (
        "tests/entrypoints/http/test_vercel.py",
        "tests/conftest.py",
        "bench/import_time.py",
        "data/lake.sqlite3",
    ):
        assert excluded(path), path
    for path in (
        "service/entrypoints/http/app.py",
        "api/index.py",
        "cms_client/store.py",
        "schemas/product.py",
    ):
        assert not excluded(path), path


def test_two_daily_crons_hit_get_routes_of_the_app():
    from api.index import app

    crons = CONFIG["crons"]
    assert len(crons) == 2
    assert {c["path"] for c in crons} == {"/api/cron/cleanup", "/api/cron/reconcile"}
    for cron in crons:
        minute, hour, *rest = cron["schedule"].split()
        assert minute.isdigit() and hour.isdigit() and rest == ["*", "*", "*"], cron
    paths = app.openapi()["paths"]
    assert all("get" in paths[c["path"]] for c in crons)


async def test_cron_routes_stay_closed_without_cron_secret(open_client, catalogue):
    async with open_client() as client:
        for cron in CONFIG["crons"]:
            response = await client.get(cron["path"], headers={"user-agent": "vercel-cron/1.0"})
            assert response.status_code == 503
            assert response.json()["details"] == ["variable: CRON_SECRET"]


def test_importing_the_app_does_not_import_stripe():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "SANITY_"))}
    code = "import sys, api.index; print('stripe' in sys.modules, 'httpx' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


def test_on_vercel_the_embedded_lake_is_refused(monkeypatch):
    from service.bootstrap import open_store
    from tests.entrypoints.http.conftest import make_settings

    monkeypatch.setenv("VERCEL", "1")
    with pytest.raises(RuntimeError, match="SANITY_PROJECT_ID"):
        open_store(make_settings())
