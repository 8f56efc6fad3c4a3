"""Reservations and the error log, with filters; resolving an error log (admins)."""

from __future__ import annotations

from typing import Literal, get_args

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from cms_client.ids import id_problem
from schemas.records import Severity
from schemas.reservation import ReservationStatus
from service.engine import ErrorLogNotFound, resolve_error_log
from service.entrypoints.auth import ADMINS
from service.entrypoints.console.access import form_visit, visit
from service.entrypoints.console.forms import choice
from service.entrypoints.console.product_pages import query_string
from service.entrypoints.console.rendering import ConsoleError, ConsoleRoute, redirect
from service.read_models.error_logs import list_error_logs
from service.read_models.reservations import list_reservations

router = APIRouter(route_class=ConsoleRoute)

PAGE = 25
RESERVATION_STATUSES: tuple[ReservationStatus, ...] = get_args(ReservationStatus)
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
Resolution = Literal["open", "resolved", "all"]
RESOLUTIONS: tuple[Resolution, ...] = get_args(Resolution)
MAX_RESOLUTION_NOTE = 500


@router.get("/reservations")
async def reservations(request: Request) -> Response:
    current = await visit(request)
    status = choice(request.query_params.get("status"), RESERVATION_STATUSES)
    cursor = request.query_params.get("cursor") or None
    listing = await list_reservations(
        current.services.store,
        now=current.services.clock(),
        grace=current.services.inventory.settings.expire_grace,
        status=status,
        limit=PAGE,
        cursor=cursor,
    )
    base = "/console/reservations"
    return current.page(
        "reservations.html",
        {
            "listing": listing,
            "status": status,
            "statuses": RESERVATION_STATUSES,
            "newest": base + query_string(status=status) if cursor else None,
            "older": base + query_string(status=status, cursor=listing.pagination.next_cursor)
            if listing.pagination.next_cursor
            else None,
        },
        section="reservations",
    )


def errors_url(severity: Severity | None, shown: Resolution, cursor: str | None = None) -> str:
    return "/console/errors" + query_string(
        severity=severity, show=None if shown == "open" else shown, cursor=cursor
    )


@router.get("/errors")
async def errors(request: Request) -> Response:
    current = await visit(request)
    severity = choice(request.query_params.get("severity"), SEVERITIES)
    shown = choice(request.query_params.get("show"), RESOLUTIONS) or "open"
    cursor = request.query_params.get("cursor") or None
    listing = await list_error_logs(
        current.services.store,
        severity=severity,
        resolved=None if shown == "all" else shown == "resolved",
        limit=PAGE,
        cursor=cursor,
    )
    return current.page(
        "errors.html",
        {
            "listing": listing,
            "severity": severity,
            "severities": SEVERITIES,
            "shown": shown,
            "resolutions": RESOLUTIONS,
            "here": errors_url(severity, shown, cursor),
            "newest": errors_url(severity, shown) if cursor else None,
            "older": errors_url(severity, shown, listing.pagination.next_cursor)
            if listing.pagination.next_cursor
            else None,
        },
        section="errors",
    )


@router.post("/errors/{error_id}/resolve")
async def resolve(request: Request, error_id: str) -> Response:
    current = await form_visit(request, allowed=ADMINS)
    back = current.form.get("back", "")
    if not back.startswith("/console/errors") or "//" in back:
        back = "/console/errors"
    note = current.form.get("note", "").strip()
    if len(note) > MAX_RESOLUTION_NOTE:
        return current.flash_next(
            redirect(back), "error", f"Keep the note under {MAX_RESOLUTION_NOTE} characters."
        )
    missing = ConsoleError(404, "No such error log", f"There is no error log {error_id!r}.")
    if id_problem(error_id) is not None:
        raise missing
    try:
        log, resolved_now = await resolve_error_log(
            current.services.store,
            error_id,
            actor=current.session.name,
            now=current.services.clock(),
            note=note or None,
        )
    except ErrorLogNotFound as exc:
        raise missing from exc
    text = (
        f"Resolved: {log.message[:120]}"
        if resolved_now
        else f"Already resolved by {log.resolved_by or 'someone'}; left as it was."
    )
    return current.flash_next(redirect(back), "ok", text)
