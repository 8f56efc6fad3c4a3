"""The console's bulk stock pages: the reorder list (with its purchase order), the stock
import (upload, preview, apply) and the sales analytics (chart and CSV).

They show what `GET /api/inventory/reorder`, `POST /api/inventory/import` and
`GET /api/inventory/analytics` answer, from the same read models and the same engine
import; every value is escaped by the templates (autoescape), the chart included.

The import's apply form carries a one-time key made when the preview was shown; it is the
import's Idempotency-Key, so a double click, a reload that re-posts or a second tab applies
the file once, and the same key with another file is refused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import get_args

from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from schemas.operations import AdjustReason
from schemas.stock_csv import CsvFormatError, parse_import
from service.engine import (
    IdempotencyKeyReused,
    ImportInProgress,
    ImportRejected,
    ImportResult,
)
from service.entrypoints.auth import MANAGERS
from service.entrypoints.console.access import Visit, form_visit, visit
from service.entrypoints.console.rendering import ConsoleRoute, redirect
from service.read_models.stock_reports import (
    MAX_DAYS,
    AnalyticsItem,
    AnalyticsReport,
    ReorderReport,
    analytics_csv,
    analytics_report,
    purchase_order_csv,
    reorder_report,
)

router = APIRouter(route_class=ConsoleRoute)

REASONS: tuple[AdjustReason, ...] = get_args(AdjustReason)
DEFAULT_DAYS = 30
#: Lines drawn in the analytics chart (best sellers first); the table lists them all.
CHART_LINES = 15
CHART_WIDTH, BAR_HEIGHT, BAR_GAP, LABEL_WIDTH = 640, 18, 6, 200
MAX_REFERENCE = 100
MAX_KEY = 64


def window(request: Request) -> int:
    """`?days=` as typed when it is a whole number in range, else 30."""
    raw = request.query_params.get("days", "")
    try:
        days = int(raw)
    except ValueError:
        return DEFAULT_DAYS
    return days if 1 <= days <= MAX_DAYS else DEFAULT_DAYS


def _csv(text: str, filename: str) -> Response:
    return Response(
        content=text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


# -- reorder -------------------------------------------------------------------------------


async def _reorder(current: Visit, days: int) -> ReorderReport:
    services = current.services
    return await reorder_report(
        services.store,
        now=services.clock(),
        days=days,
        default_threshold=services.settings.low_stock_threshold,
    )


@router.get("/reorder")
async def reorder_page(request: Request) -> Response:
    current = await visit(request)
    days = window(request)
    report = await _reorder(current, days)
    return current.page(
        "reorder.html",
        {"report": report, "days": days, "max_days": MAX_DAYS},
        section="reorder",
    )


@router.get("/reorder.csv")
async def reorder_csv(request: Request) -> Response:
    current = await visit(request)
    report = await _reorder(current, window(request))
    ref = f"PO-{report.generated_at:%Y%m%d-%H%M}"
    return _csv(purchase_order_csv(report.items, reference=ref), f"{ref}.csv")


# -- analytics -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    sold: int
    refunded: int
    y: int
    sold_width: float
    refunded_width: float


def chart_bars(items: list[AnalyticsItem]) -> tuple[list[Bar], int]:
    """Bars for the best sellers (units sold, and refunded beside them), scaled to the
    largest; and the chart's height. Pure numbers and labels: the template escapes them."""
    shown = [item for item in items if item.units_sold or item.units_refunded][:CHART_LINES]
    top = max([1, *(max(item.units_sold, item.units_refunded) for item in shown)])
    room = CHART_WIDTH - LABEL_WIDTH - 50
    bars = []
    for index, item in enumerate(shown):
        name = item.title or item.product_id
        label = f"{name} ({item.size})" if item.size else name
        bars.append(
            Bar(
                label=label if len(label) <= 32 else label[:31] + "…",
                sold=item.units_sold,
                refunded=item.units_refunded,
                y=index * (BAR_HEIGHT + BAR_GAP),
                sold_width=round(room * item.units_sold / top, 1),
                refunded_width=round(room * item.units_refunded / top, 1),
            )
        )
    return bars, max(1, len(bars)) * (BAR_HEIGHT + BAR_GAP)


async def _analytics(current: Visit, days: int) -> AnalyticsReport:
    services = current.services
    return await analytics_report(
        services.store,
        now=services.clock(),
        days=days,
        default_threshold=services.settings.low_stock_threshold,
    )


@router.get("/analytics")
async def analytics_page(request: Request) -> Response:
    current = await visit(request)
    days = window(request)
    report = await _analytics(current, days)
    bars, height = chart_bars(report.items)
    return current.page(
        "analytics.html",
        {
            "report": report,
            "days": days,
            "max_days": MAX_DAYS,
            "bars": bars,
            "chart": {
                "width": CHART_WIDTH,
                "height": height,
                "label_width": LABEL_WIDTH,
                "bar": BAR_HEIGHT,
            },
        },
        section="analytics",
    )


@router.get("/analytics.csv")
async def analytics_download(request: Request) -> Response:
    current = await visit(request)
    days = window(request)
    report = await _analytics(current, days)
    return _csv(analytics_csv(report.items), f"analytics-{days}d.csv")


# -- import --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportForm:
    """What the upload form asked for, kept between preview and apply."""

    csv: str = ""
    filename: str = ""
    reason: str = ""
    reference: str = ""
    key: str = ""


def _import_page(
    current: Visit,
    *,
    form: ImportForm | None = None,
    result: ImportResult | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    return current.page(
        "import.html",
        {
            "form": form or ImportForm(),
            "result": result,
            "problem": problem,
            "reasons": REASONS,
            "bad_rows": [row for row in result.rows if row.error] if result else [],
        },
        section="import",
        status=status,
    )


@router.get("/import")
async def import_page(request: Request) -> Response:
    current = await visit(request)
    return _import_page(current)


async def _read_upload(request: Request) -> tuple[str, str] | str:
    """The uploaded file's text and name, or what is wrong with it."""
    raw = (await request.form()).get("file")
    if not isinstance(raw, UploadFile) or not raw.filename:
        return "Choose a CSV file to upload."
    data = await raw.read()
    if not data.strip():
        return "The file is empty."
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "The file is not UTF-8 text (save it from the spreadsheet as CSV UTF-8)."
    return text, raw.filename


def _options(form: dict[str, str]) -> tuple[AdjustReason | None, str | None, str | None]:
    """The reason for rows without one, and the reference; or what is wrong (third)."""
    reason_raw = form.get("reason", "")
    reason = next((r for r in REASONS if r == reason_raw), None)
    if reason_raw and reason is None:
        return None, None, f"Unknown reason {reason_raw!r}."
    reference = form.get("reference", "").strip() or None
    if reference is not None and len(reference) > MAX_REFERENCE:
        return None, None, f"Keep the reference under {MAX_REFERENCE} characters."
    return reason, reference, None


@router.post("/import")
async def import_post(request: Request) -> Response:
    current = await form_visit(request, allowed=MANAGERS)
    step = current.form.get("step", "preview")
    reason, reference, problem = _options(current.form)
    if step == "apply":
        # The file comes back from the preview's hidden field, whole (the console's form
        # reader cuts fields at 2,000 characters; this one is read as posted).
        csv_text = (await request.form()).get("csv")
        text = csv_text if isinstance(csv_text, str) else ""
        filename = current.form.get("filename", "")
        key = current.form.get("key", "")[:MAX_KEY]
    else:
        upload = await _read_upload(request)
        if isinstance(upload, str):
            return _import_page(current, problem=upload, status=400)
        text, filename = upload
        key = secrets.token_urlsafe(18)
    form = ImportForm(
        csv=text,
        filename=filename,
        reason=reason or "",
        reference=reference or "",
        key=key,
    )
    if problem is not None:
        return _import_page(current, form=form, problem=problem, status=400)
    if not text:
        return _import_page(current, problem="Nothing to apply: upload the file again.", status=400)
    try:
        parsed = parse_import(text, default_reason=reason)
    except CsvFormatError as exc:
        return _import_page(current, form=form, problem=str(exc), status=400)
    inventory = current.services.inventory
    actor = current.session.name
    if step != "apply":
        result = await inventory.import_stock(
            parsed.rows, actor=actor, reference=reference, dry_run=True
        )
        return _import_page(current, form=form, result=result)
    if not key:
        return _import_page(current, form=form, problem="Preview the file first.", status=400)
    try:
        result = await inventory.import_stock(
            parsed.rows, actor=actor, reference=reference, idempotency_key=key
        )
    except ImportRejected as exc:
        return _import_page(
            current,
            form=form,
            result=exc.result,
            problem="Nothing was applied: stock changed since the preview and some rows are "
            "no longer valid (listed below). Check them and preview again.",
            status=422,
        )
    except (ImportInProgress, IdempotencyKeyReused) as exc:
        return current.flash_next(redirect("/console/import"), "error", exc.message)
    if result.replayed:
        text_out = (
            f"This import was already applied (reference {result.reference}); "
            "nothing was changed again."
        )
    else:
        text_out = (
            f"Imported {filename or 'the file'}: {len(result.rows)} rows, "
            f"{result.ledger_entries} stock changes (reference {result.reference})."
        )
    return current.flash_next(redirect("/console/import"), "ok", text_out)
