from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from cms_client.sanity_settings import SanitySettings


def test_reads_sanity_env_names_with_safe_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANITY_PROJECT_ID", "abc123")
    monkeypatch.setenv("SANITY_API_TOKEN", "sk-secret")

    settings = SanitySettings()

    assert settings.dataset == "production"
    assert settings.api_version == "v2025-02-19"
    assert settings.mutations_per_second == 25
    assert settings.request_tag == "stocksync"
    assert settings.api_token is not None
    assert settings.api_token.get_secret_value() == "sk-secret"
    assert "sk-secret" not in repr(settings)
    # The live API, never apicdn: stock must be read fresh.
    assert settings.base_url == "https://abc123.api.sanity.io"
    assert settings.data_url("doc", "a,b") == (
        "https://abc123.api.sanity.io/v2025-02-19/data/doc/production/a,b"
    )


def test_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "SANITY_PROJECT_ID": "abc123",
        "SANITY_DATASET": "staging",
        "SANITY_API_VERSION": "2024-06-01",
        "SANITY_API_HOST": "http://127.0.0.1:7070/",
        "SANITY_MUTATIONS_PER_SECOND": "10",
        "SANITY_REQUEST_TIMEOUT_SECONDS": "3.5",
        "SANITY_RETRY_ATTEMPTS": "2",
        "SANITY_RETRY_MAX_SECONDS": "4",
        "SANITY_REQUEST_TAG": "shop.checkout",
    }.items():
        monkeypatch.setenv(name, value)

    settings = SanitySettings()

    assert settings.api_version == "v2024-06-01"
    assert settings.base_url == "http://127.0.0.1:7070"
    assert settings.data_url("mutate") == "http://127.0.0.1:7070/v2024-06-01/data/mutate/staging"
    assert (settings.mutations_per_second, settings.request_timeout_seconds) == (10, 3.5)
    assert (settings.retry_attempts, settings.retry_max_seconds) == (2, 4)
    assert settings.request_tag == "shop.checkout"
    assert settings.api_token is None


@pytest.mark.parametrize(
    ("given", "normalised"),
    [("v2025-02-19", "v2025-02-19"), ("2021-03-25", "v2021-03-25"), ("1", "v1"), ("v1", "v1")],
)
def test_api_version_accepts_dates_and_v1_with_or_without_v(given: str, normalised: str) -> None:
    assert SanitySettings(project_id="p", api_version=given).api_version == normalised


@pytest.mark.parametrize("given", ["2025-02-30", "2025-2-19", "latest", "v2", "", "vv2025-02-19"])
def test_api_version_refuses_anything_else(given: str) -> None:
    with pytest.raises(ValidationError):
        SanitySettings(project_id="p", api_version=given)


def test_experimental_api_version_needs_explicit_consent() -> None:
    with pytest.raises(ValidationError, match="experimental"):
        SanitySettings(project_id="p", api_version="X")
    allowed = SanitySettings(project_id="p", api_version="vX", allow_experimental_api=True)
    assert allowed.api_version == "vX"


@pytest.mark.parametrize(
    "overrides",
    [
        {"request_tag": "has space"},
        {"request_tag": "x" * 76},
        {"project_id": "Bad_Project"},
        {"dataset": "Prod"},
        {"api_host": "127.0.0.1:7070"},
        {"mutations_per_second": 0},
        {"retry_attempts": 0},
    ],
)
def test_refuses_invalid_values(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SanitySettings(**{"project_id": "p", **overrides})


def test_blank_token_means_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANITY_PROJECT_ID", "abc123")
    monkeypatch.setenv("SANITY_API_TOKEN", "")
    assert SanitySettings().api_token is None


def test_project_id_is_required() -> None:
    with pytest.raises(ValidationError):
        SanitySettings()
