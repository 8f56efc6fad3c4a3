"""The console's secret and session lifetime, resolved once per app from the settings.

Sessions are signed with `CONSOLE_SESSION_SECRET`. Without it a development process makes
up a secret of its own (with a warning): sign-ins then end when the process does. On Vercel
or in production every instance would make up a different one, so there the console stays
closed until the variable is set.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta

from starlette.requests import Request

from service.config import ServiceSettings
from service.entrypoints.console.signing import Signer

logger = logging.getLogger("stocksync.console")

SECRET_VARIABLE = "CONSOLE_SESSION_SECRET"
MIN_SECRET_LENGTH = 16

_process_secret: bytes | None = None


@dataclass(frozen=True)
class ConsoleConfig:
    signer: Signer | None
    lifetime: timedelta
    #: Why the console is closed (None: open), for the page that says so.
    closed_because: str | None = None


def _development_secret() -> bytes:
    global _process_secret
    if _process_secret is None:
        _process_secret = secrets.token_bytes(32)
        logger.warning(
            "%s is not set: console sessions are signed with a secret made up by this "
            "process and end when it stops",
            SECRET_VARIABLE,
        )
    return _process_secret


def resolve(settings: ServiceSettings) -> ConsoleConfig:
    lifetime = timedelta(hours=settings.console_session_hours)
    configured = settings.console_session_secret
    if configured is not None:
        secret = configured.get_secret_value().strip()
        if len(secret) < MIN_SECRET_LENGTH:
            logger.error("%s is shorter than %d characters", SECRET_VARIABLE, MIN_SECRET_LENGTH)
            return ConsoleConfig(
                None,
                lifetime,
                f"{SECRET_VARIABLE} is too short (at least {MIN_SECRET_LENGTH} characters).",
            )
        return ConsoleConfig(Signer(secret.encode()), lifetime)
    if os.environ.get("VERCEL") or settings.environment == "production":
        return ConsoleConfig(
            None,
            lifetime,
            f"The console is closed until {SECRET_VARIABLE} is set: every instance would "
            "otherwise sign sessions with a secret of its own.",
        )
    return ConsoleConfig(Signer(_development_secret()), lifetime)


def console_config(request: Request, settings: ServiceSettings) -> ConsoleConfig:
    """The app's console config, resolved on first use."""
    config: ConsoleConfig | None = getattr(request.app.state, "console_config", None)
    if config is None:
        config = resolve(settings)
        request.app.state.console_config = config
    return config
