"""The one JSON shape of every non-2xx answer.

    {"success": false, "code": "<stable>", "error": "<short title>",
     "message": "<what went wrong, naming the field or product>", "details": ...}

`error` is a string because storefronts written for the service stocksync replaces read
`body.error` as text (storefront contract 1.4); `code` is what programs should branch on.
"""

from __future__ import annotations

from typing import Any

TITLES: dict[int, str] = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class ApiError(Exception):
    """An answer the service gives on purpose; rendered by `error_body`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Any = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.title = title or TITLES.get(status, "Error")
        self.headers = headers or {}
        #: Additional top-level fields a storefront contract expects (e.g. `errors`).
        self.extra = extra or {}


def readable_details(details: Any) -> list[str]:
    """`details` is always a list of readable strings, whatever the raiser passed."""
    if details is None:
        return []
    if isinstance(details, str):
        return [details]
    if isinstance(details, dict):
        return [f"{key}: {value}" for key, value in details.items()]
    if isinstance(details, list | tuple):
        return [str(item) for item in details]
    return [str(details)]


def error_body(error: ApiError) -> dict[str, Any]:
    """The one shape: `details` always a list of strings, `errors` always a list."""
    body: dict[str, Any] = {
        "success": False,
        "code": error.code,
        "error": error.title,
        "message": error.message,
        "details": readable_details(error.details),
        "errors": [],
    }
    body.update(error.extra)
    return body
