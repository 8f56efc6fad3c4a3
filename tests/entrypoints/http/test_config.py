"""Configuration: every variable of the README table is read, and maps onto the engine and
the Sanity client."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from cms_client.sanity_settings import SanitySettings
from service.config import env_variables, load_settings
from tests.entrypoints.http.conftest import make_settings

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_table_variables() -> list[str]:
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z_]+)` \|", section, re.M)


def test_the_readme_table_lists_every_variable_once():
    documented = readme_table_variables()
    sanity_client = {f"SANITY_{name.upper()}" for name in SanitySettings.model_fields}
    assert sorted(documented) == sorted(set(documented))
    assert set(documented) == set(env_variables()) | sanity_client


def test_issue_variables_are_all_read():
    expected = {
        "SANITY_PROJECT_ID",
        "SANITY_DATASET",
        "SANITY_API_TOKEN",
        "SANITY_API_VERSION",
        "SANITY_API_HOST",
        "STRIPE_WEBHOOK_SECRET",
        "STRIPE_SECRET_KEY",
        "SANITY_WEBHOOK_SECRET",
        "CRON_SECRET",
        "STOREFRONT_API_KEY",
        "ADMIN_API_KEYS",
        "STOCKSYNC_DATA",
    }
    assert expected <= set(env_variables())


def test_defaults_run_on_the_embedded_lake_with_everything_closed():
    settings = make_settings()
    assert not settings.uses_sanity and settings.data_file == "data/lake.sqlite3"
    assert settings.storefront_keys() == [] and settings.cron_secret_value() is None
    assert settings.staff_keys().keys == [] and settings.staff_keys().problem is None
    engine = settings.engine_settings()
    assert engine.default_ttl == timedelta(minutes=30) and engine.max_ttl == timedelta(minutes=60)
    assert (engine.max_quantity_per_line, engine.max_lines) == (50, 100)


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STOCKSYNC_DATA", "/tmp/shop.sqlite3")
    monkeypatch.setenv("STOREFRONT_API_KEY", "new, old ,")
    monkeypatch.setenv("STOCKSYNC_RESERVATION_TTL_MINUTES", "15")
    monkeypatch.setenv("STOCKSYNC_RESERVATION_GRACE_MINUTES", "5")
    monkeypatch.setenv("STOCKSYNC_MAX_QUANTITY_PER_LINE", "8")
    monkeypatch.setenv("STOCKSYNC_LOW_STOCK_THRESHOLD", "2")
    monkeypatch.setenv("VERCEL_ENV", "preview")

    settings = load_settings(_env_file=None)
    engine = settings.engine_settings()

    assert settings.data_file == "/tmp/shop.sqlite3"
    assert settings.storefront_keys() == ["new", "old"]
    assert settings.environment == "preview"
    assert engine.default_ttl == timedelta(minutes=15)
    assert engine.expire_grace == timedelta(minutes=5)
    assert engine.max_quantity_per_line == 8 and engine.low_stock_threshold == 2


def test_a_sanity_project_selects_the_sanity_client(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SANITY_PROJECT_ID", "abc123")
    monkeypatch.setenv("SANITY_API_TOKEN", "sk-token")
    monkeypatch.setenv("SANITY_API_VERSION", "2025-02-19")
    monkeypatch.setenv("SANITY_API_HOST", "http://127.0.0.1:7070/")

    settings = load_settings(_env_file=None)
    sanity = settings.sanity_settings()

    assert settings.uses_sanity
    assert sanity.project_id == "abc123" and sanity.dataset == "production"
    assert sanity.api_token is not None and sanity.api_token.get_secret_value() == "sk-token"
    assert sanity.api_version == "v2025-02-19"
    assert sanity.base_url == "http://127.0.0.1:7070"


def test_a_blank_project_id_means_the_lake(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SANITY_PROJECT_ID", "  ")
    assert not load_settings(_env_file=None).uses_sanity


def test_staff_keys_are_parsed_with_roles():
    staff = make_settings(admin_api_keys="ann:admin:k1, bo:customer_service:k:2").staff_keys()
    assert [(k.name, k.role.value, k.key) for k in staff.keys] == [
        ("ann", "admin", "k1"),
        ("bo", "customer_service", "k:2"),
    ]


@pytest.mark.parametrize("raw", ["justakey", "ann:owner:k1", "ann::k1"])
def test_malformed_staff_keys_are_refused_without_echoing_them(raw: str):
    staff = make_settings(admin_api_keys=raw).staff_keys()
    assert staff.keys == [] and staff.problem is not None
    assert "k1" not in staff.problem and "justakey" not in staff.problem


@pytest.mark.parametrize(
    "values",
    [
        {"STOCKSYNC_RESERVATION_TTL_MINUTES": 90},
        {"STOCKSYNC_MAX_QUANTITY_PER_LINE": 0},
        {"STOCKSYNC_MAX_LINES": 100_000},
        {"STOCKSYNC_MAX_BODY_BYTES": 10},
    ],
)
def test_limits_outside_their_bounds_are_refused(values: dict[str, int]):
    with pytest.raises(ValidationError):
        make_settings(**values)
