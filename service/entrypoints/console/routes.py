"""The console's router: sign-in and sign-out, the overview, reconcile, the stylesheet; the
product and record pages are in their own modules and included here."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from service.engine import run_reconcile
from service.entrypoints.auth import ADMINS
from service.entrypoints.console import product_pages, record_pages, stock_pages
from service.entrypoints.console.access import (
    form_visit,
    open_console,
    read_form,
    refused_form,
    set_cookie,
)
from service.entrypoints.console.access import visit as signed_in
from service.entrypoints.console.overview import overview
from service.entrypoints.console.product_pages import product_url
from service.entrypoints.console.rendering import ConsoleError, ConsoleRoute, redirect, render
from service.entrypoints.console.sessions import (
    COOKIE_PATH,
    FLASH_COOKIE,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    SIGN_IN_LIFETIME,
    csrf_ok,
    csrf_token,
    find_staff_key,
    flash_cookie,
    new_sign_in_nonce,
    open_session,
    read_flash,
    read_session,
    read_sign_in_nonce,
)

STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".png": "image/png"}

router = APIRouter(prefix="/console", include_in_schema=False, route_class=ConsoleRoute)


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a console path only (never another site)."""
    if (
        value
        and value.startswith("/console")
        and "//" not in value
        and "\\" not in value
        and len(value) < 1000
    ):
        return value
    return "/console"


def _sign_in_page(
    request: Request,
    *,
    next_path: str,
    problem: str | None = None,
    notice: tuple[str, str] | None = None,
    status: int = 200,
) -> Response:
    services, _, signer = open_console(request)
    now = services.clock()
    nonce = read_sign_in_nonce(signer, request.cookies.get(SIGN_IN_COOKIE), now=now)
    cookie = None
    if nonce is None:
        nonce, cookie = new_sign_in_nonce(signer, now=now)
    response = render(
        "sign_in.html",
        {
            "csrf": csrf_token(signer, "sign-in:" + nonce),
            "next_path": next_path,
            "problem": problem,
            "flash": notice,
        },
        status=status,
    )
    if cookie is not None:
        set_cookie(
            request,
            response,
            SIGN_IN_COOKIE,
            cookie,
            max_age=int(SIGN_IN_LIFETIME.total_seconds()),
        )
    if notice is not None:
        response.delete_cookie(FLASH_COOKIE, path=COOKIE_PATH)
    return response


@router.get("/sign-in")
async def sign_in_form(request: Request) -> Response:
    services, _, signer = open_console(request)
    now = services.clock()
    cookie = request.cookies.get(SESSION_COOKIE)
    if read_session(signer, cookie, services.staff_keys.keys, now=now) is not None:
        return redirect(safe_next(request.query_params.get("next")))
    notice = read_flash(signer, request.cookies.get(FLASH_COOKIE), now=now)
    return _sign_in_page(
        request, next_path=safe_next(request.query_params.get("next")), notice=notice
    )


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    services, config, signer = open_console(request)
    now = services.clock()
    fields = await read_form(request)
    nonce = read_sign_in_nonce(signer, request.cookies.get(SIGN_IN_COOKIE), now=now)
    if nonce is None or not csrf_ok(signer, "sign-in:" + nonce, fields.get("csrf")):
        raise refused_form()
    next_path = safe_next(fields.get("next"))
    staff = find_staff_key(services.staff_keys.keys, fields.get("key", "").strip())
    if staff is None:
        return _sign_in_page(
            request,
            next_path=next_path,
            problem="That is not a staff key. Use the key part of your ADMIN_API_KEYS entry.",
            status=401,
        )
    _, token = open_session(signer, staff, now=now, lifetime=config.lifetime)
    response = redirect(next_path)
    set_cookie(
        request,
        response,
        SESSION_COOKIE,
        token,
        max_age=int(config.lifetime.total_seconds()),
    )
    response.delete_cookie(SIGN_IN_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    current = await form_visit(request)
    response = redirect("/console/sign-in")
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    set_cookie(
        request,
        response,
        FLASH_COOKIE,
        flash_cookie(current.signer, "ok", "Signed out.", now=current.services.clock()),
        max_age=120,
    )
    return response


@router.get("")
async def home(request: Request) -> Response:
    current = await signed_in(request)
    services = current.services
    figures = await overview(
        services.store,
        now=services.clock(),
        grace=services.inventory.settings.expire_grace,
        default_threshold=services.settings.low_stock_threshold,
        uptime=services.uptime_seconds(),
        environment=services.settings.environment,
    )
    return current.page(
        "overview.html", {"overview": figures, "product_url": product_url}, section="overview"
    )


@router.post("/reconcile")
async def reconcile(request: Request) -> Response:
    current = await form_visit(request, allowed=ADMINS)
    # The same reconcile as the cron job, the staff API and the CLI (held refunds included).
    report = await run_reconcile(current.services.inventory)
    result, held = report.reconcile, report.held_refunds
    text = (
        f"Reconcile checked {result.products_checked} product(s): "
        f"{len(result.repaired)} counter(s) repaired"
        + (f", {len(result.settling)} left for the next run" if result.settling else "")
        + (f", {len(result.failed)} failed" if result.failed else "")
        + (f", {len(held.applied)} held refund(s) applied" if held.applied else "")
        + "."
    )
    return current.flash_next(redirect("/console"), "ok", text)


@router.get("/static/{name}")
async def static(name: str) -> Response:
    path = STATIC / name
    media = STATIC_TYPES.get(path.suffix)
    if media is None or path.parent != STATIC or not path.is_file():
        raise ConsoleError(404, "Not found", "No such file.")
    return Response(
        path.read_bytes(),
        media_type=media,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


router.include_router(product_pages.router)
router.include_router(record_pages.router)
router.include_router(stock_pages.router)
