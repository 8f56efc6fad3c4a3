"""Settings of the production store, read from `SANITY_*` environment variables.

| env | default | |
|---|---|---|
| `SANITY_PROJECT_ID` | required | lowercase letters, digits and `-` |
| `SANITY_DATASET` | `production` | |
| `SANITY_API_TOKEN` | none | sent as `Authorization: Bearer`; writes and private ids need it |
| `SANITY_API_VERSION` | `v2025-02-19` | `vYYYY-MM-DD` or `v1` (leading `v` optional); `vX` |
|  |  | only with `SANITY_ALLOW_EXPERIMENTAL_API=true`: Sanity may change `X` any day |
| `SANITY_API_HOST` | none | base-URL override, e.g. `http://127.0.0.1:7070` (local lake server) |
| `SANITY_REQUEST_TAG` | `stocksync` | request tag shown in Sanity's usage logs |
| `SANITY_MUTATIONS_PER_SECOND` | `25` | mutate requests per second, per process |
| `SANITY_REQUEST_TIMEOUT_SECONDS` | `10` | per HTTP request |
| `SANITY_RETRY_ATTEMPTS` | `4` | attempts per call, the first one included |
| `SANITY_RETRY_MAX_SECONDS` | `10` | no retry starts whose wait would end later than this |
|  |  | after the call began (keep it below the function's `maxDuration`) |

Without an override the base URL is the live API, `https://<projectId>.api.sanity.io`, never
the API CDN: stock must be read fresh.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_VERSION = "v2025-02-19"

_PROJECT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_DATASET = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DATE_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: The JS client's check (`src/validators.ts`); Sanity refuses other tags.
REQUEST_TAG = re.compile(r"^[a-z0-9._-]{1,75}$", re.IGNORECASE)


class SanitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SANITY_", extra="ignore", frozen=True)

    project_id: str
    dataset: str = "production"
    api_token: SecretStr | None = None
    api_version: str = DEFAULT_API_VERSION
    allow_experimental_api: bool = False
    api_host: str | None = None
    request_tag: str = "stocksync"
    mutations_per_second: float = Field(default=25.0, gt=0)
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    retry_attempts: int = Field(default=4, ge=1)
    retry_max_seconds: float = Field(default=10.0, ge=0)

    @field_validator("project_id")
    @classmethod
    def _check_project_id(cls, value: str) -> str:
        if not _PROJECT_ID.match(value):
            raise ValueError("project id must be lowercase letters, digits and '-'")
        return value

    @field_validator("dataset")
    @classmethod
    def _check_dataset(cls, value: str) -> str:
        if not _DATASET.match(value):
            raise ValueError("dataset must be lowercase letters, digits, '_' and '-' (max 64)")
        return value

    @field_validator("api_version")
    @classmethod
    def _normalise_api_version(cls, value: str) -> str:
        bare = value.strip()
        bare = bare[1:] if bare[:1] in ("v", "V") else bare
        if bare in ("1", "X"):
            return "v" + bare
        if _DATE_VERSION.match(bare):
            try:
                date.fromisoformat(bare)
            except ValueError as exc:
                raise ValueError(f"api version {value!r} is not a real date") from exc
            return "v" + bare
        raise ValueError(f"api version {value!r} must be YYYY-MM-DD, 1 or X")

    @field_validator("api_token")
    @classmethod
    def _blank_token_is_no_token(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty SANITY_API_TOKEN= line must not turn into "Authorization: Bearer ".
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("api_host")
    @classmethod
    def _check_api_host(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("api host must be a base URL starting with http:// or https://")
        return value

    @field_validator("request_tag")
    @classmethod
    def _check_request_tag(cls, value: str) -> str:
        if not REQUEST_TAG.match(value):
            raise ValueError("request tag must match ^[a-z0-9._-]{1,75}$")
        return value

    @model_validator(mode="after")
    def _refuse_experimental(self) -> SanitySettings:
        if self.api_version == "vX" and not self.allow_experimental_api:
            raise ValueError(
                "api version X is experimental and may change at any time; "
                "set SANITY_ALLOW_EXPERIMENTAL_API=true to use it anyway"
            )
        return self

    @property
    def base_url(self) -> str:
        return self.api_host or f"https://{self.project_id}.api.sanity.io"

    def data_url(self, endpoint: str, *tail: str) -> str:
        """`<base>/<version>/data/<endpoint>/<dataset>[/<tail>...]`."""
        parts = [self.base_url, self.api_version, "data", endpoint, self.dataset, *tail]
        return "/".join(parts)
