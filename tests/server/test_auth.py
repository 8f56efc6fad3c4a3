"""Bearer token check: open without a token, 401 without or with a wrong one."""

from __future__ import annotations

import pytest

from cms_client.lake import Lake
from tests.server.conftest import API, AUTH, TOKEN, mutate

PRODUCT = {"_id": "p1", "_type": "product", "stock": 3}


async def test_without_a_configured_token_the_server_is_open(serve, lake: Lake) -> None:
    client = serve()

    created = await mutate(client, [{"create": PRODUCT}])
    read = await client.get(f"{API}/doc/production/p1")

    assert created.status_code == 200
    assert read.json()["documents"][0]["stock"] == 3


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer "},
        {"Authorization": TOKEN},
    ],
    ids=["missing", "wrong", "prefix", "longer", "basic-scheme", "empty", "no-scheme"],
)
async def test_with_a_token_every_endpoint_refuses_other_credentials(
    serve, lake: Lake, headers: dict[str, str]
) -> None:
    client = serve(token=TOKEN)

    responses = [
        await mutate(client, [{"create": PRODUCT}], headers=headers),
        await client.get(f"{API}/doc/production/p1", headers=headers),
        await client.get(f"{API}/query/production", params={"query": "*"}, headers=headers),
        await client.post(f"{API}/query/production", json={"query": "*"}, headers=headers),
    ]

    for response in responses:
        assert response.status_code == 401
        body = response.json()
        assert body["statusCode"] == 401
        assert body["error"] == "Unauthorized"
        assert "token" in body["message"]
    assert await lake.get_documents(["p1"]) == [None]


async def test_with_the_right_token_requests_go_through(serve) -> None:
    client = serve(token=TOKEN)

    created = await mutate(client, [{"create": PRODUCT}], headers=AUTH)
    read = await client.get(
        f"{API}/doc/production/p1", headers={"authorization": f"bearer {TOKEN}"}
    )

    assert created.status_code == 200
    assert read.status_code == 200
    assert read.json()["documents"][0]["_id"] == "p1"


async def test_the_token_is_checked_before_the_dataset_is_revealed(serve) -> None:
    client = serve(token=TOKEN)

    unauthenticated = await client.get(f"{API}/doc/staging/p1")
    authenticated = await client.get(f"{API}/doc/staging/p1", headers=AUTH)

    assert unauthenticated.status_code == 401
    assert authenticated.status_code == 404
