"""Reading a request: API version, token, dataset, flags, perspective and JSON bodies."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Any, cast

from starlette.requests import Request

from cms_client.error_bodies import status_body
from cms_client.server.errors import Refusal, bad_request, body_too_large
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


class Gate:
    """Admission of a request to the dataset: API version, bearer token, dataset name."""

    def __init__(self, dataset: str, token: str | None) -> None:
        self.dataset = dataset
        self._token = token.encode() if token is not None else None

    def admit(self, request: Request) -> str:
        """Check version, token and dataset (in that order); return the API version."""
        version = cast(str, request.path_params["version"])
        default_perspective(version)
        if self._token is not None:
            scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not credentials.strip():
                raise Refusal(401, status_body(401, "Missing bearer token"))
            # Constant time, so response timing does not reveal how much of a guess was right.
            if not hmac.compare_digest(credentials.strip().encode(), self._token):
                raise Refusal(401, status_body(401, "Invalid bearer token"))
        dataset = request.path_params["dataset"]
        if dataset != self.dataset:
            raise Refusal(404, status_body(404, f'Dataset "{dataset}" not found'))
        return version


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
            try:
                params[key[1:]] = json.loads(raw)
            except ValueError:
                raise bad_request(
                    f'Parameter "{key}" is not valid JSON (strings need quotes)'
                ) from None
    return params


async def json_object(request: Request, *, limit: int | None = None) -> dict[str, Any]:
    raw = await request.body()
    if limit is not None and len(raw) > limit:
        raise body_too_large()
    try:
        body = json.loads(raw)
    except ValueError:
        raise bad_request("Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object")
    return body


def body_flag(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise bad_request(f'"{name}" must be true or false')
    return value
