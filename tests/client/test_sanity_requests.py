"""What SanityClient puts on the wire, and how it reads Sanity's answers."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest
import respx

from cms_client.errors import BadRequest
from cms_client.sanity_client import QUERY_SIZE_LIMIT, SanityClient
from cms_client.store import DocumentStore, Mutation, MutationResultItem
from tests.client.fakes import API, TOKEN, FakeTime, make_settings

DOC = f"{API}/doc/production"


def doc(doc_id: str, **fields: Any) -> dict[str, Any]:
    return {"_id": doc_id, "_type": "product", "_rev": f"rev-{doc_id}", **fields}


def doc_answer(request: httpx.Request) -> httpx.Response:
    """Sanity's /data/doc: every id that starts with 'x' is missing, the rest exist."""
    ids = request.url.path.rsplit("/", 1)[1].split(",")
    return httpx.Response(
        200,
        json={
            "documents": [doc(i) for i in ids if not i.startswith("x")],
            "omitted": [{"id": i, "reason": "existence"} for i in ids if i.startswith("x")],
        },
    )


def ids_of(request: httpx.Request) -> list[str]:
    return request.url.path.rsplit("/", 1)[1].split(",")


async def test_is_a_document_store(client: SanityClient) -> None:
    assert isinstance(client, DocumentStore)
    assert client.kind == "sanity"


async def test_get_documents_reads_the_doc_endpoint_in_request_order(
    client: SanityClient, sanity: respx.MockRouter
) -> None:
    route = sanity.get(path__startswith="/doc/production/").mock(side_effect=doc_answer)

    got = await client.get_documents(["b", "x-missing", "a", "b"])

    assert [d and d["_id"] for d in got] == ["b", None, "a", "b"]
    request = route.calls.last.request
    assert request.url.path == "/v2025-02-19/data/doc/production/b,x-missing,a"
    assert request.url.params["tag"] == "stocksync"
    assert "includeAllVersions" not in request.url.params
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_no_authorization_header_without_token(
    fake_time: FakeTime, sanity: respx.MockRouter
) -> None:
    route = sanity.get(path__startswith="/doc/production/").mock(side_effect=doc_answer)
    async with SanityClient(make_settings(api_token=None), sleep=fake_time.sleep) as store:
        await store.get_documents(["a"])
    assert "authorization" not in route.calls.last.request.headers


async def test_include_all_versions_appends_drafts_and_versions_after_aligned_entries(
    client: SanityClient, sanity: respx.MockRouter
) -> None:
    route = sanity.get(path__startswith="/doc/production/").respond(
        json={
            "documents": [
                doc("versions.summer.p1"),
                doc("drafts.p1"),
                doc("p2"),
                doc("p1"),
            ],
            "omitted": [{"id": "p3", "reason": "existence"}],
        }
    )

    got = await client.get_documents(["p1", "p2", "p3"], include_all_versions=True)

    assert [d and d["_id"] for d in got] == ["p1", "p2", None, "drafts.p1", "versions.summer.p1"]
    assert route.calls.last.request.url.params["includeAllVersions"] == "true"


async def test_get_documents_batches_by_100_and_keeps_order(
    client: SanityClient, sanity: respx.MockRouter
) -> None:
    route = sanity.get(path__startswith="/doc/production/").mock(side_effect=doc_answer)
    ids = [f"p{n}" for n in range(250)] + ["x1"]

    got = await client.get_documents(ids)

    assert [d and d["_id"] for d in got] == [*ids[:-1], None]
    batches = [ids_of(call.request) for call in route.calls]
    assert [len(b) for b in batches] == [100, 100, 51]
    assert [i for b in batches for i in b] == ids


async def test_long_ids_are_batched_to_keep_urls_short(
    client: SanityClient, sanity: respx.MockRouter
) -> None:
    route = sanity.get(path__startswith="/doc/production/").mock(side_effect=doc_answer)
    ids = [f"inventory.{n:03d}.".ljust(128, "a") for n in range(100)]

    got = await client.get_documents(ids)

    assert [d and d["_id"] for d in got] == ids
    assert route.call_count >= 2
    assert all(len(str(call.request.url)) < 8_000 for call in route.calls)


async def test_no_ids_no_request(client: SanityClient, sanity: respx.MockRouter) -> None:
    route = sanity.get(path__startswith="/doc/")
    assert await client.get_documents([]) == []
    assert not route.called


@pytest.mark.parametrize("bad_id", ["a,b", "a/b", "..", "-lead", "x" * 129, ""])
async def test_invalid_ids_are_refused_before_any_request(
    client: SanityClient, sanity: respx.MockRouter, bad_id: str
) -> None:
    route = sanity.get(path__startswith="/doc/")
    with pytest.raises(BadRequest):
        await client.get_documents(["ok", bad_id])
    assert not route.called


async def test_query_get_with_json_params_and_explicit_perspective(
    client: SanityClient, sanity: respx.MockRouter
) -> None:
    route = sanity.get("/query/production").respond(
        json={"query": "...", "result": [{"_id": "p1"}], "ms": 3}
    )

    result = await client.query(
        '*[_type == "product" && sku == $sku && stock > $n && live == $live]',
        {"sku": "A+B&C 1", "n": 3, "live": True, "tags": ["x", None]},
        perspective="raw",
    )

    assert result == [{"_id": "p1"}]
    params = route.calls.last.request.url.params
    assert params["query"] == '*[_type == "product" && sku == $sku && stock > $n && live == $live]'
    assert params["$sku"] == '"A+B&C 1"'
    assert params["$n"] == "3"
    assert params["$live"] == "true"
    assert json.loads(params["$tags"]) == ["x", None]
    assert params["perspective"] == "raw"
    assert params["tag"] == "stocksync"
    assert route.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_query_defaults_to_published_perspective_explicitly(
    client: SanityClient, sanity: respx.MockRouter
) -> None:
    route = sanity.get("/query/production").respond(json={"result": None})
    assert await client.query('*[_id == "nope"][0]') is None
    assert route.calls.last.request.url.params["perspective"] == "published"


async def test_query_switches_from_get_to_post_at_the_size_limit(
    client: SanityClient, sanity: respx.MockRouter
) -> None:
    get = sanity.get("/query/production").respond(json={"result": "via get"})
    post = sanity.post("/query/production").respond(json={"result": "via post"})
    rest = "&perspective=published&returnQuery=false&tag=stocksync"
    longest_get = "a" * (QUERY_SIZE_LIMIT - 1 - len("query=") - len(rest))

    assert await client.query(longest_get) == "via get"
    assert len(get.calls.last.request.url.query) == QUERY_SIZE_LIMIT - 1

    # One more character and the encoded query string reaches the limit: POST.
    assert await client.query(longest_get + "a") == "via post"
    assert json.loads(post.calls.last.request.content) == {"query": longest_get + "a", "params": {}}

    await client.query(longest_get, {"sku": "S-1"}, perspective="drafts")
    request = post.calls.last.request
    assert json.loads(request.content) == {"query": longest_get, "params": {"sku": "S-1"}}
    assert request.url.params["perspective"] == "drafts"
    assert request.url.params["tag"] == "stocksync"
    assert "query" not in request.url.params
    assert get.call_count == 1


async def test_encoding_counts_toward_the_size_limit(
    client: SanityClient, sanity: respx.MockRouter
) -> None:
    sanity.get("/query/production").respond(json={"result": "via get"})
    sanity.post("/query/production").respond(json={"result": "via post"})
    # 4,000 characters that percent-encode to 12,000.
    assert await client.query('"' + "&" * 4_000 + '"') == "via post"


@pytest.mark.parametrize(
    "params", [{"bad-name": 1}, {"$sku": "x"}, {"x": object()}, {"x": float("nan")}]
)
async def test_bad_query_params_are_refused_locally(
    client: SanityClient, sanity: respx.MockRouter, params: dict[str, Any]
) -> None:
    route = sanity.route()
    with pytest.raises(BadRequest):
        await client.query("*[_id == $x]", params)
    assert not route.called


async def test_mutate_sends_options_like_the_js_client(
    client: SanityClient, sanity: respx.MockRouter
) -> None:
    route = sanity.post("/mutate/production").respond(
        json={
            "transactionId": "tx-1",
            "results": [
                {"id": "p1", "operation": "update", "document": doc("p1", stock=4)},
                {"id": "inventory.reservation.cs_1", "operation": "create", "document": None},
                {"id": "gone", "operation": "delete"},
            ],
        }
    )
    mutations: list[Mutation] = [
        {"patch": {"id": "p1", "ifRevisionID": "r1", "dec": {"stock": 1}}},
        {"create": {"_id": "inventory.reservation.cs_1", "_type": "stockReservation"}},
        {"delete": {"id": "gone"}},
    ]

    result = await client.mutate(mutations, transaction_id="tx-1")

    request = route.calls.last.request
    assert request.url.path == "/v2025-02-19/data/mutate/production"
    assert dict(request.url.params) == {
        "returnIds": "true",
        "returnDocuments": "true",
        "visibility": "sync",
        "tag": "stocksync",
    }
    assert json.loads(request.content) == {"mutations": mutations, "transactionId": "tx-1"}
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert result.transaction_id == "tx-1"
    assert result.results == [
        MutationResultItem("p1", "update", doc("p1", stock=4)),
        MutationResultItem("inventory.reservation.cs_1", "create", None),
        MutationResultItem("gone", "delete", None),
    ]
    assert result.documents() == {"p1": doc("p1", stock=4)}


async def test_mutate_optional_flags(client: SanityClient, sanity: respx.MockRouter) -> None:
    route = sanity.post("/mutate/production").respond(json={"transactionId": "t", "results": []})

    await client.mutate(
        [{"delete": {"id": "a"}}], return_documents=False, visibility="async", dry_run=True
    )

    request = route.calls.last.request
    assert dict(request.url.params) == {
        "returnIds": "true",
        "visibility": "async",
        "dryRun": "true",
        "tag": "stocksync",
    }
    assert json.loads(request.content) == {"mutations": [{"delete": {"id": "a"}}]}


async def test_works_through_an_injected_mock_transport(fake_time: FakeTime) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = json.loads(request.content)
        created = body["mutations"][0]["create"]
        return httpx.Response(
            200,
            json={
                "transactionId": body["transactionId"],
                "results": [{"id": created["_id"], "operation": "create", "document": created}],
            },
        )

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    store = SanityClient(make_settings(dataset="staging"), http=http, sleep=fake_time.sleep)
    result = await store.mutate([{"create": {"_id": "a", "_type": "t"}}], transaction_id="tx-9")
    await store.aclose()

    assert result.transaction_id == "tx-9"
    assert result.documents() == {"a": {"_id": "a", "_type": "t"}}
    assert str(seen[0].url).startswith(
        "https://proj1.api.sanity.io/v2025-02-19/data/mutate/staging?"
    )
    # The caller owns an injected client: aclose() leaves it usable.
    assert not http.is_closed
    await http.aclose()


async def test_works_over_asgi_transport_when_api_host_points_at_a_local_server(
    fake_time: FakeTime,
) -> None:
    received: list[MutableMapping[str, Any]] = []

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        received.append(scope)
        body = json.dumps({"documents": [doc("a")], "omitted": []}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    host = "http://127.0.0.1:7070"
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=host)
    store = SanityClient(make_settings(api_host=host), http=http, sleep=fake_time.sleep)

    assert await store.get_documents(["a", "b"]) == [doc("a"), None]

    scope = received[0]
    assert scope["path"] == "/v2025-02-19/data/doc/production/a,b"
    assert dict(scope["headers"])[b"authorization"] == f"Bearer {TOKEN}".encode()
    await http.aclose()
