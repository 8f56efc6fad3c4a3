"""Products: the filtered list, a product's page (lines, chart, ledger) and its adjust form.

An adjustment goes through `Inventory.adjust`, with the signed-in staff member's name as
the ledger's actor; a refusal is shown next to the form with the engine's own message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from schemas.operations import LocationFigures, ProductStatus
from service.engine import (
    InventoryError,
    LocationNotFound,
    ProductNotFound,
    RetryLater,
    VariantNotFound,
)
from service.entrypoints.auth import MANAGERS
from service.entrypoints.console.access import Visit, form_visit, visit
from service.entrypoints.console.catalogue import STATE_FILTERS, list_products
from service.entrypoints.console.chart import CHART_QUERY, current_lines, render_svg, series
from service.entrypoints.console.forms import (
    ADJUST_REASONS,
    LEDGER_TYPES,
    AdjustForm,
    choice,
    day,
    new_form_key,
    page_number,
    read_adjust,
)
from service.entrypoints.console.rendering import ConsoleError, ConsoleRoute, redirect
from service.read_models.history import product_history

router = APIRouter(route_class=ConsoleRoute)

HISTORY_PAGE = 25


def query_string(**params: str | int | None) -> str:
    kept = {name: value for name, value in params.items() if value not in (None, "")}
    return "?" + urlencode(kept) if kept else ""


def product_url(ref: str) -> str:
    return "/console/products/" + quote(ref, safe="")


@router.get("/products")
async def products(request: Request) -> Response:
    current = await visit(request)
    query = request.query_params
    state = choice(query.get("state"), STATE_FILTERS)
    search = (query.get("q") or "").strip()[:100]
    listing = await list_products(
        current.services.store,
        default_threshold=current.services.settings.low_stock_threshold,
        state=state,
        search=search or None,
        page=page_number(query.get("page")),
    )

    def page_link(number: int) -> str:
        return "/console/products" + query_string(state=state, q=search, page=number)

    return current.page(
        "products.html",
        {
            "listing": listing,
            "state": state,
            "search": search,
            "states": STATE_FILTERS,
            "page_link": page_link,
            "product_url": product_url,
        },
        section="products",
    )


def line_options(status: ProductStatus) -> list[tuple[str, str]]:
    """The adjust form's choice of line: none for a product without variants."""
    if status.variants is None:
        return []
    options = []
    for variant in status.variants:
        value = f"key:{variant.variant_key}" if variant.variant_key else f"size:{variant.size}"
        label = variant.size or variant.variant_key or "?"
        options.append((value, f"{label} (stock {variant.total})"))
    return options


def located_lines(status: ProductStatus) -> list[tuple[str, list[LocationFigures]]]:
    """(line, per-location figures) for a product stocked by location."""
    if status.variants is None:
        return [("—", status.locations)] if status.locations else []
    return [(v.size or v.variant_key or "?", v.locations) for v in status.variants if v.locations]


def place_options(status: ProductStatus) -> list[tuple[str, str]]:
    """The locations a form may name (slug, label), in priority order."""
    seen: dict[str, str] = {}
    for _, figures in located_lines(status):
        for f in figures:
            suffix = "" if f.active else " (inactive)"
            seen.setdefault(f.location, f"{f.name or f.location}{suffix}")
    return list(seen.items())


async def product_page(
    current: Visit,
    ref: str,
    *,
    form: AdjustForm | None = None,
    problem: str | None = None,
    transfer_problem: str | None = None,
    status_code: int = 200,
) -> Response:
    services = current.services
    found = await services.inventory.status([ref])
    if not found.products and found.quarantined:
        odd = found.quarantined[0]
        raise ConsoleError(
            409,
            "Product quarantined",
            f"{odd.title} ({odd.product_id}): {odd.field} {odd.reason}. Fix the field in the "
            "Studio; until then stocksync neither shows nor changes this product's stock.",
        )
    if not found.products:
        raise ConsoleError(404, "No such product", f"There is no product {ref!r}.")
    status = found.products[0]
    # A refused form is shown with the ledger unfiltered (a post has no filters).
    query: Mapping[str, str] = current.request.query_params if form is None else {}
    entry_type = choice(query.get("type"), LEDGER_TYPES)
    since, until = day(query.get("from")), day(query.get("to"), end=True)
    cursor = query.get("cursor") or None
    history = await product_history(
        services.store,
        services.inventory,
        status.id,
        entry_type=entry_type,
        since=since,
        until=until,
        limit=HISTORY_PAGE,
        cursor=cursor,
    )
    recent: Any = await services.store.query(CHART_QUERY, {"productId": status.id})
    points = series(
        [row for row in recent if isinstance(row, dict)] if isinstance(recent, list) else [],
        current_lines(status),
        now=services.clock(),
    )
    url = product_url(ref)
    filters = {
        "type": entry_type,
        "from": query.get("from") if since else None,
        "to": query.get("to") if until else None,
    }
    older = (
        url + query_string(**filters, cursor=history.pagination.next_cursor)
        if history.pagination.next_cursor
        else None
    )
    return current.page(
        "product.html",
        {
            "product": status,
            "ref": ref,
            "url": url,
            "history": history,
            "chart": render_svg(
                points, title=status.title or status.id, threshold=status.low_stock_threshold
            ),
            "filters": filters,
            "entry_types": LEDGER_TYPES,
            "newest": url + query_string(**filters) if cursor else None,
            "older": older,
            "lines": line_options(status),
            "reasons": ADJUST_REASONS,
            "form": form or AdjustForm(),
            # A refused form keeps its key: sent again, it still applies at most once.
            "once": form.once if form is not None and form.once else new_form_key(),
            "problem": problem,
            "located": located_lines(status),
            "place_options": place_options(status),
            "transfer_problem": transfer_problem,
        },
        section="products",
        status=status_code,
    )


@router.get("/products/{ref}")
async def product(request: Request, ref: str) -> Response:
    return await product_page(await visit(request), ref)


def _refusal_status(error: InventoryError) -> int:
    if isinstance(error, ProductNotFound | VariantNotFound | LocationNotFound):
        return 404
    if isinstance(error, RetryLater):
        return 503
    return 409


@router.post("/products/{ref}/adjust")
async def adjust(request: Request, ref: str) -> Response:
    current = await form_visit(request, allowed=MANAGERS)
    given = read_adjust(current.form)
    if given.problem is not None:
        return await product_page(
            current, ref, form=given.form, problem=given.problem, status_code=400
        )
    form = given.form
    try:
        result = await current.services.inventory.adjust(
            ref,
            reason=given.reason,
            set_to=given.units if form.mode == "set" else None,
            delta=given.units if form.mode == "delta" else None,
            variant_key=form.variant_key,
            size=form.size,
            actor=current.session.name,
            note=form.note or None,
            idempotency_keys=[f"console-adjust:{current.session.name}:{form.once}"]
            if form.once
            else [],
            allow_below_reserved=form.below_reserved,
            location=form.location or None,
        )
    except InventoryError as error:
        return await product_page(
            current,
            ref,
            form=form,
            problem=f"Refused: {error.message}.",
            status_code=_refusal_status(error),
        )
    line = f" ({result.size or result.variant_key})" if result.variant_key or result.size else ""
    if result.location:
        line += f" at {result.location}"
    if result.replayed:
        text = (
            f"This form was applied before (stock{line} {result.previous_stock} → "
            f"{result.new_stock}); it was not applied again."
        )
        return current.flash_next(redirect(product_url(ref)), "ok", text)
    text = (
        f"Stock{line} {result.previous_stock} → {result.new_stock} ({result.reason}); "
        f"available {result.available}."
        if result.ledger_id
        else f"Stock{line} unchanged at {result.new_stock}; nothing was recorded."
    )
    return current.flash_next(redirect(product_url(ref)), "ok", text)


@router.post("/products/{ref}/transfer")
async def transfer(request: Request, ref: str) -> Response:
    current = await form_visit(request, allowed=MANAGERS)
    fields = current.form
    line = fields.get("line", "")
    try:
        quantity = int(fields.get("quantity", "").strip())
    except ValueError:
        quantity = 0
    if not 1 <= quantity <= 1_000_000:
        return await product_page(
            current, ref, transfer_problem="Enter the units to move (1 or more).", status_code=400
        )
    try:
        result = await current.services.inventory.transfer(
            ref,
            source=fields.get("from", "").strip()[:200],
            target=fields.get("to", "").strip()[:200],
            quantity=quantity,
            variant_key=line[4:] if line.startswith("key:") else None,
            size=line[5:] if line.startswith("size:") else None,
            actor=current.session.name,
            note=(fields.get("note") or "").strip()[:500] or None,
        )
    except InventoryError as error:
        return await product_page(
            current,
            ref,
            transfer_problem=f"Refused: {error.message}.",
            status_code=_refusal_status(error),
        )
    text = (
        f"Moved {result.quantity} from {result.from_location} (now {result.from_stock}) "
        f"to {result.to_location} (now {result.to_stock})."
    )
    return current.flash_next(redirect(product_url(ref)), "ok", text)
