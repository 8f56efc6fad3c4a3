"""Turning console pages and failures into HTML responses.

Templates autoescape everything; pages are never cached and may not be framed, and the
content security policy allows the console's own stylesheet and nothing else (the pages
run no script at all). `ConsoleRoute` renders every failure of a console route as a page
rather than the API's JSON error shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from cms_client.errors import RateLimited, StoreError, StoreUnavailable
from service.engine import InvalidRequest, RetryLater

if TYPE_CHECKING:
    from jinja2 import Environment

logger = logging.getLogger("stocksync.console")

TEMPLATES = Path(__file__).parent / "templates"

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

STATE_LABELS = {"in_stock": "In stock", "low_stock": "Low stock", "out_of_stock": "Out of stock"}


class ConsoleError(Exception):
    """A failure to show as a page with this status (403, 404, 503...)."""

    def __init__(
        self, status: int, title: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message
        self.headers = dict(headers or {})


class NotSignedIn(Exception):
    """No valid session: send the browser to the sign-in page, then back."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


@cache
def environment() -> Environment:
    # Imported on first use: an app that never serves the console never loads Jinja2.
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["state_label"] = lambda state: STATE_LABELS.get(state, state)
    env.filters["signed"] = lambda n: f"+{n}" if isinstance(n, int) and n > 0 else str(n)
    return env


def render(
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    html = environment().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


def error_page(
    status: int, title: str, message: str, *, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    return render(
        "error.html",
        {"title": title, "message": message, "status": status},
        status=status,
        headers=headers,
    )


def redirect(location: str) -> RedirectResponse:
    """303: after a form, the browser GETs the next page."""
    return RedirectResponse(location, status_code=303, headers=dict(SECURITY_HEADERS))


def sign_in_redirect(back_to: str) -> RedirectResponse:
    return redirect("/console/sign-in?next=" + quote(back_to, safe="/"))


class ConsoleRoute(APIRoute):
    """Renders a console route's failures as pages, never as the API's JSON errors."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except NotSignedIn as exc:
                return sign_in_redirect(exc.back_to)
            except ConsoleError as exc:
                return error_page(exc.status, exc.title, exc.message, headers=exc.headers)
            except InvalidRequest as exc:
                return error_page(400, "Not understood", exc.message)
            except (StoreUnavailable, RateLimited, RetryLater) as exc:
                logger.warning("console: store busy or unavailable: %s", exc)
                return error_page(
                    503,
                    "Try again in a moment",
                    "The document store is unavailable or busy; nothing was changed.",
                    headers={"Retry-After": "5"},
                )
            except StoreError:
                logger.exception("console: store refused a request")
                return error_page(502, "Store error", "The document store refused the request.")

        return console_handler
