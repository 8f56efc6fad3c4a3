"""The service's configuration: every environment variable stocksync reads, in one model.

`ServiceSettings` is the single place env names live; the README's Configuration table
lists the same names (a test keeps the two in step). It maps onto the engine's
`EngineSettings` and, when `SANITY_PROJECT_ID` is set, onto `SanitySettings`; without a
project id the service runs on the embedded lake in `STOCKSYNC_DATA`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cms_client.sanity_settings import SanitySettings
from service.engine import EngineSettings

# -- keys: who may call what (the checks live in service.entrypoints.auth) ----------------


class Role(StrEnum):
    ADMIN = "admin"
    INVENTORY_MANAGER = "inventory_manager"
    CUSTOMER_SERVICE = "customer_service"


@dataclass(frozen=True)
class StaffKey:
    name: str
    role: Role
    key: str


def parse_key_list(raw: str | None) -> list[str]:
    """`STOREFRONT_API_KEY` may hold several comma-separated keys, so keys can be rotated."""
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def parse_staff_keys(raw: str | None) -> list[StaffKey]:
    """Parse `ADMIN_API_KEYS`: comma-separated `name:role:key` entries."""
    keys: list[StaffKey] = []
    # Problems name entries by position: a malformed entry may be a bare key.
    for position, entry in enumerate(parse_key_list(raw), start=1):
        parts = entry.split(":", 2)
        if len(parts) != 3 or not all(p.strip() for p in parts):
            raise ValueError(f"ADMIN_API_KEYS entry {position} must be name:role:key")
        name, role, key = (p.strip() for p in parts)
        try:
            keys.append(StaffKey(name=name, role=Role(role), key=key))
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise ValueError(
                f"ADMIN_API_KEYS entry {position} ({name}) has an unknown role; roles are {allowed}"
            ) from None
    return keys


DEFAULT_LAKE_FILE = "data/lake.sqlite3"

#: Hard ceilings of the request schemas; the configurable limits may not exceed them.
QUANTITY_CEILING = 10_000
LINES_CEILING = 1_000
TTL_CEILING_MINUTES = 24 * 60
STRIPE_API_BASE = "https://api.stripe.com"


def _env(name: str, default: Any, description: str, **constraints: Any) -> Any:
    """A knob read from the environment variable `name` (the Python name stays short)."""
    return Field(
        default,
        validation_alias=AliasChoices(name),
        description=description,
        **constraints,
    )


class ServiceSettings(BaseSettings):
    """Environment of a stocksync process (also read from a `.env` file in the cwd)."""

    model_config = SettingsConfigDict(
        env_file=".env",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
        case_sensitive=False,
    )

    # -- where the documents live ----------------------------------------------------------
    sanity_project_id: str | None = Field(
        None, description="Sanity project; unset means the embedded lake in STOCKSYNC_DATA."
    )
    sanity_dataset: str = Field("production", description="Sanity dataset.")
    sanity_api_token: SecretStr | None = Field(
        None, description="Sanity token with write access (Editor) to the dataset."
    )
    sanity_api_version: str | None = Field(
        None, description="Sanity API version, e.g. v2025-02-19 (the client's default if unset)."
    )
    sanity_api_host: str | None = Field(
        None,
        description="Base URL override, e.g. http://127.0.0.1:7070 for `stocksync lake serve`.",
    )
    data_file: str = _env(
        "STOCKSYNC_DATA", DEFAULT_LAKE_FILE, "SQLite file of the embedded lake (no Sanity project)."
    )

    # -- secrets (a route whose secret is unset answers 503) -------------------------------
    storefront_api_key: SecretStr | None = Field(
        None,
        description="Storefront key(s), comma-separated for rotation: reserve, release, "
        "POST stock-status.",
    )
    cron_secret: SecretStr | None = Field(
        None, description="Bearer secret of the cron routes and POST /api/inventory-health."
    )
    admin_api_keys: SecretStr | None = Field(
        None,
        description="Staff keys, comma-separated `name:role:key` (roles admin, "
        "inventory_manager, customer_service).",
    )
    stripe_webhook_secret: SecretStr | None = Field(
        None, description="Signing secret (whsec_...) of the Stripe webhook endpoint."
    )
    stripe_secret_key: SecretStr | None = Field(
        None, description="Stripe API key, for looking up checkout sessions."
    )
    stripe_mode: Literal["live", "test", "any"] | None = Field(
        None,
        description="Which Stripe events to act on when STRIPE_SECRET_KEY is unset (with a "
        "key: the key's mode); unset: live in production, any elsewhere.",
    )
    stripe_api_base: str = Field(
        STRIPE_API_BASE,
        description="Base URL of Stripe's API; point it at a local fake Stripe for testing.",
    )
    sanity_webhook_secret: SecretStr | None = Field(
        None, description="Secret of the Sanity GROQ-powered webhook."
    )

    # -- staff console and low-stock alerts ------------------------------------------------
    low_stock_webhook_url: SecretStr | None = Field(
        None,
        description="Where low-stock alerts are POSTed (a Slack incoming webhook or any JSON "
        "receiver); unset: no alerts.",
    )
    console_session_secret: SecretStr | None = Field(
        None,
        description="Signs /console sessions (16+ characters); unset: a per-process secret in "
        "development, console closed in production.",
    )
    console_session_hours: int = _env(
        "STOCKSYNC_CONSOLE_SESSION_HOURS",
        8,
        "How long a /console sign-in lasts.",
        ge=1,
        le=24 * 30,
    )

    # -- reservations and limits -----------------------------------------------------------
    reservation_ttl_minutes: int = _env(
        "STOCKSYNC_RESERVATION_TTL_MINUTES",
        30,
        "Hold time when reserve-stock names no expirationMinutes.",
        ge=1,
        le=TTL_CEILING_MINUTES,
    )
    reservation_max_ttl_minutes: int = _env(
        "STOCKSYNC_RESERVATION_MAX_TTL_MINUTES",
        60,
        "Longest hold a storefront may ask for (longer asks are cut to this).",
        ge=1,
        le=TTL_CEILING_MINUTES,
    )
    reservation_grace_minutes: int = _env(
        "STOCKSYNC_RESERVATION_GRACE_MINUTES",
        2,
        "How long past expiresAt a hold still waits for a late payment.",
        ge=0,
        le=TTL_CEILING_MINUTES,
    )
    delayed_payment_hold_days: int = _env(
        "STOCKSYNC_DELAYED_PAYMENT_HOLD_DAYS",
        20,
        "How long a hold is kept while a delayed payment (SEPA, BACS, ACH) settles.",
        ge=1,
        le=90,
    )
    held_refund_days: int = _env(
        "STOCKSYNC_HELD_REFUND_DAYS",
        3,
        "How long a refund waits for a payment stocksync never recorded before it is "
        "resolved as no_matching_payment.",
        ge=1,
        le=90,
    )
    max_quantity_per_line: int = _env(
        "STOCKSYNC_MAX_QUANTITY_PER_LINE",
        50,
        "Most units of one product or size per reservation.",
        ge=1,
        le=QUANTITY_CEILING,
    )
    max_lines: int = _env(
        "STOCKSYNC_MAX_LINES", 100, "Most lines per request.", ge=1, le=LINES_CEILING
    )
    low_stock_threshold: int = _env(
        "STOCKSYNC_LOW_STOCK_THRESHOLD",
        5,
        "Available units at or below which a product is low_stock (per-product override: "
        "lowStockThreshold).",
        ge=0,
    )
    max_body_bytes: int = _env(
        "STOCKSYNC_MAX_BODY_BYTES", 65_536, "Largest request body accepted.", ge=1024
    )
    rate_limit_storefront_per_second: float = _env(
        "STOCKSYNC_RATE_LIMIT_STOREFRONT_PER_SECOND",
        # One key carries every shopper of a storefront: the default admits a flash sale's
        # burst and catches a loop (README "Rate limits").
        100.0,
        "Requests per second one storefront key may make to the storefront routes (reserve, "
        "release, POST stock-status, fulfill), counted per instance; 0: no limit.",
        ge=0,
    )
    rate_limit_storefront_burst: int = _env(
        "STOCKSYNC_RATE_LIMIT_STOREFRONT_BURST",
        400,
        "Requests a storefront key may make at once before the per-second rate applies.",
        ge=1,
    )
    rate_limit_public_per_minute: int = _env(
        "STOCKSYNC_RATE_LIMIT_PUBLIC_PER_MINUTE",
        120,
        "Requests per minute one address may make to GET /api/stock-status and "
        "GET /api/stock-stream, counted per instance (also its burst); 0: no limit.",
        ge=0,
    )
    import_max_bytes: int = _env(
        "STOCKSYNC_IMPORT_MAX_BYTES",
        5_000_000,
        "Largest stock import file (POST /api/inventory/import and the console's upload).",
        ge=1024,
    )
    status_cache_seconds: int = _env(
        "STOCKSYNC_STATUS_CACHE_SECONDS",
        5,
        "max-age of GET /api/stock-status answers (0: no caching).",
        ge=0,
        le=300,
    )
    idempotency_retention_days: int = _env(
        "STOCKSYNC_IDEMPOTENCY_RETENTION_DAYS",
        7,
        "How long idempotency records are kept (Stripe retries for 3 days).",
        ge=1,
    )
    error_log_retention_days: int = _env(
        "STOCKSYNC_ERROR_LOG_RETENTION_DAYS",
        30,
        "Resolved error logs older than this are purged by cleanup.",
        ge=1,
    )
    coalesce: bool = _env(
        "STOCKSYNC_COALESCE",
        True,
        "Group commit: concurrent reserves of the same products share one transaction.",
    )
    warm_cache: bool = _env(
        "STOCKSYNC_WARM_CACHE",
        True,
        "Write without reading first when this process wrote the product last.",
    )
    environment: str = Field(
        "development",
        validation_alias=AliasChoices("STOCKSYNC_ENVIRONMENT", "VERCEL_ENV"),
        description="Shown by /api/inventory-health (Vercel sets VERCEL_ENV).",
    )
    log_format: Literal["json", "text"] = _env(
        "STOCKSYNC_LOG_FORMAT",
        "json",
        "Logs as one JSON object per line (json) or as plain text lines (text).",
    )

    @field_validator(
        "sanity_project_id",
        "sanity_api_version",
        "sanity_api_host",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("stripe_api_base", mode="before")
    @classmethod
    def _api_base(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return STRIPE_API_BASE
        if isinstance(value, str):
            value = value.strip().rstrip("/")
            if not value.startswith(("https://", "http://")):
                raise ValueError("STRIPE_API_BASE must be an http(s) URL")
        return value

    @field_validator(
        "sanity_api_token",
        "storefront_api_key",
        "cron_secret",
        "admin_api_keys",
        "stripe_webhook_secret",
        "stripe_secret_key",
        "sanity_webhook_secret",
        "low_stock_webhook_url",
        "console_session_secret",
    )
    @classmethod
    def _blank_secret_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        # `CRON_SECRET=` in a .env file must keep the route closed, not accept "".
        return value if value is not None and value.get_secret_value().strip() else None

    @model_validator(mode="after")
    def _ttl_order(self) -> ServiceSettings:
        if self.reservation_ttl_minutes > self.reservation_max_ttl_minutes:
            raise ValueError(
                "STOCKSYNC_RESERVATION_TTL_MINUTES must not exceed "
                "STOCKSYNC_RESERVATION_MAX_TTL_MINUTES"
            )
        return self

    # -- derived ---------------------------------------------------------------------------

    @property
    def uses_sanity(self) -> bool:
        return self.sanity_project_id is not None

    def sanity_settings(self) -> SanitySettings:
        """Settings of the Sanity client; other `SANITY_*` knobs come from the environment."""
        if self.sanity_project_id is None:
            raise ValueError("SANITY_PROJECT_ID is not set")
        given: dict[str, Any] = {
            "project_id": self.sanity_project_id,
            "dataset": self.sanity_dataset,
            "api_token": self.sanity_api_token,
        }
        if self.sanity_api_version is not None:
            given["api_version"] = self.sanity_api_version
        if self.sanity_api_host is not None:
            given["api_host"] = self.sanity_api_host
        return SanitySettings(**given)

    def engine_settings(self) -> EngineSettings:
        return EngineSettings(
            default_ttl=timedelta(minutes=self.reservation_ttl_minutes),
            max_ttl=timedelta(minutes=self.reservation_max_ttl_minutes),
            min_ttl=timedelta(minutes=1),
            expire_grace=timedelta(minutes=self.reservation_grace_minutes),
            payment_hold=timedelta(days=self.delayed_payment_hold_days),
            refund_hold=timedelta(days=self.held_refund_days),
            max_quantity_per_line=self.max_quantity_per_line,
            max_lines=self.max_lines,
            low_stock_threshold=self.low_stock_threshold,
            idempotency_retention=timedelta(days=self.idempotency_retention_days),
            error_log_retention=timedelta(days=self.error_log_retention_days),
            coalesce=self.coalesce,
            warm_cache=self.warm_cache,
        )

    def stripe_livemode(self) -> bool | None:
        """The mode Stripe events must be in: the secret key's (`sk_live_`/`rk_live_` or
        test), else `STRIPE_MODE`, else live in production; None: either."""
        key = _reveal(self.stripe_secret_key)
        if key:
            return key.startswith(("sk_live_", "rk_live_"))
        mode = self.stripe_mode or ("live" if self.environment == "production" else "any")
        return None if mode == "any" else mode == "live"

    def storefront_keys(self) -> list[str]:
        return parse_key_list(_reveal(self.storefront_api_key))

    def staff_keys(self) -> StaffKeys:
        """The staff keys, or why `ADMIN_API_KEYS` cannot be used (routes then stay closed)."""
        try:
            return StaffKeys(parse_staff_keys(_reveal(self.admin_api_keys)), None)
        except ValueError as exc:
            return StaffKeys([], str(exc))

    def cron_secret_value(self) -> str | None:
        return _reveal(self.cron_secret)


@dataclass(frozen=True)
class StaffKeys:
    """Parsed `ADMIN_API_KEYS`; `problem` says why the variable was refused, if it was."""

    keys: list[StaffKey]
    problem: str | None


def _reveal(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None


def env_variables() -> list[str]:
    """Every environment variable `ServiceSettings` reads, by its documented name."""
    names: list[str] = []
    for name, field in ServiceSettings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.append(str(alias.choices[0]).upper())
        else:
            names.append(name.upper())
    return names


def load_settings(**overrides: Any) -> ServiceSettings:
    """Settings from the environment (and `.env`), with `overrides` by field name winning."""
    return ServiceSettings(**overrides)
