"""Stock status for many products in one store read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cms_client.store import Document, DocumentStore
from schemas.operations import ProductStatus, QuarantinedStatus, StatusResult
from service.engine.errors import InvalidRequest, LocationNotFound, ProductQuarantined
from service.engine.model.locations import Site, location_refs, sites_from
from service.engine.model.stock import ProductStock
from service.engine.operations.context import EngineContext
from service.engine.planners.status import product_status
from service.engine.queries import ALL_LOCATIONS, PRODUCTS_FOR_STATUS
from service.engine.settings import EngineSettings
from service.engine.unit_of_work.resolver import ProductResolver, names_product


async def status(
    ctx: EngineContext, product_ids: Sequence[str], location: str | None = None
) -> StatusResult:
    """See `Inventory.status`."""
    settings = ctx.settings
    names = list(dict.fromkeys(product_ids))
    if not names:
        raise InvalidRequest("name at least one product", field="productIds")
    if len(names) > settings.status_max_products:
        raise InvalidRequest(
            f"at most {settings.status_max_products} products per request",
            field="productIds",
        )
    return await read_status(
        ctx.store,
        ctx.resolver,
        names,
        now=ctx.executor.clock(),
        settings=settings,
        location=location,
    )


async def read_status(
    store: DocumentStore,
    resolver: ProductResolver,
    names: Sequence[str],
    *,
    now: datetime,
    settings: EngineSettings,
    location: str | None = None,
) -> StatusResult:
    """Figures for `names` (`_id`s or slugs).

    When every name is cached the products are read through the doc endpoint (fresh);
    otherwise one query reads them all and fills the cache. Status is for display: a
    reserve re-checks availability on its own fresh read.
    """
    found: dict[str, Document] = {}
    cached = {name: resolver.cached(name) for name in names}
    if all(cached.values()):
        ids = list(dict.fromkeys(pid for pid in cached.values() if pid))
        docs = await store.get_documents(ids)
        by_id = {doc["_id"]: doc for doc in docs if doc is not None}
        for name, pid in cached.items():
            doc = by_id.get(pid or "")
            if names_product(name, doc) and doc is not None:
                found[name] = doc
    missing = [name for name in names if name not in found]
    if missing:
        resolver.forget(missing)
        rows: Any = await store.query(PRODUCTS_FOR_STATUS, {"refs": sorted(missing)})
        docs_by_name = _index(rows if isinstance(rows, list) else [])
        for name in missing:
            doc = docs_by_name.get(name)
            if doc is not None:
                found[name] = doc
                resolver.remember(name, doc["_id"])
    sites: dict[str, Site] = {}
    if location is not None or any(location_refs(doc) for doc in found.values()):
        rows = await store.query(ALL_LOCATIONS, {})
        sites = sites_from(r for r in rows if isinstance(r, dict)) if isinstance(rows, list) else {}
    place = None
    if location is not None:
        place = next(
            (s.id for s in sorted(sites.values(), key=lambda s: s.id) if s.slug == location),
            None,
        )
        if place is None:
            raise LocationNotFound(location)
    products: list[ProductStatus] = []
    not_found: list[str] = []
    quarantined: list[QuarantinedStatus] = []
    for name in names:
        doc = found.get(name)
        if doc is None:
            not_found.append(name)
            continue
        try:
            stock = ProductStock(doc, sites=sites)
        except ProductQuarantined as exc:
            # Design rule 10: one odd product is listed with its reason, the rest answer.
            odd = exc.quarantine
            quarantined.append(
                QuarantinedStatus(
                    product_id=name,
                    id=odd.product_id,
                    title=odd.title,
                    field=odd.field,
                    reason=odd.reason,
                )
            )
            continue
        products.append(
            product_status(
                stock, name, settings.low_stock_threshold, today=now.date(), location=place
            )
        )
    return StatusResult(
        products=products,
        not_found=not_found,
        quarantined=quarantined,
        checked_at=now,
    )


def _index(rows: list[Any]) -> dict[str, Document]:
    """name -> product: by `_id`, and by slug (smallest `_id` wins a shared slug)."""
    out: dict[str, Document] = {}
    for row in sorted((r for r in rows if isinstance(r, dict)), key=lambda r: str(r.get("_id"))):
        out[row["_id"]] = row
    for row in sorted((r for r in rows if isinstance(r, dict)), key=lambda r: str(r.get("_id"))):
        slug = row.get("slug")
        current = slug.get("current") if isinstance(slug, dict) else None
        if isinstance(current, str) and current not in out:
            out[current] = row
    return out
