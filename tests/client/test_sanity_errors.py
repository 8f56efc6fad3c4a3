"""Sanity's error answers become the typed errors of cms_client.errors (wire.py)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from cms_client.errors import (
    BadRequest,
    DocumentExists,
    DocumentMissing,
    MutationError,
    QueryError,
    RateLimited,
    RevisionConflict,
    StoreUnavailable,
    Unauthorized,
)
from cms_client.sanity_client import SanityClient
from cms_client.store import Mutation
from cms_client.wire import error_from_body, mutation_target_id, retry_after_seconds
from tests.client.fakes import (
    FakeTime,
    already_exists_body,
    make_settings,
    query_parse_error_body,
    revision_mismatch_body,
)

TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
GUARDED: list[Mutation] = [
    {"create": {"_id": "inventory.reservation.cs_1", "_type": "stockReservation"}},
    {"patch": {"id": "product.p1", "ifRevisionID": "rev-old", "dec": {"stock": 1}}},
]


@pytest.fixture
async def once(fake_time: FakeTime, sanity: respx.MockRouter) -> Any:
    """A client that never retries, so each test sees the first answer's error."""
    store = SanityClient(
        make_settings(retry_attempts=1), sleep=fake_time.sleep, monotonic=fake_time.monotonic
    )
    yield store
    await store.aclose()


async def test_revision_mismatch_is_a_revision_conflict_with_the_guarded_id(
    once: SanityClient, sanity: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    body = revision_mismatch_body("product.p1", "rev-now", "rev-old", index=1)
    sanity.post("/mutate/production").respond(409, json=body, headers={"traceparent": TRACE})

    with (
        caplog.at_level(logging.INFO, logger="cms_client"),
        pytest.raises(RevisionConflict) as caught,
    ):
        await once.mutate(GUARDED)

    error = caught.value
    assert (error.index, error.document_id) == (1, "product.p1")
    assert (error.current_revision, error.expected_revision) == ("rev-now", "rev-old")
    assert error.body == body
    assert error.traceparent == TRACE
    assert TRACE in caplog.text


async def test_create_of_an_existing_id_is_document_exists(
    once: SanityClient, sanity: respx.MockRouter
) -> None:
    sanity.post("/mutate/production").respond(
        409, json=already_exists_body("inventory.reservation.cs_1", index=0)
    )
    with pytest.raises(DocumentExists) as caught:
        await once.mutate(GUARDED)
    assert (caught.value.index, caught.value.document_id) == (0, "inventory.reservation.cs_1")


async def test_patch_of_a_missing_document_is_document_missing(
    once: SanityClient, sanity: respx.MockRouter
) -> None:
    body = {
        "error": {
            "type": "mutationError",
            "description": "Mutation failed: Document not found",
            "items": [
                {
                    "index": 1,
                    "error": {
                        "type": "documentNotFoundError",
                        "description": 'Document "product.p1" not found',
                        "id": "product.p1",
                    },
                }
            ],
        }
    }
    sanity.post("/mutate/production").respond(409, json=body)
    with pytest.raises(DocumentMissing) as caught:
        await once.mutate(GUARDED)
    assert (caught.value.index, caught.value.document_id) == (1, "product.p1")


def test_decided_by_item_type_never_by_message_text() -> None:
    # The words say "already exists"; the type says revision mismatch. The type wins.
    body = revision_mismatch_body("product.p1", "rev-now", "rev-old", index=1)
    body["error"]["items"][0]["error"]["description"] = "Document already exists"
    body["error"]["description"] = "already exists"
    assert isinstance(error_from_body(409, body, {}, mutations=GUARDED), RevisionConflict)


def test_unknown_item_types_are_generic_on_409_and_follow_the_status_otherwise() -> None:
    used = {
        "error": {
            "type": "mutationError",
            "description": 'Mutation failed: Transaction ID "t1" has already been used',
            "items": [
                {
                    "index": 0,
                    "error": {
                        "type": "transactionIdConflictError",
                        "description": 'Transaction ID "t1" has already been used',
                        "transactionId": "t1",
                    },
                }
            ],
        }
    }
    error = error_from_body(409, used, {}, mutations=[{"delete": {"id": "x"}}])
    assert type(error) is MutationError
    # Not about the mutation's document, so no id is made up for it.
    assert (error.index, error.document_id) == (0, None)

    invalid = {
        "error": {
            "type": "mutationError",
            "description": "Mutation failed: invalid id",
            "items": [
                {"index": 0, "error": {"type": "invalidDocumentIdError", "description": "x"}}
            ],
        }
    }
    assert type(error_from_body(400, invalid, {})) is BadRequest
    assert type(error_from_body(503, invalid, {})) is StoreUnavailable


def test_revision_conflict_without_the_mutation_has_no_id() -> None:
    error = error_from_body(409, revision_mismatch_body("p", "a", "b", index=3), {})
    assert isinstance(error, RevisionConflict)
    assert (error.index, error.document_id) == (3, None)


def test_a_mutation_error_dressed_as_5xx_is_still_a_definite_refusal() -> None:
    error = error_from_body(500, already_exists_body("x"), {})
    assert isinstance(error, DocumentExists)


@pytest.mark.parametrize(
    ("mutation", "target"),
    [
        ({"create": {"_id": "a", "_type": "t"}}, "a"),
        ({"createOrReplace": {"_id": "b"}}, "b"),
        ({"patch": {"id": "c", "set": {}}}, "c"),
        ({"delete": {"id": "d"}}, "d"),
        ({"patch": {"query": "*", "set": {}}}, None),
        ({"delete": {"id": ["e", "f"]}}, None),
        ({"create": {"_type": "t"}}, None),
    ],
)
def test_mutation_target_id(mutation: dict[str, Any], target: str | None) -> None:
    assert mutation_target_id(mutation) == target


async def test_query_parse_error_is_a_query_error_with_position(
    once: SanityClient, sanity: respx.MockRouter
) -> None:
    sanity.get("/query/production").respond(400, json=query_parse_error_body())
    with pytest.raises(QueryError) as caught:
        await once.query('*[_type == "event]')
    assert caught.value.position == 11
    assert caught.value.query == '*[_type == "event]'
    assert isinstance(caught.value, BadRequest)


def test_query_parse_error_without_position_keeps_the_sent_query() -> None:
    body = {"error": {"type": "queryParseError", "description": "param $now referenced"}}
    error = error_from_body(400, body, {}, query="*[t < $now]")
    assert isinstance(error, QueryError)
    assert (error.position, error.query) == (None, "*[t < $now]")


async def test_429_is_rate_limited_with_retry_after(
    once: SanityClient, sanity: respx.MockRouter
) -> None:
    sanity.get(path__startswith="/doc/").respond(
        429, json={"error": {"description": "slow down"}}, headers={"Retry-After": "3"}
    )
    with pytest.raises(RateLimited) as caught:
        await once.get_documents(["a"])
    assert caught.value.retry_after == 3.0


def test_retry_after_sources() -> None:
    now = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds({"retry-after": "1.5"}) == 1.5
    assert retry_after_seconds({"ratelimit-reset": "1"}) == 1.0
    assert retry_after_seconds({"retry-after": "2", "ratelimit-reset": "9"}) == 2.0
    assert retry_after_seconds({"retry-after": "Sat, 21 Nov 2026 12:00:07 GMT"}, now) == 7.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_failures_are_unauthorized(
    once: SanityClient, sanity: respx.MockRouter, status: int
) -> None:
    # The gateway's own body shape, where `error` is a string.
    sanity.post("/mutate/production").respond(
        status, json={"statusCode": status, "error": "Unauthorized", "message": "bad token"}
    )
    with pytest.raises(Unauthorized, match="bad token"):
        await once.mutate(GUARDED)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (500, {"error": {"description": "Internal"}}, StoreUnavailable),
        (502, None, StoreUnavailable),
        (503, {"error": {"type": "mutationError", "description": "busy"}}, StoreUnavailable),
        (400, {"error": {"type": "validationError", "description": "bad mutation"}}, BadRequest),
        (404, {"error": {"description": "Dataset not found"}}, BadRequest),
        (409, {"error": {"type": "mutationError", "items": []}}, BadRequest),
        (413, {"error": {"description": "Request body exceeds limit"}}, BadRequest),
    ],
)
async def test_status_classes(
    once: SanityClient,
    sanity: respx.MockRouter,
    status: int,
    body: dict[str, Any] | None,
    expected: type[Exception],
) -> None:
    response = httpx.Response(status, json=body) if body else httpx.Response(status, text="<html>")
    sanity.post("/mutate/production").mock(return_value=response)
    with pytest.raises(expected) as caught:
        await once.mutate(GUARDED)
    assert type(caught.value) is expected


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut")],
)
async def test_transport_failures_are_store_unavailable(
    once: SanityClient, sanity: respx.MockRouter, failure: Exception
) -> None:
    sanity.get(path__startswith="/doc/").mock(side_effect=failure)
    with pytest.raises(StoreUnavailable) as caught:
        await once.get_documents(["a"])
    assert caught.value.__cause__ is failure


async def test_unreadable_success_body_is_store_unavailable(
    once: SanityClient, sanity: respx.MockRouter
) -> None:
    sanity.post("/mutate/production").respond(200, text="<html>gateway</html>")
    with pytest.raises(StoreUnavailable):
        await once.mutate(GUARDED)
