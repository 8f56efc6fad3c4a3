"""Staff routes of the bulk stock tools, the reorder list and the sales analytics.

`GET /api/inventory/export` and `POST /api/inventory/import` move stock in and out as CSV
(`schemas.stock_csv`); the import is the engine's `import_stock` (all rows or none);
`GET /api/inventory/reorder` lists what is at or below its reorder point, and
`GET /api/inventory/analytics` how each line sold, both from the ledger.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response
from pydantic import Field

from schemas.operations import AdjustReason
from schemas.stock_csv import CsvFormatError, parse_import
from service.engine import ImportRejected, ImportResult, ImportRowResult
from service.entrypoints.auth import ANY_STAFF, MANAGERS, Principal
from service.entrypoints.context import Services, get_services
from service.entrypoints.errors import ApiError
from service.entrypoints.http.base_models import ResponseModel
from service.entrypoints.http.error_handlers import validation_error
from service.entrypoints.http.error_responses import COMMON, error_responses
from service.entrypoints.http.security import staff_caller
from service.read_models.locations import read_locations
from service.read_models.stock_reports import (
    MAX_DAYS,
    AnalyticsReport,
    ReorderReport,
    analytics_csv,
    analytics_report,
    export_csv,
    purchase_order_csv,
    read_lines,
    reorder_report,
)

router = APIRouter(prefix="/api/inventory", tags=["staff"])

ServicesDep = Annotated[Services, Depends(get_services)]
Manager = Annotated[Principal, Depends(staff_caller(MANAGERS))]
AnyStaff = Annotated[Principal, Depends(staff_caller(ANY_STAFF))]
Days = Annotated[
    int, Query(ge=1, le=MAX_DAYS, description="Window in days, ending now (velocity per day).")
]
Format = Annotated[Literal["json", "csv"], Query(description="`csv` downloads a CSV file.")]
PROTECTED = (401, 403)
CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel")
CSV_MEDIA = "text/csv; charset=utf-8"


def _csv_response(text: str, filename: str) -> Response:
    return Response(
        content=text.encode("utf-8"),
        media_type=CSV_MEDIA,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _csv_content(description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": description,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }


class ReorderResponse(ReorderReport):
    success: Literal[True] = True


class AnalyticsResponse(AnalyticsReport):
    success: Literal[True] = True


@router.get(
    "/reorder",
    response_model=ReorderResponse,
    summary="Stock lines at or below their reorder point (any staff role)",
    responses={
        **error_responses(*COMMON, *PROTECTED),
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
    },
)
async def reorder(
    services: ServicesDep,
    staff: AnyStaff,
    days: Days = 30,
    format: Format = "json",
) -> Any:
    """Every product and variant whose available stock is at or below its `reorderPoint`,
    with the recent sales rate (`velocityPerDay` over `days`), `daysOfCover` and
    `suggestedQuantity` (the line's `reorderQuantity`, else the units that bring cover to 30
    days). Least cover first. `format=csv`: the list as a purchase order whose rows import
    back through `POST /api/inventory/import` (reason restock, reference `PO-<date>-<time>`)."""
    now = services.clock()
    report = await reorder_report(
        services.store, now=now, days=days, default_threshold=services.settings.low_stock_threshold
    )
    if format == "csv":
        ref = f"PO-{now:%Y%m%d-%H%M}"
        return _csv_response(purchase_order_csv(report.items, reference=ref), f"{ref}.csv")
    return ReorderResponse.model_validate(report.model_dump())


@router.get(
    "/export",
    response_class=Response,
    summary="Every stock line as CSV (any staff role)",
    responses={**error_responses(*PROTECTED, 413, 503), **_csv_content("The export file.")},
)
async def export(services: ServicesDep, staff: AnyStaff) -> Response:
    """Header `productId,documentId,title,sku,size,variantKey,stock,reserved,available,state,
    reorderPoint,location`; one row per product without variants and one per variant, and
    one per location for a line stocked by location (`location` its slug). Text that a
    spreadsheet would run as a formula is written with a leading `'`. Edit the `stock`
    column and send the file to `POST /api/inventory/import?reason=correction`."""
    lines = await read_lines(services.store, services.settings.low_stock_threshold)
    locations = {place.id: place for place in await read_locations(services.store)}
    text = export_csv(lines, locations)
    return _csv_response(text, f"stock-{services.clock():%Y%m%d-%H%M}.csv")


class ImportResponse(ResponseModel):
    success: Literal[True] = True
    dry_run: bool
    reference: str
    applied: bool
    replayed: bool = False
    valid: int
    invalid: int
    ledger_entries: int = Field(description="Ledger entries written (rows that changed stock).")
    transactions: int
    rows: list[ImportRowResult]


def _import_response(result: ImportResult) -> ImportResponse:
    return ImportResponse.model_validate(result.model_dump())


def _rejected(exc: ImportRejected) -> ApiError:
    bad = [row for row in exc.result.rows if row.error]
    return ApiError(
        422,
        exc.code,
        f"{exc.message}: "
        + "; ".join(f"row {row.row}: {row.error}" for row in bad[:5])
        + (f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""),
        details=[f"row {row.row}: {row.error}" for row in bad],
        title="Import refused",
        extra={
            "errors": [
                {"row": row.row, "productId": row.product_id, "message": row.error} for row in bad
            ],
            "rows": [row.to_json_dict() for row in exc.result.rows],
            "valid": exc.result.valid,
            "invalid": exc.result.invalid,
        },
    )


@router.post(
    "/import",
    response_model=ImportResponse,
    summary="Set or move stock of many lines from CSV, all or nothing (admin, inventory_manager)",
    responses=error_responses(*COMMON, *PROTECTED, 409, 415, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def import_stock(
    request: Request,
    services: ServicesDep,
    staff: Manager,
    dry_run: Annotated[
        bool, Query(alias="dryRun", description="Check and report every row; write nothing.")
    ] = False,
    reason: Annotated[
        AdjustReason | None, Query(description="Reason of every row without its own.")
    ] = None,
    reference: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="Recorded on each ledger entry (a row's `reference` column wins); "
            "default import-<time>.",
        ),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=255, description="A retry with the same key is applied once."),
    ] = None,
) -> ImportResponse:
    """Body `text/csv`: a header with `productId` and `setTo` or `delta`, optionally `size`,
    `variantKey`, `reason` (restock, correction, damage, return, initial; needed on each row
    unless `?reason=` gives one), `note` and `reference`. An export file works as it is (its
    `stock` column is the value to set). `row` is the line of the file (header = 1).
    `dryRun=true` answers 200 with every row's before, after and change and writes nothing.
    Otherwise any invalid row (unknown product or size, below zero, below what checkouts
    hold, bad number or reason) answers 422 `import_invalid` listing every bad row, and
    nothing is written; else each row that changes stock writes one ledger entry."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in CSV_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            "Send the import as text/csv.",
            details={"contentType": content_type or None},
        )
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise validation_error([("body", "the file is not UTF-8 text", "encoding")]) from None
    try:
        parsed = parse_import(text, default_reason=reason)
    except CsvFormatError as exc:
        raise validation_error([("body", str(exc), "csv")]) from None
    try:
        result = await services.inventory.import_stock(
            parsed.rows,
            actor=staff.name,
            reference=reference,
            dry_run=dry_run,
            idempotency_key=idempotency_key,
        )
    except ImportRejected as exc:
        raise _rejected(exc) from None
    return _import_response(result)


@router.get(
    "/analytics",
    response_model=AnalyticsResponse,
    summary="Units sold, refunded, velocity, cover and sell-through per line (any staff role)",
    responses={
        **error_responses(*COMMON, *PROTECTED),
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
    },
)
async def analytics(
    services: ServicesDep, staff: AnyStaff, days: Days = 30, format: Format = "json"
) -> Any:
    """From the ledger over the last `days`: `unitsSold` (sale entries), `unitsRefunded`
    (refund, cancellation, return), `netUnits`, `velocityPerDay` = netUnits / days,
    `daysOfCover` = available / velocity (null when velocity is 0 or below), `sellThrough` =
    unitsSold / (unitsSold + availableStock) (null when both are 0). Best sellers first."""
    report = await analytics_report(
        services.store,
        now=services.clock(),
        days=days,
        default_threshold=services.settings.low_stock_threshold,
    )
    if format == "csv":
        return _csv_response(analytics_csv(report.items), f"analytics-{days}d.csv")
    return AnalyticsResponse.model_validate(report.model_dump())
