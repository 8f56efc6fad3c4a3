"""Issue 12 item 3: every route with a body, sent deep, huge and odd-unicode payloads with
valid credentials (staff, cron, storefront, Stripe and Sanity signatures over the exact
bytes), answers without a 5xx and in the one error shape.

schemathesis (`test_openapi_fuzz`) generates bodies from the schema; these are the bodies
a schema does not describe: nesting thousands deep, numbers of hundreds of digits, lone
UTF-16 surrogates, NULs, right-to-left marks and emoji in every string, and very long
strings, each wrapped around a valid body of the route.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.app import seeded_app
from tests.fuzz.credentials import headers_for

ODD_TEXT = st.sampled_from(
    ["\u0000", "\u202e", "\U0001f600", "\ufeff", "\u00e9" * 300, "a" * 5000, "<!channel>", ""]
)


def _routes(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    """(method, path with example parameters, security schemes) of every body route."""
    found = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            if method not in ("post", "put", "patch"):
                continue
            schemes = [name for req in operation.get("security", []) for name in req]
            found.append((method.upper(), path.replace("{session_id}", "cs_fuzz_paid"), schemes))
    return sorted(found)


ROUTES = _routes(seeded_app())


@pytest.fixture
def app() -> FastAPI:
    return seeded_app()  # seeds with asyncio.run: outside the test's event loop


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app, raise_app_exceptions=False),
            base_url="http://stocksync.test",
        ) as opened,
    ):
        yield opened


@st.composite
def hostile_bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["deep", "huge", "surrogate", "unicode", "deep-string"]))
    base: dict[str, Any] = {"sessionId": "cs_x", "productId": "railcam", "quantity": 1}
    if kind == "deep":
        depth = draw(st.integers(min_value=65, max_value=20_000))
        opener = draw(st.sampled_from(["[", '{"a":']))
        closer = "]" if opener == "[" else "}"
        return (opener * depth + "1" + closer * depth).encode()
    if kind == "huge":
        digits = draw(st.integers(min_value=41, max_value=5000))
        field = draw(st.sampled_from(["quantity", "delta", "setTo", "amount", "x"]))
        return json.dumps(base)[:-1].encode() + f', "{field}": 1{"0" * digits}}}'.encode()
    if kind == "surrogate":
        unit = draw(st.integers(min_value=0xD800, max_value=0xDFFF))
        return json.dumps({**base, "sessionId": "x"}).replace('"x"', f'"\\u{unit:04x}"').encode()
    if kind == "deep-string":
        return json.dumps({**base, "note": "[" * 5000}).encode()
    text = draw(ODD_TEXT)
    return json.dumps(
        {**base, "sessionId": text, "productId": text, "note": text, "_id": text},
        ensure_ascii=draw(st.booleans()),
    ).encode()


@pytest.mark.parametrize(("method", "path", "schemes"), ROUTES)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=hostile_bodies())
async def test_hostile_payloads_never_get_a_5xx(
    client: httpx.AsyncClient, method: str, path: str, schemes: list[str], body: bytes
) -> None:
    headers = {"content-type": "application/json", **headers_for(schemes, body)}
    response = await client.request(method, path, content=body, headers=headers)
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    if response.status_code >= 400:
        answer = response.json()
        assert answer["success"] is False and answer["code"], answer
        assert response.json()["code"] not in ("internal_error", "http_error"), answer
