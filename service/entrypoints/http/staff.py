"""Staff routes (ADMIN_API_KEYS): adjust stock, read history, holds and error logs,
resolve error logs, reconcile. The staff key's name is the ledger's `actor`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request

from cms_client.ids import id_problem
from schemas.ledger import LedgerEntryType
from schemas.records import ErrorType, Severity
from schemas.reservation import ReservationStatus
from service.engine import ErrorLogNotFound, resolve_error_log, run_reconcile
from service.entrypoints.auth import ADMINS, ANY_STAFF, MANAGERS, Principal
from service.entrypoints.context import Services, get_services
from service.entrypoints.errors import ApiError
from service.entrypoints.http.error_handlers import validation_error
from service.entrypoints.http.error_responses import COMMON, error_responses
from service.entrypoints.http.security import staff_caller
from service.entrypoints.http.staff_models import (
    AdjustRequestBody,
    AdjustResponse,
    BackordersResponse,
    ErrorLogsResponse,
    HistoryResponse,
    LocationsResponse,
    ReconcileResponse,
    ReservationsResponse,
    ResolveResponse,
    TransferRequestBody,
    TransferResponse,
)
from service.read_models.backorders import open_backorders
from service.read_models.error_logs import list_error_logs, view
from service.read_models.history import product_history
from service.read_models.locations import list_locations
from service.read_models.reservations import list_reservations

router = APIRouter(prefix="/api/inventory", tags=["staff"])

ServicesDep = Annotated[Services, Depends(get_services)]
Manager = Annotated[Principal, Depends(staff_caller(MANAGERS))]
AnyStaff = Annotated[Principal, Depends(staff_caller(ANY_STAFF))]
Admin = Annotated[Principal, Depends(staff_caller(ADMINS))]

Limit = Annotated[int, Query(ge=1, le=200, description="Entries per page.")]
Cursor = Annotated[
    str | None,
    Query(max_length=500, description="`pagination.nextCursor` of the previous page."),
]
PROTECTED = (401, 403)


@router.post(
    "/adjust",
    response_model=AdjustResponse,
    summary="Change stock on hand (admin, inventory_manager)",
    responses=error_responses(*COMMON, *PROTECTED, 404, 409),
)
async def adjust(
    body: AdjustRequestBody,
    services: ServicesDep,
    staff: Manager,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=255,
            description="Optional: a retry with the same key is applied once.",
        ),
    ] = None,
) -> AdjustResponse:
    """Set stock (`setTo`) or move it (`delta`) with a reason (restock, correction, damage,
    return, initial). A result below zero is refused with 409 `invalid_adjustment`. The
    change is written to the ledger with the staff key's name as actor."""
    if (body.set_to is None) == (body.delta is None):
        raise validation_error([("setTo", "give exactly one of setTo and delta", "one_of")])
    keys = [f"adjust:{staff.name}:{idempotency_key}"] if idempotency_key else []
    result = await services.inventory.adjust(
        body.product_id,
        reason=body.reason,
        set_to=body.set_to,
        delta=body.delta,
        variant_key=body.variant_key,
        size=body.size,
        actor=staff.name,
        note=body.note,
        reference=body.reference,
        idempotency_keys=keys,
        allow_below_reserved=body.allow_below_reserved,
        location=body.location,
    )
    return AdjustResponse(
        message=f"Stock {result.previous_stock} -> {result.new_stock} ({result.reason})",
        actor=staff.name,
        adjustment=result,
    )


@router.post(
    "/transfer",
    response_model=TransferResponse,
    summary="Move stock between locations (admin, inventory_manager)",
    responses=error_responses(*COMMON, *PROTECTED, 404, 409),
)
async def transfer(
    body: TransferRequestBody,
    services: ServicesDep,
    staff: Manager,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=255, description="Optional: a retry with the same key is applied once."),
    ] = None,
) -> TransferResponse:
    """Move `quantity` available units (not held by open checkouts) of a product or size
    from one location to another, atomically, with a `transfer` ledger entry on each side;
    totals do not change. 409 `insufficient_stock` when `from` lacks them; 404
    `location_not_found` for an unknown slug."""
    keys = [f"transfer:{staff.name}:{idempotency_key}"] if idempotency_key else []
    result = await services.inventory.transfer(
        body.product_id,
        source=body.from_location,
        target=body.to_location,
        quantity=body.quantity,
        variant_key=body.variant_key,
        size=body.size,
        actor=staff.name,
        note=body.note,
        idempotency_keys=keys,
    )
    return TransferResponse(
        message=f"Moved {result.quantity} from {result.from_location} to {result.to_location}",
        actor=staff.name,
        transfer=result,
    )


@router.get(
    "/locations",
    response_model=LocationsResponse,
    summary="Stock locations with their totals (any staff role)",
    responses=error_responses(*COMMON, *PROTECTED),
)
async def locations(services: ServicesDep, staff: AnyStaff) -> LocationsResponse:
    """Every stock location in priority order with its totals over all products: stock,
    reserved and available (0 at an inactive location)."""
    listing = await list_locations(services.store)
    return LocationsResponse.model_validate(listing.model_dump())


@router.get(
    "/history/{product_id}",
    response_model=HistoryResponse,
    summary="Ledger of one product, newest first (any staff role)",
    responses=error_responses(*COMMON, *PROTECTED, 404),
)
async def history(
    services: ServicesDep,
    staff: AnyStaff,
    product_id: Annotated[str, Path(min_length=1, max_length=200, description="Slug or `_id`.")],
    entry_type: Annotated[LedgerEntryType | None, Query(alias="type")] = None,
    since: Annotated[
        datetime | None, Query(alias="from", description="Entries at or after (RFC 3339).")
    ] = None,
    until: Annotated[
        datetime | None, Query(alias="to", description="Entries at or before (RFC 3339).")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> HistoryResponse:
    """Entries with type, signed change, counters before and after, reason, actor,
    reference and time; a summary of sales, refunds and adjustments over every entry the
    filters match; the product's current stock with a `lowStock` flag."""
    report = await product_history(
        services.store,
        services.inventory,
        product_id,
        entry_type=entry_type,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return HistoryResponse.model_validate(report.model_dump())


@router.get(
    "/reservations",
    response_model=ReservationsResponse,
    summary="Reservations, newest first (any staff role)",
    responses=error_responses(*COMMON, *PROTECTED),
)
async def reservations(
    services: ServicesDep,
    staff: AnyStaff,
    status: ReservationStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ReservationsResponse:
    listing = await list_reservations(
        services.store,
        now=services.clock(),
        grace=services.inventory.settings.expire_grace,
        status=status,
        limit=limit,
        cursor=cursor,
    )
    return ReservationsResponse.model_validate(listing.model_dump())


@router.get(
    "/backorders",
    response_model=BackordersResponse,
    response_model_exclude_none=True,
    summary="Open backorders, oldest first (any staff role)",
    responses=error_responses(*COMMON, *PROTECTED),
)
async def backorders(
    services: ServicesDep,
    staff: AnyStaff,
    request: Request,
    product_id: Annotated[
        str,
        Query(
            alias="productId",
            min_length=1,
            max_length=200,
            description="Only this product (`_id`).",
        ),
    ] = "",
) -> BackordersResponse:
    """Paid units still owed (sessionId, productId, size, quantity still open after partial
    fills, since = when it was paid), in the order a restock fills them."""
    # One product or none: a repeated or malformed id is refused, not half-read (issue 12).
    if len(request.query_params.getlist("productId")) > 1:
        raise validation_error([("productId", "give at most one productId", "too_many")])
    if product_id and id_problem(product_id) is not None:
        raise validation_error([("productId", str(id_problem(product_id)), "invalid_id")])
    listing = await open_backorders(services.store, product_id=product_id or None)
    return BackordersResponse.model_validate(listing.model_dump())


@router.get(
    "/errors",
    response_model=ErrorLogsResponse,
    summary="Error logs, newest first (any staff role)",
    responses=error_responses(*COMMON, *PROTECTED),
)
async def error_logs(
    services: ServicesDep,
    staff: AnyStaff,
    severity: Severity | None = None,
    resolved: bool | None = None,
    error_type: Annotated[ErrorType | None, Query(alias="type")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ErrorLogsResponse:
    listing = await list_error_logs(
        services.store,
        severity=severity,
        resolved=resolved,
        error_type=error_type,
        limit=limit,
        cursor=cursor,
    )
    return ErrorLogsResponse.model_validate(listing.model_dump())


@router.post(
    "/errors/{error_id}/resolve",
    response_model=ResolveResponse,
    summary="Mark an error log resolved (admin)",
    responses=error_responses(*COMMON, *PROTECTED, 404),
)
async def resolve(
    services: ServicesDep,
    staff: Admin,
    error_id: Annotated[str, Path(min_length=1, max_length=128, description="The log's `id`.")],
) -> ResolveResponse:
    """Records who resolved it and when; resolving a resolved log changes nothing."""
    if id_problem(error_id) is not None:
        raise ApiError(404, "error_log_not_found", f"No error log {error_id!r}.")
    try:
        log, resolved_now = await resolve_error_log(
            services.store, error_id, actor=staff.name, now=services.clock()
        )
    except ErrorLogNotFound as exc:
        raise ApiError(404, "error_log_not_found", str(exc).capitalize()) from exc
    return ResolveResponse(already_resolved=not resolved_now, error_log=view(log))


@router.post(
    "/reconcile",
    response_model=ReconcileResponse,
    summary="Repair reserved counters from reservations, apply held refunds (admin)",
    responses=error_responses(*PROTECTED, 413, 503),
)
async def reconcile(services: ServicesDep, staff: Admin) -> ReconcileResponse:
    report = await run_reconcile(services.inventory)
    return ReconcileResponse(reconcile=report.reconcile, held_refunds=report.held_refunds)
