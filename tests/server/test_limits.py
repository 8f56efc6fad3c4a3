"""Sanity's limits on the lake server: a 400 in Sanity's error shape, never a plain-text 500."""

from __future__ import annotations

import json

import httpx
import pytest

from cms_client.lake import Lake
from tests.server.conftest import API, mutate


def _deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def _assert_sanity_400(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error["type"], str) and isinstance(error["description"], str)
    return error  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ('{"_id": "p1", "_type": "t", "n": 100000000000000000000000}', "64-bit"),
        ('{"_id": "p1", "_type": "t", "n": -9223372036854775809}', "64-bit"),
        ('{"_id": "p1", "_type": "t", "s": "\\ud800"}', "Unicode"),
        ('{"_id": "p1", "_type": "t", "\\udfff": 1}', "Unicode"),
        ('{"_id": "p1", "_type": "t", "a": ' + _deep(20) + "}", "20 levels"),
    ],
)
async def test_documents_past_sanitys_limits_are_refused(
    serve, lake: Lake, document: str, named: str
) -> None:
    body = '{"mutations": [{"create": ' + document + "}]}"
    response = await serve().post(
        f"{API}/mutate/production", content=body, headers={"content-type": "application/json"}
    )
    error = _assert_sanity_400(response)
    assert named in str(error["description"])
    assert await lake.get_documents(["p1"]) == [None]


async def test_limits_hold_for_what_patches_build_too(serve, lake: Lake) -> None:
    client = serve()
    await mutate(client, [{"create": {"_id": "p1", "_type": "t", "n": 1}}])
    huge = await mutate(client, [{"patch": {"id": "p1", "set": {"n": 2**64}}}])
    # 19 levels under `a` is fine on its own; set at a.b it becomes 21.
    nested = json.loads(_deep(19))
    await mutate(client, [{"patch": {"id": "p1", "set": {"a": {}}}}])
    deep = await mutate(client, [{"patch": {"id": "p1", "set": {"a.b": nested}}}])
    max_int = await mutate(client, [{"patch": {"id": "p1", "set": {"n": 2**63 - 1}}}])

    _assert_sanity_400(huge)
    error = _assert_sanity_400(deep)
    assert "20 levels" in str(error["description"])
    assert max_int.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"mutations": ' + _deep(5000) + "}",
        '{"query": "*", "params": ' + _deep(10_000) + "}",
        '{"mutations": [{"create": {"_id": "p1", "_type": "t", "n": 1' + "0" * 5000 + "}}]}",
        b'{"mutations": "\xff\xfe"}',
    ],
    ids=["deep-array", "deep-mutations", "deep-params", "5000-digit-int", "invalid-utf8"],
)
@pytest.mark.parametrize("endpoint", ["mutate", "query"])
async def test_hostile_bodies_are_400_in_sanitys_shape(
    serve, body: str | bytes, endpoint: str
) -> None:
    response = await serve().post(
        f"{API}/{endpoint}/production",
        content=body,
        headers={"content-type": "application/json"},
    )
    _assert_sanity_400(response)


async def test_a_huge_body_is_413_even_without_a_content_length(serve) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(50):
            yield b" " * 100_000

    response = await serve().post(f"{API}/query/production", content=chunks())
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "httpPayloadTooLarge"


async def test_a_lone_surrogate_in_a_query_result_is_escaped_not_a_500(serve) -> None:
    response = await serve().post(f"{API}/query/production", json={"query": '"\\ud800"'})
    assert response.status_code in (200, 400)
    json.loads(response.content)  # whatever the answer, it is JSON
