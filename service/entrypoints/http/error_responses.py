"""The one error shape, as OpenAPI models, and the `responses=` entries routes declare.

Every non-2xx answer is `ErrorBody` (see `service.entrypoints.errors`); a failed reserve adds the
per-line `errors` the storefront contract names. Declaring them keeps `/openapi.json` true
to what the service sends, which is what a schema fuzzer checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.entrypoints.http.base_models import ResponseModel


class ErrorBody(BaseModel):
    """`{success: false, code, error, message, details}` (more fields on some errors)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "success": False,
                    "code": "unauthorized",
                    "error": "Unauthorized",
                    "message": "Missing or invalid storefront API key "
                    "(Authorization: Bearer or X-API-Key).",
                    "details": [],
                    "errors": [],
                }
            ]
        },
    )

    success: Literal[False] = False
    code: str = Field(description="Stable machine-readable reason; branch on this.")
    error: str = Field(description="Short title of the HTTP status (or the contract's title).")
    message: str = Field(description="What went wrong, naming the field or product.")
    details: list[str] = Field(default_factory=list, description="Readable strings; may be empty.")
    errors: list[Any] = Field(
        default_factory=list, description="Per-field or per-line problems; may be empty."
    )


class LineError(ResponseModel):
    """One reserve line that could not be held."""

    product_id: str
    size: str | None = None
    variant_key: str | None = None
    code: Literal[
        "insufficient_stock", "product_not_found", "variant_not_found", "variant_required"
    ]
    requested: int
    available: int
    message: str


class FieldError(ResponseModel):
    field: str = Field(description="Where the bad value is, e.g. operations[0].quantity.")
    message: str
    type: str


class ValidationErrorBody(ErrorBody):
    """400: the request does not match the schema (or a configured limit)."""

    errors: list[FieldError] = Field(default_factory=list)


class ReserveFailureBody(ErrorBody):
    """409 of reserve-stock: `details` are readable strings, `errors` one entry per line."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "success": False,
                    "code": "insufficient_stock",
                    "error": "Stock reservation failed",
                    "message": "Insufficient stock for Railcam: requested 6, available 5",
                    "details": ["Insufficient stock for Railcam: requested 6, available 5"],
                    "errors": [
                        {
                            "productId": "railcam",
                            "size": None,
                            "code": "insufficient_stock",
                            "requested": 6,
                            "available": 5,
                            "message": "Insufficient stock for Railcam: requested 6, available 5",
                        }
                    ],
                }
            ]
        },
    )

    errors: list[LineError] = Field(default_factory=list)


_DESCRIPTIONS: dict[int, str] = {
    400: "Invalid request: the body, a query parameter or a configured limit, named in "
    "`message` and `errors[].field`.",
    401: "Missing or wrong credentials.",
    403: "The staff key's role may not do this.",
    404: "Not found.",
    409: "Conflicts with the current state.",
    413: "Request body too large.",
    429: "Too many requests from this storefront key or address (`code: rate_limited`); "
    "wait `Retry-After` seconds. Limits are per instance (STOCKSYNC_RATE_LIMIT_*).",
    503: "A secret this route needs is not configured (`code: not_configured`, naming the "
    "variable), or the document store is unavailable or rate-limited (`Retry-After`).",
}


def error_responses(
    *statuses: int, models: Mapping[int, type[BaseModel]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status answered with `ErrorBody`, or with the model
    `models` gives for it (400 defaults to `ValidationErrorBody`)."""
    chosen = {400: ValidationErrorBody, **(models or {})}
    return {
        status: {
            "model": chosen.get(status, ErrorBody),
            "description": _DESCRIPTIONS.get(status, "Error."),
        }
        for status in statuses
    }


#: Answers a route with a body can give: invalid, too large, store down or not configured.
COMMON = (400, 413, 503)
