"""A Sanity-compatible HTTP server over a `DocumentStore` (normally the embedded `Lake`).

It speaks the three Content Lake endpoints stocksync uses (`/data/doc`, `/data/query`,
`/data/mutate`) with Sanity's options, response bodies and error bodies, so `SanityClient`
pointed at it (`SANITY_API_HOST`) behaves as it does against the real API. Several local
processes share one lake file through it, and tests drive the production client against it
in-process. It can also imitate production trouble on purpose: latency, 500s, 429s, a mutate
rate limit and answers lost after the commit (`cms_client.faults`).

Built on plain Starlette: `cms_client` must not depend on the service's FastAPI app.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from http import HTTPStatus
from pathlib import Path
from typing import Any, cast

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms_client.errors import (
    BadRequest,
    MutationError,
    QueryError,
    RateLimited,
    StoreError,
    StoreUnavailable,
    Unauthorized,
)
from cms_client.faults import Fault, FaultPlan, RequestRateLimit
from cms_client.store import DocumentStore, Perspective, Visibility

Sleep = Callable[[float], Awaitable[None]]

#: Sanity refuses larger mutate bodies ("Request body exceeds limit of 4000000 bytes").
MAX_MUTATE_BODY_BYTES = 4_000_000
#: From this API version on, queries default to the `published` perspective (before: `raw`).
PUBLISHED_BY_DEFAULT_SINCE = date(2025, 2, 19)

_VERSION_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_ENDPOINT_PATH = re.compile(r"^/v[^/]+/data/(doc|query|mutate)/")
_PERSPECTIVES: dict[str, Perspective] = {
    "published": "published",
    "drafts": "drafts",
    "previewDrafts": "drafts",  # Sanity's deprecated alias
    "raw": "raw",
}
_VISIBILITIES: tuple[Visibility, ...] = ("sync", "async", "deferred")


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised by the app to cut the connection after the response has started.

    Under uvicorn this closes the socket mid-response, so a client sees a protocol error.
    Under `httpx.ASGITransport` the exception itself reaches the client, and being an httpx
    transport error it looks exactly like the dropped connection it stands for.
    """


class _Refusal(Exception):
    """An HTTP error answer decided before or instead of calling the store."""

    def __init__(
        self, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


# Error bodies. Content Lake errors nest an object under "error"; gateway-level errors
# (auth, not found, throttling, 5xx) use the `{statusCode, error, message}` style, which the
# official client also understands.


def status_body(status: int, message: str) -> dict[str, Any]:
    return {"statusCode": status, "error": HTTPStatus(status).phrase, "message": message}


def bad_request_body(description: str) -> dict[str, Any]:
    return {"error": {"description": description, "type": "httpBadRequest"}}


def query_error_body(exc: QueryError, query: str) -> dict[str, Any]:
    """Sanity's 400 body for a GROQ error: `{"error": {type: "queryParseError", ...}}`."""
    if exc.body is not None:
        return exc.body
    text = exc.query or query
    error: dict[str, Any] = {"description": exc.message, "type": "queryParseError", "query": text}
    if exc.position is not None:
        error["start"] = exc.position
        # The span covers the construct when it is the query's own text ("->", "match").
        construct = exc.construct or ""
        spans = bool(construct) and text.startswith(construct, exc.position)
        error["end"] = exc.position + (len(construct) if spans else 1)
    if exc.construct is not None:
        # Not a Sanity field: names what the lake's GROQ subset refused (`SanityClient` reads it).
        error["construct"] = exc.construct
    return {"error": error}


def mutation_error_body(exc: MutationError) -> dict[str, Any]:
    if exc.body is not None:
        return exc.body
    item: dict[str, Any] = {"description": exc.message, "type": "mutationError"}
    if exc.document_id is not None:
        item["id"] = exc.document_id
    return {
        "error": {
            "type": "mutationError",
            "description": f"Mutation failed: {exc.message}",
            "items": [{"index": exc.index, "error": item}],
        }
    }


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def _store_error_response(exc: StoreError, query: str = "") -> JSONResponse:
    if isinstance(exc, MutationError):
        return _json(409, mutation_error_body(exc))
    if isinstance(exc, QueryError):
        return _json(400, query_error_body(exc, query))
    if isinstance(exc, BadRequest):
        return _json(400, exc.body or bad_request_body(exc.message))
    if isinstance(exc, RateLimited):
        retry = math.ceil(exc.retry_after) if exc.retry_after is not None else 1
        headers = {"Retry-After": str(retry)}
        return _json(429, exc.body or status_body(429, exc.message), headers)
    if isinstance(exc, Unauthorized):
        return _json(401, exc.body or status_body(401, exc.message))
    if isinstance(exc, StoreUnavailable):
        return _json(503, exc.body or status_body(503, exc.message))
    return _json(500, exc.body or status_body(500, exc.message))


def _flag(request: Request, name: str, default: bool = False) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise _Refusal(400, bad_request_body(f'Query parameter "{name}" must be true or false'))


def _default_perspective(version: str) -> Perspective:
    """The perspective a query gets without `perspective=`, by API version."""
    if version == "1":
        return "raw"
    if version == "X":
        return "published"
    match = _VERSION_DATE.match(version)
    if match is None:
        raise _Refusal(400, bad_request_body(_version_problem(version)))
    try:
        pinned = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise _Refusal(400, bad_request_body(_version_problem(version))) from None
    return "published" if pinned >= PUBLISHED_BY_DEFAULT_SINCE else "raw"


def _version_problem(version: str) -> str:
    return f'Invalid API version "v{version}": use v1, vX or vYYYY-MM-DD'


def _add_array_keys(value: Any) -> Any:
    """`autoGenerateArrayKeys`: give every object inside an array a `_key` if it lacks one."""
    if isinstance(value, list):
        return [
            {"_key": secrets.token_hex(6), **_add_array_keys(item)}
            if isinstance(item, dict) and "_key" not in item
            else _add_array_keys(item)
            for item in value
        ]
    if isinstance(value, dict):
        return {key: _add_array_keys(item) for key, item in value.items()}
    return value


def _mutations_with_array_keys(mutations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keyed: list[dict[str, Any]] = []
    for mutation in mutations:
        changed: dict[str, Any] = {}
        for kind, spec in mutation.items():
            if kind in ("create", "createIfNotExists", "createOrReplace"):
                changed[kind] = _add_array_keys(spec)
            elif kind == "patch" and isinstance(spec, dict):
                patch = dict(spec)
                for op in ("set", "setIfMissing"):
                    if isinstance(patch.get(op), dict):
                        patch[op] = {path: _add_array_keys(v) for path, v in patch[op].items()}
                insert = patch.get("insert")
                if isinstance(insert, dict) and isinstance(insert.get("items"), list):
                    patch["insert"] = {**insert, "items": _add_array_keys(insert["items"])}
                changed[kind] = patch
            else:
                changed[kind] = spec
        keyed.append(changed)
    return keyed


class _LakeApi:
    def __init__(self, store: DocumentStore, dataset: str, token: str | None) -> None:
        self.store = store
        self.dataset = dataset
        self._token = token.encode() if token is not None else None

    def _admit(self, request: Request) -> str:
        """Check version, token and dataset (in that order); return the API version."""
        version = cast(str, request.path_params["version"])
        _default_perspective(version)
        if self._token is not None:
            scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not credentials.strip():
                raise _Refusal(401, status_body(401, "Missing bearer token"))
            # Constant time, so response timing does not reveal how much of a guess was right.
            if not hmac.compare_digest(credentials.strip().encode(), self._token):
                raise _Refusal(401, status_body(401, "Invalid bearer token"))
        dataset = request.path_params["dataset"]
        if dataset != self.dataset:
            raise _Refusal(404, status_body(404, f'Dataset "{dataset}" not found'))
        return version

    async def doc(self, request: Request) -> Response:
        self._admit(request)
        requested = cast(str, request.path_params["ids"]).split(",")
        if any(not doc_id for doc_id in requested):
            raise _Refusal(400, bad_request_body("Document ids must be non-empty"))
        ids = list(dict.fromkeys(requested))
        found = await self.store.get_documents(
            ids, include_all_versions=_flag(request, "includeAllVersions")
        )
        documents = [doc for doc in found if doc is not None]
        omitted = [
            {"id": doc_id, "reason": "existence"}
            for doc_id, doc in zip(ids, found, strict=False)
            if doc is None
        ]
        return _json(200, {"documents": documents, "omitted": omitted})

    async def query(self, request: Request) -> Response:
        version = self._admit(request)
        if request.method == "POST":
            body = await _json_object(request)
            query = body.get("query")
            params = body.get("params", {})
            if params is None:
                params = {}
            if not isinstance(params, dict):
                raise _Refusal(400, bad_request_body('"params" must be an object'))
        else:
            query = request.query_params.get("query")
            params = {}
            for key, raw in request.query_params.multi_items():
                if key.startswith("$"):
                    try:
                        params[key[1:]] = json.loads(raw)
                    except ValueError:
                        raise _Refusal(
                            400,
                            bad_request_body(
                                f'Parameter "{key}" is not valid JSON (strings need quotes)'
                            ),
                        ) from None
        if not isinstance(query, str) or not query.strip():
            raise _Refusal(400, bad_request_body("Missing query"))
        perspective = self._perspective(request, version)
        started = time.perf_counter()
        try:
            result = await self.store.query(query, params, perspective=perspective)
        except StoreError as exc:
            return _store_error_response(exc, query)
        answer: dict[str, Any] = {
            "query": query,
            "result": result,
            "ms": round((time.perf_counter() - started) * 1000),
        }
        if not _flag(request, "returnQuery", default=True):
            del answer["query"]
        return _json(200, answer)

    @staticmethod
    def _perspective(request: Request, version: str) -> Perspective:
        raw = request.query_params.get("perspective")
        if raw is None or raw == "":
            return _default_perspective(version)
        if raw not in _PERSPECTIVES:
            raise _Refusal(
                400,
                bad_request_body(
                    f'Perspective "{raw}" is not supported by the lake '
                    "(published, drafts, previewDrafts or raw)"
                ),
            )
        return _PERSPECTIVES[raw]

    async def mutate(self, request: Request) -> Response:
        self._admit(request)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_MUTATE_BODY_BYTES:
            raise _body_too_large()
        body = await _json_object(request, limit=MAX_MUTATE_BODY_BYTES)
        mutations = body.get("mutations")
        if not isinstance(mutations, list) or not all(isinstance(m, dict) for m in mutations):
            raise _Refusal(400, bad_request_body('"mutations" must be an array of objects'))
        if not mutations:
            raise _Refusal(400, bad_request_body("No mutations given"))
        visibility = request.query_params.get("visibility") or "sync"
        if visibility not in _VISIBILITIES:
            raise _Refusal(
                400, bad_request_body('"visibility" must be one of sync, async, deferred')
            )
        dry_run = _flag(request, "dryRun") or _body_flag(body, "dryRun")
        return_ids = _flag(request, "returnIds")
        return_documents = _flag(request, "returnDocuments")
        transaction_id = _transaction_id(request, body)
        if _flag(request, "autoGenerateArrayKeys"):
            mutations = _mutations_with_array_keys(mutations)
        result = await self.store.mutate(
            mutations,
            transaction_id=transaction_id,
            return_documents=return_documents,
            visibility=visibility,
            dry_run=dry_run,
        )
        results: list[dict[str, Any]] = []
        for item in result.results:
            entry: dict[str, Any] = {}
            if return_ids:
                entry["id"] = item.id
            entry["operation"] = item.operation
            if return_documents and item.document is not None:
                entry["document"] = item.document
            results.append(entry)
        return _json(200, {"transactionId": result.transaction_id, "results": results})


def _body_too_large() -> _Refusal:
    return _Refusal(
        413,
        {
            "error": {
                "description": f"Request body exceeds limit of {MAX_MUTATE_BODY_BYTES} bytes",
                "type": "httpPayloadTooLarge",
            }
        },
    )


async def _json_object(request: Request, *, limit: int | None = None) -> dict[str, Any]:
    raw = await request.body()
    if limit is not None and len(raw) > limit:
        raise _body_too_large()
    try:
        body = json.loads(raw)
    except ValueError:
        raise _Refusal(400, bad_request_body("Request body is not valid JSON")) from None
    if not isinstance(body, dict):
        raise _Refusal(400, bad_request_body("Request body must be a JSON object"))
    return body


def _body_flag(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise _Refusal(400, bad_request_body(f'"{name}" must be true or false'))
    return value


def _transaction_id(request: Request, body: Mapping[str, Any]) -> str | None:
    """`transactionId` from the query string or the JSON body (the JS client uses the body)."""
    in_query = request.query_params.get("transactionId") or None
    in_body = body.get("transactionId")
    if in_body is not None and (not isinstance(in_body, str) or not in_body):
        raise _Refusal(400, bad_request_body('"transactionId" must be a non-empty string'))
    if in_query is not None and in_body is not None and in_query != in_body:
        # Which one Sanity prefers is unknown; refusing beats guessing.
        raise _Refusal(400, bad_request_body("transactionId differs between query string and body"))
    return in_query or in_body


class _ProductionConditions:
    """ASGI middleware: injected latency, the mutate rate limit and planned faults."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        latency_s: float,
        sleep: Sleep,
        faults: FaultPlan | None,
        rate_limit: RequestRateLimit | None,
    ) -> None:
        self.app = app
        self.latency_s = latency_s
        self.sleep = sleep
        self.faults = faults
        self.rate_limit = rate_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.latency_s > 0:
            await self.sleep(self.latency_s)
        match = _ENDPOINT_PATH.match(scope["path"])
        endpoint = match[1] if match else None
        headers: dict[str, str] = {}
        if endpoint == "mutate" and self.rate_limit is not None:
            client = scope.get("client")
            host = client[0] if client else "unknown"
            wait = self.rate_limit.admit(host)
            limit = str(math.floor(self.rate_limit.capacity))
            if wait is not None:
                retry = str(max(1, math.ceil(wait)))
                body = status_body(429, "Mutation rate limit exceeded")
                limited = {"Retry-After": retry, "ratelimit-limit": limit, "ratelimit-reset": retry}
                await _json(429, body, limited)(scope, receive, send)
                return
            headers = {
                "ratelimit-limit": limit,
                "ratelimit-remaining": str(self.rate_limit.remaining(host)),
            }
        fault = self.faults.decide(endpoint) if self.faults is not None and endpoint else None
        if fault is Fault.SERVER_ERROR:
            await _json(500, status_body(500, "Injected server error"))(scope, receive, send)
        elif fault is Fault.RATE_LIMITED:
            assert self.faults is not None
            retry = str(self.faults.retry_after_seconds)
            body = status_body(429, "Injected rate limit")
            await _json(429, body, {"Retry-After": retry})(scope, receive, send)
        elif fault in (Fault.COMMIT_THEN_ERROR, Fault.COMMIT_THEN_DROP):
            await self.app(scope, receive, _discard)
            if fault is Fault.COMMIT_THEN_ERROR:
                body = status_body(500, "Injected server error after commit")
                await _json(500, body)(scope, receive, send)
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            raise ConnectionDropped("the lake server dropped the connection after committing")
        elif headers:
            await self.app(scope, receive, _with_headers(send, headers))
        else:
            await self.app(scope, receive, send)


async def _discard(message: Message) -> None:
    return None


def _with_headers(send: Send, headers: Mapping[str, str]) -> Send:
    extra = [(name.encode(), value.encode()) for name, value in headers.items()]

    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sender


async def _refusal_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _Refusal)
    return _json(exc.status, exc.body, exc.headers)


async def _store_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StoreError)
    return _store_error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "Not found" if exc.status_code == 404 else str(exc.detail)
    return _json(exc.status_code, status_body(exc.status_code, message), exc.headers)


def create_lake_app(
    lake: DocumentStore,
    *,
    dataset: str = "production",
    token: str | None = None,
    latency_ms: float = 0,
    faults: FaultPlan | None = None,
    sleep: Sleep = asyncio.sleep,
    mutate_rate_limit: float | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The Sanity-compatible ASGI app over `lake`.

    `token`: when set, every request needs `Authorization: Bearer <token>` (else 401).
    `latency_ms`: slept (with `sleep`) before each request. `faults`: planned failures.
    `mutate_rate_limit`: mutate requests per second per client IP before 429s (Sanity: ~25).
    The app does not close `lake`; whoever opened it does.
    """
    if latency_ms < 0:
        raise ValueError("latency_ms must not be negative")
    api = _LakeApi(lake, dataset, token)
    rate_limit = (
        RequestRateLimit(mutate_rate_limit, monotonic=monotonic)
        if mutate_rate_limit is not None
        else None
    )
    return Starlette(
        routes=[
            Route("/v{version}/data/doc/{dataset}/{ids}", api.doc, methods=["GET"]),
            Route("/v{version}/data/query/{dataset}", api.query, methods=["GET", "POST"]),
            Route("/v{version}/data/mutate/{dataset}", api.mutate, methods=["POST"]),
        ],
        middleware=[
            Middleware(
                _ProductionConditions,
                latency_s=latency_ms / 1000,
                sleep=sleep,
                faults=faults,
                rate_limit=rate_limit,
            )
        ],
        exception_handlers={
            _Refusal: _refusal_response,
            StoreError: _store_error,
            HTTPException: _http_error,
        },
    )


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one (read it from `getsockname()`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


async def serve_lake(
    data_path: str | Path | None,
    *,
    host: str = "127.0.0.1",
    port: int = 7070,
    dataset: str = "production",
    token: str | None = None,
    latency_ms: float = 0,
    faults: FaultPlan | None = None,
    mutate_rate_limit: float | None = None,
    log_level: str = "info",
    sock: socket.socket | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Open the lake at `data_path` (None: in memory) and serve it until stopped.

    `sock` serves on an already bound socket instead of `host`/`port`; setting `stop` shuts
    the server down gracefully. The lake is closed on the way out.
    """
    from cms_client.lake import Lake  # the lake pulls in SQLite; only the server command needs it

    lake = Lake(data_path, dataset=dataset)
    try:
        app = create_lake_app(
            lake,
            dataset=dataset,
            token=token,
            latency_ms=latency_ms,
            faults=faults,
            mutate_rate_limit=mutate_rate_limit,
        )
        server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="off")
        )
        watcher: asyncio.Task[None] | None = None
        if stop is not None:
            watcher = asyncio.create_task(_stop_when_set(stop, server))
        try:
            await server.serve(sockets=[sock] if sock is not None else None)
        finally:
            if watcher is not None:
                watcher.cancel()
    finally:
        await lake.aclose()


async def _stop_when_set(stop: asyncio.Event, server: uvicorn.Server) -> None:
    await stop.wait()
    server.should_exit = True


def run_lake_server(
    data_path: str | Path | None,
    host: str = "127.0.0.1",
    port: int = 7070,
    dataset: str = "production",
    token: str | None = None,
    latency_ms: float = 0,
    *,
    faults: FaultPlan | None = None,
    mutate_rate_limit: float | None = None,
    log_level: str = "info",
) -> None:
    """Blocking entry point for `stocksync lake serve`."""
    asyncio.run(
        serve_lake(
            data_path,
            host=host,
            port=port,
            dataset=dataset,
            token=token,
            latency_ms=latency_ms,
            faults=faults,
            mutate_rate_limit=mutate_rate_limit,
            log_level=log_level,
        )
    )
