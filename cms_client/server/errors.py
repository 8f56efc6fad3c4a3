"""How the lake server answers a failure: the refusal it raises and the handlers rendering it.

Every error answer is built from `cms_client.error_bodies`, so the server and the lake share
one builder per shape.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cms_client.error_bodies import (
    bad_request_body,
    mutation_exception_body,
    query_error_body,
    status_body,
)
from cms_client.errors import (
    BadRequest,
    MutationError,
    QueryError,
    QueryTimeout,
    RateLimited,
    StoreError,
    StoreUnavailable,
    Unauthorized,
)

#: Sanity refuses larger mutate bodies ("Request body exceeds limit of 4000000 bytes").
MAX_MUTATE_BODY_BYTES = 4_000_000
#: The lake holds every request body (POST queries too) to the same limit.
MAX_BODY_BYTES = MAX_MUTATE_BODY_BYTES


class Refusal(Exception):
    """An HTTP error answer decided before or instead of calling the store."""

    def __init__(
        self, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def bad_request(description: str) -> Refusal:
    return Refusal(400, bad_request_body(description))


def body_too_large() -> Refusal:
    return Refusal(
        413,
        {
            "error": {
                "description": f"Request body exceeds limit of {MAX_MUTATE_BODY_BYTES} bytes",
                "type": "httpPayloadTooLarge",
            }
        },
    )


class _JSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            # A lone surrogate (from a GROQ string escape, say): escaped as JSON allows,
            # rather than a 500.
            return json.dumps(content, separators=(",", ":"), allow_nan=False).encode()


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return _JSON(body, status_code=status, headers=dict(headers or {}))


def store_error_response(exc: StoreError, query: str = "") -> JSONResponse:
    if isinstance(exc, MutationError):
        return json_response(409, mutation_exception_body(exc))
    if isinstance(exc, QueryError):
        return json_response(400, query_error_body(exc, query))
    if isinstance(exc, BadRequest):
        return json_response(400, exc.body or bad_request_body(exc.message))
    if isinstance(exc, RateLimited):
        retry = math.ceil(exc.retry_after) if exc.retry_after is not None else 1
        headers = {"Retry-After": str(retry)}
        return json_response(429, exc.body or status_body(429, exc.message), headers)
    if isinstance(exc, Unauthorized):
        return json_response(401, exc.body or status_body(401, exc.message))
    if isinstance(exc, QueryTimeout):
        # A query cut at its deadline: 408, so clients do not resend the same slow query.
        return json_response(408, exc.body or status_body(408, exc.message))
    if isinstance(exc, StoreUnavailable):
        return json_response(503, exc.body or status_body(503, exc.message))
    return json_response(500, exc.body or status_body(500, exc.message))


async def refusal_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refusal)
    return json_response(exc.status, exc.body, exc.headers)


async def store_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StoreError)
    return store_error_response(exc)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "Not found" if exc.status_code == 404 else str(exc.detail)
    return json_response(exc.status_code, status_body(exc.status_code, message), exc.headers)
