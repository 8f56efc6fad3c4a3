"""Who is using the console, and whether a form may act: session, CSRF token and role.

Every page asks for a `Visit` (a signed-in session, or the sign-in page); every form post
asks for `form_visit`, which also checks the CSRF token and the role before anything is
read from the form. A post that fails any check changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from service.config import Role
from service.entrypoints.console.config import ConsoleConfig, console_config
from service.entrypoints.console.rendering import ConsoleError, NotSignedIn, render
from service.entrypoints.console.sessions import (
    COOKIE_PATH,
    FLASH_COOKIE,
    SESSION_COOKIE,
    ConsoleSession,
    csrf_ok,
    csrf_token,
    flash_cookie,
    read_flash,
    read_session,
)
from service.entrypoints.console.signing import Signer
from service.entrypoints.context import Services, get_services

MAX_FIELD = 2000


@dataclass
class Visit:
    """A signed-in request: the services, the signer and the session."""

    request: Request
    services: Services
    config: ConsoleConfig
    signer: Signer
    session: ConsoleSession
    flash: tuple[str, str] | None = None
    form: dict[str, str] = field(default_factory=dict)

    @property
    def csrf(self) -> str:
        return csrf_token(self.signer, self.session.session_id)

    def page(
        self, template: str, context: dict[str, Any], *, section: str, status: int = 200
    ) -> Response:
        """Render a page of the signed-in console (the flash message is shown once)."""
        response = render(
            template,
            {
                "session": self.session,
                "csrf": self.csrf,
                "flash": self.flash,
                "section": section,
                **context,
            },
            status=status,
        )
        if self.flash is not None:
            response.delete_cookie(FLASH_COOKIE, path=COOKIE_PATH)
        return response

    def flash_next(self, response: Response, kind: str, text: str) -> Response:
        """Show `text` on the page the response redirects to."""
        set_cookie(
            self.request,
            response,
            FLASH_COOKIE,
            flash_cookie(self.signer, kind, text, now=self.services.clock()),
            max_age=120,
        )
        return response


def is_https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def set_cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def open_console(request: Request) -> tuple[Services, ConsoleConfig, Signer]:
    """The console's services, or a 503 page saying which variable keeps it closed."""
    services = get_services(request)
    config = console_config(request, services.settings)
    staff = services.staff_keys
    if staff.problem is not None:
        raise ConsoleError(
            503,
            "Console closed",
            "ADMIN_API_KEYS is set but malformed (see the server log); the console and the "
            "staff API stay closed until it is fixed.",
        )
    if not staff.keys:
        raise ConsoleError(
            503, "Console closed", "The console is closed until ADMIN_API_KEYS is set."
        )
    if config.signer is None:
        raise ConsoleError(503, "Console closed", config.closed_because or "Console closed.")
    return services, config, config.signer


def back_to(request: Request) -> str:
    if request.method != "GET":
        # A form's own URL cannot be opened after signing in; start from the overview.
        return "/console"
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


async def visit(request: Request) -> Visit:
    """The signed-in visit of a page request (else: off to the sign-in page)."""
    services, config, signer = open_console(request)
    now = services.clock()
    session = read_session(
        signer, request.cookies.get(SESSION_COOKIE), services.staff_keys.keys, now=now
    )
    if session is None:
        raise NotSignedIn(back_to(request))
    flash = read_flash(signer, request.cookies.get(FLASH_COOKIE), now=now)
    return Visit(request, services, config, signer, session, flash)


def refused_form() -> ConsoleError:
    return ConsoleError(
        403,
        "Form refused",
        "This form did not come from your console session (its security token is missing "
        "or wrong), so nothing was changed. Reload the page and try again.",
    )


async def read_form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {
        name: value[:MAX_FIELD]
        for name, value in form.multi_items()
        if isinstance(value, str) and name
    }


async def form_visit(request: Request, *, allowed: frozenset[Role] | None = None) -> Visit:
    """A signed-in form post whose CSRF token matches its session and whose role may act."""
    current = await visit(request)
    current.form = await read_form(request)
    if not csrf_ok(current.signer, current.session.session_id, current.form.get("csrf")):
        raise refused_form()
    if allowed is not None and current.session.role not in allowed:
        needed = " or ".join(sorted(role.value for role in allowed))
        raise ConsoleError(
            403,
            "Not allowed",
            f"{current.session.name} has the role {current.session.role.value}; "
            f"this needs {needed}. Nothing was changed.",
        )
    return current
