"""`stocksync serve --demo`: a small catalogue on first run, development keys, examples.

The catalogue holds the fixtures of the storefront stocksync replaces (railcam: 5,
halloween-tee: sizes s 3 and m 2, railways-and-sleepers: sold out) and two more. Products
are created empty, as an editor would in Studio, and their stock is then set through the
engine's `adjust` (reason `initial`), so the ledger explains it like any other change.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cms_client import mutations as m
from cms_client.errors import DocumentExists
from cms_client.store import DocumentStore
from service.engine import Inventory
from service.entrypoints.cli.demo_secrets import DemoSecrets

DEMO_ACTOR = "demo"


@dataclass(frozen=True)
class DemoProduct:
    slug: str
    title: str
    #: The product's SKU; each size's is this plus the size (e.g. TEE-HALLOWEEN-M).
    sku: str
    stock: int = 0
    #: size -> stock, for sized products (sizes lower-case, as the shop's Studio stores them).
    sizes: Mapping[str, int] | None = None
    low_stock_threshold: int | None = None

    @property
    def id(self) -> str:
        return f"product-{self.slug}"

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "_id": self.id,
            "_type": "product",
            "title": self.title,
            "slug": {"_type": "slug", "current": self.slug},
            "sku": self.sku,
            "stockQuantity": 0,
            "reservedQuantity": 0,
        }
        if self.low_stock_threshold is not None:
            doc["lowStockThreshold"] = self.low_stock_threshold
        if self.sizes is not None:
            doc["variants"] = [
                {
                    "_key": f"size-{size}",
                    "size": size,
                    "sku": f"{self.sku}-{size.upper()}",
                    "stockQuantity": 0,
                    "reservedQuantity": 0,
                }
                for size in self.sizes
            ]
        return doc

    def describe(self) -> str:
        if self.sizes is not None:
            return f"{self.slug} (" + ", ".join(f"{s} {n}" for s, n in self.sizes.items()) + ")"
        return f"{self.slug} ({self.stock})"


CATALOGUE: tuple[DemoProduct, ...] = (
    DemoProduct("railcam", "Railcam", "CAM-RAIL", stock=5),
    DemoProduct("halloween-tee", "Halloween Tee", "TEE-HALLOWEEN", sizes={"s": 3, "m": 2}),
    DemoProduct("railways-and-sleepers", "Railways and Sleepers", "BOOK-RAILWAYS", stock=0),
    DemoProduct("station-hoodie", "Station Hoodie", "HOOD-STATION", sizes={"s": 8, "m": 0, "l": 4}),
    DemoProduct(
        "timetable-zine", "Timetable Zine", "ZINE-TIMETABLE", stock=40, low_stock_threshold=10
    ),
)

_ANY_PRODUCT = 'count(*[_type == "product"])'


async def seed_catalogue(store: DocumentStore, inventory: Inventory) -> bool:
    """Create the demo catalogue in an empty dataset; False (and nothing written) when the
    dataset already has products, so a shop's own data is never touched."""
    existing: Any = await store.query(_ANY_PRODUCT)
    if isinstance(existing, int) and existing > 0:
        return False
    try:
        await store.mutate([m.create(product.document()) for product in CATALOGUE])
    except DocumentExists:
        # Another process seeded it at the same moment.
        return False
    for product in CATALOGUE:
        if product.sizes is None:
            if product.stock:
                await inventory.adjust(
                    product.id, set_to=product.stock, reason="initial", actor=DEMO_ACTOR
                )
            continue
        for size, stock in product.sizes.items():
            if stock:
                await inventory.adjust(
                    product.id, size=size, set_to=stock, reason="initial", actor=DEMO_ACTOR
                )
    return True


@dataclass(frozen=True)
class DemoKeys:
    """Secrets of a demo run: the environment's where set, else the demo's stored ones."""

    storefront: str
    cron: str
    admin: str
    manager: str
    support: str
    stripe_webhook: str
    console_session: str
    #: The variables whose values come from the demo's secrets file (not the environment).
    generated: frozenset[str]

    @property
    def admin_api_keys(self) -> str:
        return (
            f"demo-admin:admin:{self.admin},"
            f"demo-manager:inventory_manager:{self.manager},"
            f"demo-support:customer_service:{self.support}"
        )


def demo_keys(
    stored: DemoSecrets,
    *,
    storefront: str | None,
    cron: str | None,
    stripe_webhook: str | None,
    console_session: str | None,
    staff_configured: bool,
) -> DemoKeys:
    """The environment's secrets where set, the stored ones otherwise. Staff keys come from
    the file only when ADMIN_API_KEYS is unset (entries demo-admin, demo-manager, demo-support)."""
    generated: set[str] = set()
    for name, value in (
        ("STOREFRONT_API_KEY", storefront),
        ("CRON_SECRET", cron),
        ("STRIPE_WEBHOOK_SECRET", stripe_webhook),
        ("CONSOLE_SESSION_SECRET", console_session),
    ):
        if not value:
            generated.add(name)
    if not staff_configured:
        generated.add("ADMIN_API_KEYS")
    return DemoKeys(
        storefront=storefront or stored.storefront,
        cron=cron or stored.cron,
        admin=stored.admin,
        manager=stored.manager,
        support=stored.support,
        stripe_webhook=stripe_webhook or stored.stripe_webhook,
        console_session=console_session or stored.console_session,
        generated=frozenset(generated),
    )


def banner(
    keys: DemoKeys,
    *,
    base_url: str,
    store_description: str,
    seeded: bool,
    secrets_file: str,
) -> str:
    """What `serve --demo` prints: where it runs, the keys, the console, commands to try."""
    sf = keys.storefront if "STOREFRONT_API_KEY" in keys.generated else "$STOREFRONT_API_KEY"
    cron = keys.cron if "CRON_SECRET" in keys.generated else "$CRON_SECRET"
    staff_generated = "ADMIN_API_KEYS" in keys.generated
    admin = keys.admin if staff_generated else "<a key from ADMIN_API_KEYS>"
    manager = keys.manager if staff_generated else "<a key from ADMIN_API_KEYS>"
    catalogue = ", ".join(product.describe() for product in CATALOGUE)
    lines = [
        f"stocksync demo on {base_url}  ({store_description})",
        (
            f"Seeded the demo catalogue: {catalogue}."
            if seeded
            else "The demo catalogue is as you left it (start with --reset to seed it afresh)."
        ),
        "",
        f"Development keys (kept in {secrets_file}, the same at every start; "
        "set the variables to choose your own):",
    ]
    for name, value in (
        ("STOREFRONT_API_KEY", keys.storefront),
        ("CRON_SECRET", keys.cron),
        ("ADMIN_API_KEYS", keys.admin_api_keys),
        ("STRIPE_WEBHOOK_SECRET", keys.stripe_webhook),
    ):
        lines.append(
            f"  {name}={value}" if name in keys.generated else f"  {name}: from the environment"
        )
    if staff_generated:
        lines += [
            f"  admin key: {keys.admin}",
            f"  inventory_manager key: {keys.manager}",
            f"  customer_service key: {keys.support}",
        ]
    # A new session id at every start, so the curls below work after a restart too (a
    # session released once cannot be released again).
    session = f"cs_demo_{secrets.token_hex(4)}"
    reserve = (
        f'{{"sessionId":"{session}","operations":[{{"productId":"halloween-tee","quantity":1,'
        '"size":"M"},{"productId":"railcam","quantity":2}]}'
    )
    lines += [
        "",
        f"Staff console: {base_url}/console  (sign in with the inventory_manager key: {manager})",
        f"API docs: {base_url}/docs",
        "",
        "Try (a hold, then give it back):",
        f"  curl -s '{base_url}/api/stock-status?productIds=railcam,halloween-tee,"
        "railways-and-sleepers'",
        f"  curl -s -X POST {base_url}/api/reserve-stock -H 'Authorization: Bearer {sf}' "
        f"-H 'Content-Type: application/json' -d '{reserve}'",
        f"  curl -s -X POST {base_url}/api/release-stock -H 'Authorization: Bearer {sf}' "
        f"-H 'Content-Type: application/json' -d '{{\"sessionId\":\"{session}\"}}'",
        f"  curl -s {base_url}/api/inventory/history/railcam -H 'X-API-Key: {admin}'",
        f"  curl -s {base_url}/api/cron/cleanup -H 'Authorization: Bearer {cron}'",
        "",
        "A whole checkout, paid through a signed Stripe event (from this folder, another shell):",
        f"  python3 uvw.py run --locked --no-dev stocksync demo checkout --url {base_url} "
        "--product halloween-tee --size M --quantity 1 --refund",
        "",
    ]
    return "\n".join(lines)
