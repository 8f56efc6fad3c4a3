"""schemathesis against the lake server's own HTTP API (issue 12 item 3): no 5xx for any
generated request, valid or not, and every refusal in one of Sanity's error shapes.

The lake has no OpenAPI document of its own (Sanity publishes none); `lake_openapi.py`
describes the subset it serves. Every operation is fuzzed with the bearer token, so the
fuzzer reaches the handlers behind the gate, in both generation modes: schema-valid
requests (random GROQ, documents with any JSON in any field, patches) and schema-violating
ones. Bodies the generator does not make (lone surrogates, numbers past 64 bits, nesting
past Sanity's 20 levels, invalid UTF-8) are added to every body route as well.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance
from starlette.applications import Starlette

from cms_client import mutations as m
from cms_client.lake import Lake
from cms_client.server import create_lake_app
from tests.server.conftest import API, AUTH, TOKEN, http_client
from tests.server.lake_openapi import lake_openapi

CONFIG = schemathesis.Config.from_dict({"generation": {"mode": "all"}})

#: Examples per operation and mode: enough to find a crash, bounded for CI (~15 s here).
MAX_EXAMPLES = 40

SEED: list[dict[str, Any]] = [
    {"_id": "prod-railcam", "_type": "product", "title": "Railcam", "stockQuantity": 5},
    {"_id": "drafts.prod-railcam", "_type": "product", "title": "Railcam", "stockQuantity": 5},
    {
        "_id": "prod-tee",
        "_type": "product",
        "title": {"en": "Tee", "de": "T-Shirt"},
        "variants": [{"_key": "v-s", "size": "s", "stockQuantity": 3}],
    },
]


def seeded_lake_app() -> Starlette:
    """Built once at import, like tests/fuzz/app.py: schemathesis drives the app from its own
    event-loop thread; the lake runs its SQLite work on a thread of its own."""
    lake = Lake(None)
    asyncio.run(lake.mutate([m.create(doc) for doc in SEED]))
    return create_lake_app(lake, token=TOKEN)


APP = seeded_lake_app()
schema = schemathesis.openapi.from_dict(lake_openapi(), config=CONFIG)
schema.app = APP


def assert_sanity_error_shape(status: int, content_type: str, content: bytes) -> None:
    """Every non-2xx answer is JSON in one of Sanity's two error shapes."""
    if status < 400:
        return
    assert content_type.startswith("application/json"), content
    body = json.loads(content)
    nested = body.get("error") if isinstance(body, dict) else None
    if isinstance(nested, dict):
        assert isinstance(nested.get("type"), str), body
        assert isinstance(nested.get("description"), str), body
    else:
        assert isinstance(body, dict) and body.get("statusCode") == status, body
        assert isinstance(body.get("message"), str), body


def check_shape(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert_sanity_error_shape(
        response.status_code, response.headers.get("content-type", ""), response.content
    )


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_the_lake_server_answers_every_request_without_a_5xx(
    case: schemathesis.Case[Any],
) -> None:
    response = case.call(headers=AUTH)
    case.validate_response(response, checks=CHECKS)
    assert_sanity_error_shape(
        response.status_code, response.headers.get("content-type", [""])[0], response.content
    )


# -- what the generator does not make ------------------------------------------------------


def _deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


#: A JSON text the generator never writes, and where it goes in a body.
HOSTILE_VALUES = {
    "lone-surrogate": '"\\ud800"',
    "huge-integer": "1" + "0" * 400,
    "past-int64": "9223372036854775808",
    "twenty-one-levels": _deep(21),
    "thousands-deep": "[" * 5000 + "]" * 5000,
    "nul-and-bidi": '"a\\u0000\\u202eb"',
}
ROUTES = {
    "mutate-create": (
        "/mutate/production",
        '{"mutations": [{"create": {"_id": "prod-x", "_type": "product", "v": %s}}]}',
    ),
    "mutate-patch": (
        "/mutate/production",
        '{"mutations": [{"patch": {"id": "prod-railcam", "set": {"v": %s}}}]}',
    ),
    "mutate-params": (
        "/mutate/production",
        '{"mutations": [{"delete": {"query": "*[_id == $x]", "params": {"x": %s}}}]}',
    ),
    "query-params": ("/query/production", '{"query": "$x", "params": {"x": %s}}'),
    "query-text": ("/query/production", '{"query": %s}'),
}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(APP) as http:
        yield http


@pytest.mark.parametrize("value", list(HOSTILE_VALUES))
@pytest.mark.parametrize("route", list(ROUTES))
async def test_hostile_json_on_every_body_route_is_refused_or_served_never_a_5xx(
    client: httpx.AsyncClient, route: str, value: str
) -> None:
    path, template = ROUTES[route]
    body = (template % HOSTILE_VALUES[value]).encode()
    response = await client.post(
        API + path, content=body, headers={**AUTH, "content-type": "application/json"}
    )
    check_shape(response)
    document = route in ("mutate-create", "mutate-patch")
    if document and value in ("huge-integer", "past-int64", "lone-surrogate", "twenty-one-levels"):
        # Sanity's documented limits on what it stores: 64-bit integers, valid Unicode,
        # 20 levels of attributes (a query's params are not stored: 21 levels are fine there).
        assert response.status_code == 400, response.text
    if value == "thousands-deep":
        # Past any document Sanity stores: refused as a body before it is parsed further.
        assert response.status_code == 400, response.text


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"mutations": [{"create": {"_id": "prod-\xff", "_type": "t"}}]}', id="utf8"),
        pytest.param(b'{"mutations": [', id="truncated"),
        pytest.param(b"\xef\xbb\xbf{}", id="bom"),
        pytest.param(b"", id="empty"),
    ],
)
async def test_unparseable_mutate_bodies_are_a_sanity_400(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post(
        f"{API}/mutate/production",
        content=body,
        headers={**AUTH, "content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    check_shape(response)


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(
    ids=st.text(min_size=0, max_size=80),
    query=st.text(min_size=0, max_size=200),
)
def test_any_text_as_ids_or_groq_gets_an_answer_not_a_5xx(ids: str, query: str) -> None:
    """Path and query-string text from a stranger, any Unicode (surrogates excepted: a URL
    cannot carry them)."""

    async def ask() -> list[httpx.Response]:
        async with http_client(APP) as http:
            return [
                await http.get(f"{API}/doc/production/{quote(ids or ',', safe='')}", headers=AUTH),
                await http.get(f"{API}/query/production", params={"query": query}, headers=AUTH),
            ]

    for response in asyncio.run(ask()):
        check_shape(response)


def test_the_description_covers_every_route_but_listen() -> None:
    """A route added to the lake server shows up here, to be described and fuzzed."""
    served = {route.path for route in APP.routes}  # type: ignore[attr-defined]
    described = set(lake_openapi()["paths"])
    assert served - described == {"/v{version}/data/listen/{dataset}"}
