"""Reading a request: API version, token, dataset, flags, perspective and JSON bodies."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from starlette.requests import Request

from cms_client.error_bodies import status_body
from cms_client.lake.limits import MAX_BODY_NESTING, LimitExceeded, check_value
from cms_client.server.errors import MAX_BODY_BYTES, Refusal, bad_request, body_too_large
from cms_client.store import Perspective

#: From this API version on, queries default to the `published` perspective (before: `raw`).
PUBLISHED_BY_DEFAULT_SINCE = date(2025, 2, 19)

_VERSION_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_PERSPECTIVES: dict[str, Perspective] = {
    "published": "published",
    "drafts": "drafts",
    "previewDrafts": "drafts",  # Sanity's deprecated alias
    "raw": "raw",
}


@dataclass(frozen=True)
class Admission:
    """An admitted request: its API version, and whether it came without a token."""

    version: str
    anonymous: bool = False


class Gate:
    """Admission of a request to the dataset: API version, bearer token, dataset name.

    On a `public` dataset a request without any Authorization header is admitted to the
    reads that allow it (`anonymous_ok`) as anonymous: it sees published documents only,
    as on Sanity. A wrong token is still 401, and so is anonymous access elsewhere.
    """

    def __init__(self, dataset: str, token: str | None, *, public: bool = False) -> None:
        self.dataset = dataset
        self.public = public
        self._token = token.encode() if token is not None else None

    def admit(self, request: Request, *, anonymous_ok: bool = False) -> Admission:
        """Check version, token and dataset (in that order)."""
        version = cast(str, request.path_params["version"])
        default_perspective(version)
        anonymous = False
        if self._token is not None:
            header = request.headers.get("authorization")
            if header is None and anonymous_ok and self.public:
                anonymous = True
            else:
                scheme, _, credentials = (header or "").partition(" ")
                if scheme.lower() != "bearer" or not credentials.strip():
                    raise Refusal(401, status_body(401, "Missing bearer token"))
                # Constant time, so response timing does not reveal how much of a guess
                # was right.
                if not hmac.compare_digest(credentials.strip().encode(), self._token):
                    raise Refusal(401, status_body(401, "Invalid bearer token"))
        dataset = request.path_params["dataset"]
        if dataset != self.dataset:
            raise Refusal(404, status_body(404, f'Dataset "{dataset}" not found'))
        return Admission(version, anonymous)


def flag(request: Request, name: str, default: bool = False) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise bad_request(f'Query parameter "{name}" must be true or false')


def default_perspective(version: str) -> Perspective:
    """The perspective a query gets without `perspective=`, by API version."""
    if version == "1":
        return "raw"
    if version == "X":
        return "published"
    match = _VERSION_DATE.match(version)
    if match is None:
        raise bad_request(_version_problem(version))
    try:
        pinned = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise bad_request(_version_problem(version)) from None
    return "published" if pinned >= PUBLISHED_BY_DEFAULT_SINCE else "raw"


def _version_problem(version: str) -> str:
    return f'Invalid API version "v{version}": use v1, vX or vYYYY-MM-DD'


def perspective(request: Request, version: str) -> Perspective:
    raw = request.query_params.get("perspective")
    if raw is None or raw == "":
        return default_perspective(version)
    if raw not in _PERSPECTIVES:
        raise bad_request(
            f'Perspective "{raw}" is not supported by the lake '
            "(published, drafts, previewDrafts or raw)"
        )
    return _PERSPECTIVES[raw]


def query_string_params(request: Request) -> dict[str, Any]:
    """The `$name=<JSON>` parameters of a GET query or listen request."""
    params: dict[str, Any] = {}
    for key, raw in request.query_params.multi_items():
        if key.startswith("$"):
            params[key[1:]] = parse_json(raw, f'Parameter "{key}" (strings need quotes)')
    return params


async def json_object(request: Request, *, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The request's JSON object body, refused (400/413 in Sanity's shape) when it is too
    large, not JSON, nested past any document Sanity stores, or holds a lone surrogate."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise body_too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise body_too_large()
        chunks.append(chunk)
    body = parse_json(b"".join(chunks), "Request body")
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object")
    return body


def parse_json(raw: bytes | str, what: str) -> Any:
    """JSON from a stranger: every failure is a 400 naming `what`, never a 500."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise bad_request(f"{what} is nested too deeply") from None
    except ValueError as exc:  # also invalid UTF-8, and integers past 4300 digits
        raise bad_request(f"{what} is not valid JSON ({_reason(exc)})") from None
    try:
        check_value(value, max_nesting=MAX_BODY_NESTING)
    except LimitExceeded as exc:
        raise bad_request(f"{what}: {exc.description}") from None
    return value


def _reason(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8"
    return str(exc).split(";")[0][:120]


def body_flag(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise bad_request(f'"{name}" must be true or false')
    return value
