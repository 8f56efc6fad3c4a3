"""The three endpoints over raw HTTP: Sanity's request options and response bodies."""

from __future__ import annotations

import json

import pytest

from cms_client.lake import Lake
from cms_client.server import MAX_MUTATE_BODY_BYTES
from tests.server.conftest import API, mutate

P1 = {"_id": "p1", "_type": "product", "sku": "A-1", "stock": 3}
P2 = {"_id": "p2", "_type": "product", "sku": "B-2", "stock": 0}


@pytest.fixture
async def stocked(lake: Lake) -> Lake:
    await lake.mutate(
        [{"create": P1}, {"create": P2}, {"create": {**P1, "_id": "drafts.p1", "stock": 9}}]
    )
    return lake


# /data/doc


async def test_doc_returns_found_documents_and_omits_missing_ones(serve, stocked: Lake) -> None:
    client = serve()

    response = await client.get(f"{API}/doc/production/p2,missing,p1")

    assert response.status_code == 200
    body = response.json()
    assert [doc["_id"] for doc in body["documents"]] == ["p2", "p1"]
    assert body["omitted"] == [{"id": "missing", "reason": "existence"}]
    assert body["documents"][1]["sku"] == "A-1"
    assert isinstance(body["documents"][1]["_rev"], str)


async def test_doc_with_all_versions_adds_the_drafts(serve, stocked: Lake) -> None:
    client = serve()

    plain = await client.get(f"{API}/doc/production/p1")
    every = await client.get(f"{API}/doc/production/p1", params={"includeAllVersions": "true"})

    assert [doc["_id"] for doc in plain.json()["documents"]] == ["p1"]
    assert [doc["_id"] for doc in every.json()["documents"]] == ["p1", "drafts.p1"]


async def test_doc_lists_a_repeated_id_once(serve, stocked: Lake) -> None:
    client = serve()

    body = (await client.get(f"{API}/doc/production/p1,p1,nope,nope")).json()

    assert [doc["_id"] for doc in body["documents"]] == ["p1"]
    assert body["omitted"] == [{"id": "nope", "reason": "existence"}]


async def test_doc_refuses_an_empty_id(serve) -> None:
    response = await serve().get(f"{API}/doc/production/p1,,p2")

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "httpBadRequest"


# /data/query


async def test_query_by_get_with_json_encoded_params(serve, stocked: Lake) -> None:
    client = serve()

    response = await client.get(
        f"{API}/query/production",
        params={
            "query": "*[_type == $type && stock >= $min]{_id, sku} | order(_id asc)",
            "$type": json.dumps("product"),
            "$min": "1",
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body["result"] == [{"_id": "p1", "sku": "A-1"}]
    assert body["query"] == "*[_type == $type && stock >= $min]{_id, sku} | order(_id asc)"
    assert isinstance(body["ms"], int)


async def test_query_by_post_with_params_in_the_body(serve, stocked: Lake) -> None:
    client = serve()

    response = await client.post(
        f"{API}/query/production",
        json={"query": "*[sku in $skus]._id", "params": {"skus": ["B-2", "Z"]}},
    )

    assert response.status_code == 200
    assert response.json()["result"] == ["p2"]


async def test_return_query_false_leaves_the_query_out(serve, stocked: Lake) -> None:
    response = await serve().get(
        f"{API}/query/production", params={"query": "count(*)", "returnQuery": "false"}
    )

    assert response.json().keys() == {"result", "ms"}


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"query": "*[sku == $sku]", "$sku": "A-1"}, "$sku"),
        ({"query": "*[sku == $sku]", "$sku": "{oops"}, "$sku"),
        ({}, "Missing query"),
        ({"query": "   "}, "Missing query"),
        ({"query": "*", "perspective": "rel-spring"}, "rel-spring"),
        ({"query": "*", "returnQuery": "maybe"}, "returnQuery"),
    ],
    ids=["unquoted-string", "broken-json", "no-query", "blank-query", "release", "bad-flag"],
)
async def test_bad_query_requests_answer_400(serve, params: dict[str, str], problem: str) -> None:
    response = await serve().get(f"{API}/query/production", params=params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "httpBadRequest"
    assert problem in error["description"]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'["*"]', b'{"query": "*", "params": [1]}', b'{"params": {}}'],
    ids=["broken", "array", "params-array", "no-query"],
)
async def test_bad_query_bodies_answer_400(serve, body: bytes) -> None:
    response = await serve().post(f"{API}/query/production", content=body)

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "httpBadRequest"


@pytest.mark.parametrize(
    ("version", "perspective", "stocks"),
    [
        ("v2025-02-19", None, [3]),
        ("v2021-06-07", None, [3, 9]),
        ("v1", None, [3, 9]),
        ("vX", None, [3]),
        ("v2025-02-19", "raw", [3, 9]),
        ("v2021-06-07", "published", [3]),
        ("v2025-02-19", "drafts", [9]),
        ("v2025-02-19", "previewDrafts", [9]),
    ],
)
async def test_the_default_perspective_follows_the_api_version(
    serve, stocked: Lake, version: str, perspective: str | None, stocks: list[int]
) -> None:
    # The draft of p1 has stock 9, the published p1 has 3.
    params = {"query": '*[sku == "A-1"].stock'}
    if perspective is not None:
        params["perspective"] = perspective

    response = await serve().get(f"/{version}/data/query/production", params=params)

    assert response.status_code == 200
    assert sorted(response.json()["result"]) == stocks


# /data/mutate


async def test_mutate_returns_ids_and_documents_only_when_asked(serve) -> None:
    client = serve()

    bare = await mutate(client, [{"create": P1}], options="")
    ids = await mutate(client, [{"create": P2}], options="returnIds=true")
    full = await mutate(
        client,
        [{"patch": {"id": "p1", "inc": {"stock": 2}}}, {"delete": {"id": "p2"}}],
        options="returnIds=true&returnDocuments=true",
    )

    assert bare.json()["results"] == [{"operation": "create"}]
    assert ids.json()["results"] == [{"id": "p2", "operation": "create"}]
    body = full.json()
    assert isinstance(body["transactionId"], str) and body["transactionId"]
    [patched, deleted] = body["results"]
    assert (patched["id"], patched["operation"], patched["document"]["stock"]) == (
        "p1",
        "update",
        5,
    )
    assert patched["document"]["_rev"] == body["transactionId"]
    assert deleted == {"id": "p2", "operation": "delete"}


@pytest.mark.parametrize("where", ["query", "body"])
async def test_a_chosen_transaction_id_becomes_the_transaction_id(
    serve, lake: Lake, where: str
) -> None:
    client = serve()
    options = "returnIds=true"
    payload: dict[str, object] = {"mutations": [{"create": P1}]}
    if where == "query":
        options += "&transactionId=tx-chosen-1"
    else:
        payload["transactionId"] = "tx-chosen-1"

    response = await client.post(f"{API}/mutate/production?{options}", json=payload)

    assert response.status_code == 200
    assert response.json()["transactionId"] == "tx-chosen-1"


async def test_transaction_ids_that_disagree_are_refused(serve, lake: Lake) -> None:
    response = await serve().post(
        f"{API}/mutate/production?transactionId=tx-a",
        json={"mutations": [{"create": P1}], "transactionId": "tx-b"},
    )

    assert response.status_code == 400
    assert await lake.get_documents(["p1"]) == [None]


@pytest.mark.parametrize("where", ["query", "body"])
async def test_dry_run_answers_as_if_but_writes_nothing(serve, lake: Lake, where: str) -> None:
    client = serve()
    options = "returnIds=true&returnDocuments=true"
    payload: dict[str, object] = {"mutations": [{"create": P1}]}
    if where == "query":
        options += "&dryRun=true"
    else:
        payload["dryRun"] = True

    response = await client.post(f"{API}/mutate/production?{options}", json=payload)

    assert response.status_code == 200
    [result] = response.json()["results"]
    assert (result["id"], result["operation"], result["document"]["sku"]) == (
        "p1",
        "create",
        "A-1",
    )
    assert await lake.get_documents(["p1"]) == [None]


async def test_dry_run_reports_the_error_the_real_run_would_get(serve, stocked: Lake) -> None:
    response = await mutate(serve(), [{"create": P1}], options="dryRun=true")

    assert response.status_code == 409
    item = response.json()["error"]["items"][0]
    assert item["error"]["type"] == "documentAlreadyExistsError"


async def test_auto_generated_array_keys_fill_only_missing_keys(serve) -> None:
    client = serve()
    doc = {
        "_id": "p1",
        "_type": "product",
        "variants": [{"size": "S"}, {"_key": "m", "size": "M"}, "plain"],
        "nested": {"lines": [{"qty": 1, "parts": [{"n": 1}]}]},
    }

    created = await mutate(
        client,
        [{"create": doc}],
        options="autoGenerateArrayKeys=true&returnIds=true&returnDocuments=true",
    )
    inserted = await mutate(
        client,
        [
            {
                "patch": {
                    "id": "p1",
                    "insert": {"after": "variants[-1]", "items": [{"size": "L"}]},
                    "set": {"extras": [{"x": 1}]},
                }
            }
        ],
        options="autoGenerateArrayKeys=true&returnIds=true&returnDocuments=true",
    )

    variants = created.json()["results"][0]["document"]["variants"]
    assert variants[1] == {"_key": "m", "size": "M"}
    assert variants[2] == "plain"
    assert isinstance(variants[0]["_key"], str) and variants[0]["_key"] != "m"
    line = created.json()["results"][0]["document"]["nested"]["lines"][0]
    assert "_key" in line and "_key" in line["parts"][0]
    after = inserted.json()["results"][0]["document"]
    assert "_key" in after["variants"][-1] and after["variants"][-1]["size"] == "L"
    assert "_key" in after["extras"][0]


async def test_without_auto_keys_arrays_are_stored_as_sent(serve) -> None:
    doc = {"_id": "p1", "_type": "product", "variants": [{"size": "S"}]}

    created = await mutate(serve(), [{"create": doc}])

    assert created.json()["results"][0]["document"]["variants"] == [{"size": "S"}]


@pytest.mark.parametrize(
    ("options", "body"),
    [
        ("", b"{nope"),
        ("", b"[]"),
        ("", b'{"mutations": {"create": {}}}'),
        ("", b'{"mutations": ["create"]}'),
        ("", b'{"mutations": []}'),
        ("visibility=later", b'{"mutations": [{"delete": {"id": "x"}}]}'),
        ("returnIds=yes", b'{"mutations": [{"delete": {"id": "x"}}]}'),
        ("", b'{"mutations": [{"delete": {"id": "x"}}], "dryRun": "yes"}'),
        ("", b'{"mutations": [{"delete": {"id": "x"}}], "transactionId": 7}'),
    ],
)
async def test_malformed_mutate_requests_answer_400(serve, options: str, body: bytes) -> None:
    response = await serve().post(f"{API}/mutate/production?{options}", content=body)

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "httpBadRequest"


async def test_a_mutate_body_over_sanitys_limit_is_refused(serve, lake: Lake) -> None:
    padding = "x" * MAX_MUTATE_BODY_BYTES
    response = await mutate(serve(), [{"create": {**P1, "padding": padding}}])

    assert response.status_code == 413
    assert "4000000 bytes" in response.json()["error"]["description"]
    assert await lake.get_documents(["p1"]) == [None]


@pytest.mark.parametrize("visibility", ["sync", "async", "deferred"])
async def test_every_visibility_commits(serve, lake: Lake, visibility: str) -> None:
    response = await mutate(serve(), [{"create": P1}], options=f"visibility={visibility}")

    assert response.status_code == 200
    assert (await lake.get_documents(["p1"]))[0] is not None


# Paths, versions and datasets


@pytest.mark.parametrize(
    "path",
    [
        "/v2025-02-19/data/doc/staging/p1",
        "/v2025-02-19/data/query/staging?query=*",
    ],
)
async def test_an_unknown_dataset_answers_404(serve, path: str) -> None:
    response = await serve().get(path)

    assert response.status_code == 404
    assert response.json() == {
        "statusCode": 404,
        "error": "Not Found",
        "message": 'Dataset "staging" not found',
    }


async def test_unknown_paths_answer_404_as_json(serve) -> None:
    for path in ["/", "/v2025-02-19/data/history/production", "/data/doc/production/p1"]:
        response = await serve().get(path)
        assert response.status_code == 404
        assert response.json()["statusCode"] == 404


async def test_a_wrong_method_answers_405_as_json(serve) -> None:
    response = await serve().get(f"{API}/mutate/production")

    assert response.status_code == 405
    assert response.json()["statusCode"] == 405


@pytest.mark.parametrize("version", ["vfoo", "v2025-13-01", "v2025-2-19", "v2", "vx"])
async def test_a_malformed_api_version_answers_400(serve, version: str) -> None:
    response = await serve().get(f"/{version}/data/doc/production/p1")

    assert response.status_code == 400
    assert version in response.json()["error"]["description"]


@pytest.mark.parametrize("version", ["v1", "vX", "v2021-03-25", "v2025-02-19"])
async def test_wellformed_api_versions_are_served(serve, version: str) -> None:
    response = await serve().get(f"/{version}/data/doc/production/p1")

    assert response.status_code == 200
