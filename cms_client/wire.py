"""The one place that turns Sanity's HTTP answers into the typed errors of `cms_client.errors`.

Decisions come from the status, `error.type` and `error.items[].error.type`, never from
message text, which Sanity rewords at will. The order:

1. 429 -> `RateLimited` (wait from `Retry-After`, else `ratelimit-reset`).
2. 401, 403 -> `Unauthorized`.
3. `mutationError` with an item of a known type -> `RevisionConflict`
   (`documentRevisionIDDoesNotMatchError`), `DocumentExists` (`documentAlreadyExistsError`),
   `DocumentMissing` (`documentNotFoundError`, the lake's type for a patch of a missing id),
   whatever the status: such a body is a definite refusal, nothing was written. Other item
   types give the generic `MutationError` on a 409 (e.g. the lake's
   `transactionIdConflictError`) and follow the status otherwise (a 400 `mutationError`
   naming an invalid id or patch is a `BadRequest`).
4. `queryParseError` -> `QueryError` (position from `start`); the lake's `queryTimeoutError`
   (a query cut at its deadline, HTTP 408) -> `QueryTimeout`.
5. Other 5xx, timeouts, connection errors, unreadable bodies -> `StoreUnavailable`.
6. Any other status -> `BadRequest`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from cms_client.clock import Clock, utc_now
from cms_client.errors import (
    BadRequest,
    DocumentExists,
    DocumentMissing,
    MutationError,
    QueryError,
    QueryTimeout,
    RateLimited,
    RevisionConflict,
    StoreError,
    StoreUnavailable,
    Unauthorized,
)
from cms_client.store import Mutation

REVISION_MISMATCH = "documentRevisionIDDoesNotMatchError"
ALREADY_EXISTS = "documentAlreadyExistsError"
NOT_FOUND = "documentNotFoundError"
MUTATION_ERROR = "mutationError"
#: Not a documented Sanity type: the embedded lake's answer to a query cut at its deadline.
QUERY_TIMEOUT = "queryTimeoutError"
QUERY_PARSE_ERROR = "queryParseError"

_CREATES = ("create", "createIfNotExists", "createOrReplace")


def error_from_response(
    response: httpx.Response,
    *,
    mutations: Sequence[Mutation] | None = None,
    query: str | None = None,
    clock: Clock = utc_now,
) -> StoreError:
    """The typed error for a non-2xx `response` to a request that carried `mutations`/`query`."""
    body = _json_object(response)
    error = error_from_body(
        response.status_code,
        body,
        response.headers,
        mutations=mutations,
        query=query,
        now=clock(),
    )
    error.traceparent = response.headers.get("traceparent")
    return error


def error_from_body(
    status: int,
    body: dict[str, Any] | None,
    headers: Mapping[str, str],
    *,
    mutations: Sequence[Mutation] | None = None,
    query: str | None = None,
    now: datetime | None = None,
) -> StoreError:
    raw_error = body.get("error") if body else None
    error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
    error_type = error.get("type") if isinstance(error.get("type"), str) else None
    message = _message(status, body, error, error_type)

    if status == 429:
        return RateLimited(message, retry_after=retry_after_seconds(headers, now), body=body)
    if status in (401, 403):
        return Unauthorized(message, body=body)
    if error_type == MUTATION_ERROR:
        mutation_error = _mutation_error(error, body, mutations or ())
        if mutation_error is not None and (
            status == 409 or type(mutation_error) is not MutationError
        ):
            return mutation_error
    if error_type == QUERY_PARSE_ERROR:
        start = error.get("start")
        return QueryError(
            message,
            query=_str(error.get("query")) or query or "",
            position=start if isinstance(start, int) else None,
            # Not a Sanity field: the embedded lake names the unsupported construct here.
            construct=_str(error.get("construct")),
            body=body,
        )
    if error_type == QUERY_TIMEOUT:
        return QueryTimeout(message, body=body)
    if status >= 500:
        return StoreUnavailable(message, body=body)
    return BadRequest(message, body=body)


def error_from_transport(exc: httpx.HTTPError, *, method: str, url: str) -> StoreError:
    """A request that got no usable response: the outcome of a write is unknown."""
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return BadRequest(f"{method} {url} could not be sent: {exc!r}")
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    return StoreUnavailable(f"{method} {url} {kind}: {exc!r}")


def unreadable_response(response: httpx.Response) -> StoreUnavailable:
    """A 2xx whose body is not the JSON object Sanity sends (a proxy page, a cut body)."""
    error = StoreUnavailable(
        f"{response.request.method} {response.request.url} answered {response.status_code} "
        "with a body that is not a JSON object"
    )
    error.traceparent = response.headers.get("traceparent")
    return error


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date), else `ratelimit-reset`."""
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        seconds = _seconds(retry_after)
        if seconds is None:
            try:
                moment = parsedate_to_datetime(retry_after)
            except (TypeError, ValueError):
                moment = None
            if moment is not None:
                seconds = max(0.0, (moment - (now or utc_now())).total_seconds())
        if seconds is not None:
            return seconds
    reset = headers.get("ratelimit-reset")
    return _seconds(reset) if reset is not None else None


def mutation_target_id(mutation: Mutation) -> str | None:
    """The single document id a mutation names, if it names one (not a query, not a list)."""
    if not isinstance(mutation, Mapping) or len(mutation) != 1:
        return None
    ((kind, spec),) = mutation.items()
    if not isinstance(spec, Mapping):
        return None
    target = spec.get("_id") if kind in _CREATES else spec.get("id")
    return target if isinstance(target, str) else None


def _mutation_error(
    error: dict[str, Any], body: dict[str, Any] | None, mutations: Sequence[Mutation]
) -> MutationError | None:
    items = [item for item in error.get("items") or () if isinstance(item, dict)]
    if not items:
        return None
    known = (REVISION_MISMATCH, ALREADY_EXISTS, NOT_FOUND)
    item = next((i for i in items if _item_error(i).get("type") in known), items[0])
    item_error = _item_error(item)
    raw_index = item.get("index")
    #: -1 when Sanity did not say which mutation failed.
    index = raw_index if isinstance(raw_index, int) else -1
    requested = mutation_target_id(mutations[index]) if 0 <= index < len(mutations) else None
    message = _str(item_error.get("description")) or _str(error.get("description")) or ""
    message = f"{MUTATION_ERROR} at mutation {index}: {message}"
    item_type = item_error.get("type")
    if item_type == REVISION_MISMATCH:
        # The item carries no id for this type (only inside the description text), so the
        # id comes from the mutation the request sent at that index.
        return RevisionConflict(
            message,
            index=index,
            document_id=requested,
            current_revision=_str(item_error.get("currentRevisionID")),
            expected_revision=_str(item_error.get("expectedRevisionID")),
            body=body,
        )
    named = _str(item_error.get("id")) or _str(item.get("id"))
    if item_type == ALREADY_EXISTS:
        return DocumentExists(message, index=index, document_id=named or requested, body=body)
    if item_type == NOT_FOUND:
        return DocumentMissing(message, index=index, document_id=named or requested, body=body)
    # An unknown refusal may concern the transaction rather than the mutation's document.
    return MutationError(message, index=index, document_id=named, body=body)


def _item_error(item: dict[str, Any]) -> dict[str, Any]:
    inner = item.get("error")
    return inner if isinstance(inner, dict) else {}


def _message(
    status: int, body: dict[str, Any] | None, error: dict[str, Any], error_type: str | None
) -> str:
    text = _str(error.get("description"))
    if text is None and body:
        # The gateway's own shape: {"statusCode": 401, "error": "Unauthorized", "message": ...}
        text = _str(body.get("message")) or _str(body.get("error"))
    label = f"{status} {error_type}" if error_type else str(status)
    return f"{label}: {text}" if text else label


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        parsed = json.loads(response.content) if response.content else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _seconds(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return max(0.0, value) if value == value else None  # NaN is no answer


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
