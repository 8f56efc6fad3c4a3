"""The demo's development secrets, kept in its data folder so they survive restarts.

`stocksync serve --demo` makes them on its first start (`demo-secrets.json` beside the lake
file, readable by its owner only) and reads them on every later one, so curls copied from
the banner, console sign-ins and `stocksync demo checkout` keep working. A variable set in
the environment still wins over the file. Deleting the file (or the data folder) makes new
ones. They are development secrets: the demo runs on the embedded lake only.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, fields
from pathlib import Path

FILE_NAME = "demo-secrets.json"


@dataclass(frozen=True)
class DemoSecrets:
    storefront: str
    cron: str
    admin: str
    manager: str
    support: str
    #: Signs the Stripe events `stocksync demo checkout` sends (as STRIPE_WEBHOOK_SECRET).
    stripe_webhook: str
    #: Signs console sessions (as CONSOLE_SESSION_SECRET), so sign-ins outlive a restart.
    console_session: str

    @property
    def admin_api_keys(self) -> str:
        return (
            f"demo-admin:admin:{self.admin},"
            f"demo-manager:inventory_manager:{self.manager},"
            f"demo-support:customer_service:{self.support}"
        )


def _token(prefix: str) -> str:
    return f"{prefix}-{secrets.token_urlsafe(18)}"


def _fresh() -> dict[str, str]:
    return {
        "storefront": _token("dev-storefront"),
        "cron": _token("dev-cron"),
        "admin": _token("dev-admin"),
        "manager": _token("dev-manager"),
        "support": _token("dev-support"),
        # Stripe's signing secrets look like this; the demo's is never Stripe's.
        "stripe_webhook": f"whsec_dev{secrets.token_hex(16)}",
        "console_session": secrets.token_urlsafe(32),
    }


def secrets_path(data_file: str | os.PathLike[str]) -> Path:
    """Where the demo whose lake is `data_file` keeps its secrets."""
    return Path(data_file).parent / FILE_NAME


def read_secrets(path: Path) -> DemoSecrets | None:
    """The secrets in `path`, or None when there is no usable file there."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    names = [f.name for f in fields(DemoSecrets)]
    if not isinstance(stored, dict) or not all(isinstance(stored.get(n), str) for n in names):
        return None
    return DemoSecrets(**{n: stored[n] for n in names})


def load_or_create_secrets(path: Path) -> tuple[DemoSecrets, bool]:
    """The secrets in `path`; made and written there first when missing or unreadable.
    Returns them and whether they were made now."""
    found = read_secrets(path)
    if found is not None:
        return found, False
    made = DemoSecrets(**_fresh())
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    # Owner-only from the first byte; written whole, then renamed into place.
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(asdict(made), out, indent=2)
        out.write("\n")
    os.replace(partial, path)
    return made, True
