"""`SanityClient`: the production `DocumentStore`, Sanity's Content Lake over HTTP (httpx).

- Reads by id go to `/data/doc` (strongly consistent), queries to `/data/query` with an
  explicit perspective, writes to `/data/mutate` (one request = one atomic transaction).
- Every request carries the pinned API version, the request tag and, with a token,
  `Authorization: Bearer`. URLs are absolute (`SanitySettings.base_url`), so an injected
  `httpx.AsyncClient` with any transport (respx, `MockTransport`, `ASGITransport` over the
  local lake server) sees exactly what Sanity would.
- Retries (tenacity, with the injected `sleep`): reads retry on `StoreUnavailable` and
  `RateLimited`; a mutation retries on `RateLimited` (a 429 was not applied) and, only when
  the caller says it is idempotent, on `StoreUnavailable`. Waits honour `Retry-After` /
  `ratelimit-reset`, else full-jitter exponential; attempts and total time are bounded by
  the settings, and a retry whose wait would overrun the time budget is not started.
- Mutate requests are paced by a `MutationRateLimiter`: by default the one shared by the
  whole process; a client built with an injected `sleep` or `monotonic` (tests) gets its own
  on that time source, so tests never sleep for real nor share pacing state.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, cast

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type
from tenacity.wait import wait_random_exponential

from cms_client.clock import Clock, utc_now
from cms_client.errors import (
    BadRequest,
    MutationError,
    RateLimited,
    StoreError,
    StoreUnavailable,
)
from cms_client.ids import id_problem, is_published
from cms_client.rate_limit import (
    Monotonic,
    MutationRateLimiter,
    Sleep,
    process_mutation_limiter,
)
from cms_client.sanity_listen import ListenEvent, listen_events
from cms_client.sanity_settings import SanitySettings
from cms_client.store import (
    Document,
    Mutation,
    MutationResult,
    MutationResultItem,
    Operation,
    Perspective,
    Visibility,
)
from cms_client.wire import error_from_response, error_from_transport, unreadable_response

logger = logging.getLogger(__name__)

#: The JS client switches a query to POST once its encoded query string reaches this size.
QUERY_SIZE_LIMIT = 11_264
#: Ids per `/data/doc` request, and a cap on their joined length to keep URLs well short of
#: the ~11 KB that Sanity's GET endpoints take (128-char ids x 100 would not fit).
DOC_BATCH_IDS = 100
DOC_BATCH_CHARS = 7_000

_READ_RETRY: tuple[type[StoreError], ...] = (StoreUnavailable, RateLimited)
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_backoff = wait_random_exponential(multiplier=0.25, min=0.05, max=4.0)


class SanityClient:
    """A Sanity dataset as a `DocumentStore` (see `cms_client.store` for the contract)."""

    kind = "sanity"

    def __init__(
        self,
        settings: SanitySettings,
        *,
        http: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        monotonic: Monotonic = time.monotonic,
        clock: Clock = utc_now,
        limiter: MutationRateLimiter | None = None,
    ) -> None:
        """`http`: a client to send through (not closed by `aclose`); default: an own one.

        `monotonic` and `sleep` drive retry budgets and pacing; `clock` only reads HTTP-date
        `Retry-After` headers.
        """
        self.settings = settings
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=settings.request_timeout_seconds)
        self._sleep = sleep
        self._monotonic = monotonic
        self._clock = clock
        if limiter is None:
            injected_time = sleep is not asyncio.sleep or monotonic is not time.monotonic
            limiter = (
                MutationRateLimiter(settings.mutations_per_second, clock=monotonic, sleep=sleep)
                if injected_time
                else process_mutation_limiter(settings.mutations_per_second)
            )
        self.limiter = limiter
        self._timeout = httpx.Timeout(settings.request_timeout_seconds)
        self._headers = {"Accept": "application/json", "User-Agent": "stocksync-cms-client"}
        if settings.api_token is not None:
            self._headers["Authorization"] = f"Bearer {settings.api_token.get_secret_value()}"

    async def __aenter__(self) -> SanityClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # -- reads -------------------------------------------------------------------------

    async def get_documents(
        self, ids: Sequence[str], *, include_all_versions: bool = False
    ) -> list[Document | None]:
        ids = list(ids)
        for doc_id in ids:
            problem = id_problem(doc_id)
            if problem is not None:
                # Checked here too because ids become URL path segments.
                raise BadRequest(f"{doc_id!r}: {problem}")
        found: dict[str, Document] = {}
        copies: dict[str, Document] = {}
        # One batch after the other: a failure then surfaces as its own typed error.
        for batch in _doc_batches(list(dict.fromkeys(ids))):
            params = self._params()
            if include_all_versions:
                params.append(("includeAllVersions", "true"))
            payload = await self._call(
                "GET",
                self.settings.data_url("doc", ",".join(batch)),
                params=params,
                retry_on=_READ_RETRY,
            )
            requested = set(batch)
            for doc in payload.get("documents") or ():
                got = doc.get("_id") if isinstance(doc, dict) else None
                if not isinstance(got, str):
                    continue
                if got in requested:
                    found[got] = doc
                elif include_all_versions and not is_published(got):
                    copies[got] = doc
        result: list[Document | None] = [found.get(doc_id) for doc_id in ids]
        if include_all_versions:
            result.extend(copies[i] for i in sorted(copies) if i not in found)
        return result

    async def query(
        self,
        groq: str,
        params: Mapping[str, Any] | None = None,
        *,
        perspective: Perspective = "published",
    ) -> Any:
        params = dict(params or {})
        encoded: list[tuple[str, str]] = [("query", groq)]
        for name, value in params.items():
            if not isinstance(name, str) or not _PARAM_NAME.match(name):
                raise BadRequest(f"query parameter name {name!r} is not a GROQ identifier")
            encoded.append((f"${name}", _param_json(name, value)))
        options = [("perspective", perspective), ("returnQuery", "false"), *self._params()]
        url = self.settings.data_url("query")
        get_params = encoded + options
        if len(str(httpx.QueryParams(tuple(get_params)))) < QUERY_SIZE_LIMIT:
            payload = await self._call(
                "GET", url, params=get_params, retry_on=_READ_RETRY, query=groq
            )
        else:
            payload = await self._call(
                "POST",
                url,
                params=options,
                json_body={"query": groq, "params": params},
                retry_on=_READ_RETRY,
                query=groq,
            )
        if "result" not in payload:
            raise StoreUnavailable(f"query answer has no 'result' (keys: {sorted(payload)})")
        return payload["result"]

    # -- writes ------------------------------------------------------------------------

    async def mutate(
        self,
        mutations: Sequence[Mutation],
        *,
        transaction_id: str | None = None,
        return_documents: bool = True,
        visibility: Visibility = "sync",
        dry_run: bool = False,
        idempotent: bool = False,
    ) -> MutationResult:
        mutations = list(mutations)
        # As the JS client sends them: options in the query string, transactionId in the body.
        params: list[tuple[str, str]] = [("returnIds", "true")]
        if return_documents:
            params.append(("returnDocuments", "true"))
        params.append(("visibility", visibility))
        if dry_run:
            params.append(("dryRun", "true"))
        params.extend(self._params())
        body: dict[str, Any] = {"mutations": mutations}
        if transaction_id is not None:
            body["transactionId"] = transaction_id
        # A 429 was refused before anything ran; a 5xx or timeout may have committed, so
        # only a transaction that cannot apply twice (or a dry run, which writes nothing)
        # may be replayed.
        retry_on: tuple[type[StoreError], ...] = (
            (RateLimited, StoreUnavailable) if idempotent or dry_run else (RateLimited,)
        )
        payload = await self._call(
            "POST",
            self.settings.data_url("mutate"),
            params=params,
            json_body=body,
            retry_on=retry_on,
            mutations=mutations,
            throttle=True,
        )
        return _mutation_result(payload)

    # -- listening ---------------------------------------------------------------------

    @property
    def listen_url(self) -> str:
        return self.settings.data_url("listen")

    def listen(
        self, query: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[ListenEvent]:
        """Sanity's listener for `query` (a GROQ filter): one connection's events until the
        server ends it (see `cms_client.sanity_listen`); the caller reconnects."""
        return listen_events(
            self._http,
            self.listen_url,
            query=query,
            params=params,
            headers=self._headers,
            tag=self.settings.request_tag,
        )

    # -- transport ---------------------------------------------------------------------

    def _params(self) -> list[tuple[str, str]]:
        return [("tag", self.settings.request_tag)]

    async def _call(
        self,
        method: str,
        url: str,
        *,
        params: list[tuple[str, str]],
        retry_on: tuple[type[StoreError], ...],
        json_body: dict[str, Any] | None = None,
        mutations: Sequence[Mutation] | None = None,
        query: str | None = None,
        throttle: bool = False,
    ) -> dict[str, Any]:
        started = self._monotonic()
        attempts = self.settings.retry_attempts
        budget = self.settings.retry_max_seconds

        def out_of_budget(state: RetryCallState) -> bool:
            if state.attempt_number >= attempts:
                return True
            return self._monotonic() - started + state.upcoming_sleep > budget

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(retry_on),
            wait=_wait,
            stop=out_of_budget,
            sleep=self._sleep,
            before_sleep=_log_retry,
            reraise=True,
        )
        return await retrying(
            self._attempt, method, url, params, json_body, mutations, query, throttle
        )

    async def _attempt(
        self,
        method: str,
        url: str,
        params: list[tuple[str, str]],
        json_body: dict[str, Any] | None,
        mutations: Sequence[Mutation] | None,
        query: str | None,
        throttle: bool,
    ) -> dict[str, Any]:
        if throttle:
            await self.limiter.acquire()
        try:
            response = await self._http.request(
                method,
                url,
                params=tuple(params),
                json=json_body,
                headers=self._headers,
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            error = error_from_transport(exc, method=method, url=url)
            logger.warning("sanity %s %s: %s", method, url, error.message)
            raise error from exc
        if not response.is_success:
            error = error_from_response(
                response, mutations=mutations, query=query, clock=self._clock
            )
            # Revision conflicts and existing ids are the expected answers of guarded
            # writes; the rest deserves attention, with the trace id Sanity support asks for.
            level = logging.INFO if isinstance(error, MutationError) else logging.WARNING
            logger.log(
                level,
                "sanity %s %s -> %s %s (traceparent=%s)",
                method,
                url,
                response.status_code,
                type(error).__name__,
                error.traceparent,
            )
            raise error
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise unreadable_response(response)
        return payload


def _wait(state: RetryCallState) -> float:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    if isinstance(error, RateLimited):
        if error.retry_after is not None:
            return error.retry_after
        # Sanity's limits are per second: retrying sooner is bound to be refused again.
        return max(1.0, _backoff(state))
    return _backoff(state)


def _log_retry(state: RetryCallState) -> None:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    logger.warning(
        "sanity request failed (attempt %d, %s); retrying in %.2fs (traceparent=%s)",
        state.attempt_number,
        type(error).__name__,
        state.upcoming_sleep,
        getattr(error, "traceparent", None),
    )


def _doc_batches(ids: list[str]) -> list[list[str]]:
    batches: list[list[str]] = []
    current: list[str] = []
    length = 0
    for doc_id in ids:
        if current and (len(current) == DOC_BATCH_IDS or length + len(doc_id) > DOC_BATCH_CHARS):
            batches.append(current)
            current, length = [], 0
        current.append(doc_id)
        length += len(doc_id) + 1
    if current:
        batches.append(current)
    return batches


def _param_json(name: str, value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"query parameter ${name} is not JSON: {exc}") from exc


def _mutation_result(payload: dict[str, Any]) -> MutationResult:
    items: list[MutationResultItem] = []
    for raw in payload.get("results") or ():
        if not isinstance(raw, dict):
            continue
        operation = raw.get("operation")
        document = raw.get("document")
        items.append(
            MutationResultItem(
                id=str(raw.get("id", "")),
                # Passed through as Sanity said it (documented: create|update|delete|none).
                operation=cast(Operation, operation if isinstance(operation, str) else "none"),
                document=document if isinstance(document, dict) else None,
            )
        )
    return MutationResult(transaction_id=str(payload.get("transactionId", "")), results=items)
