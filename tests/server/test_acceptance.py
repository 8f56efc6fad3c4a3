"""Issue 2's acceptance checks, over HTTP with raw httpx against a token-protected server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from cms_client.errors import StoreError
from cms_client.lake import Lake
from tests.server.conftest import API, AUTH, TOKEN, mutate

COUNTER = {"_id": "inventory.sku-1", "_type": "stockLevel", "sku": "SKU-1", "onHand": 10}


@pytest.fixture
def client(serve: Callable[..., httpx.AsyncClient]) -> httpx.AsyncClient:
    return serve(token=TOKEN)


async def refusal_from_lake(lake: Lake, mutations: list[dict[str, Any]]) -> StoreError:
    """What the lake itself raises for `mutations` (the server must render its body as is)."""
    with pytest.raises(StoreError) as caught:
        await lake.mutate(mutations)
    return caught.value


async def test_a_stale_if_revision_id_answers_409_with_sanitys_body(client, lake: Lake) -> None:
    created = await mutate(client, [{"create": COUNTER}], headers=AUTH)
    first_rev = created.json()["results"][0]["document"]["_rev"]
    moved = await mutate(
        client, [{"patch": {"id": COUNTER["_id"], "dec": {"onHand": 1}}}], headers=AUTH
    )
    current_rev = moved.json()["results"][0]["document"]["_rev"]
    stale = [{"patch": {"id": COUNTER["_id"], "ifRevisionID": first_rev, "dec": {"onHand": 1}}}]

    response = await mutate(client, stale, headers=AUTH)

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["type"] == "mutationError"
    assert error["description"] == (
        f'Mutation failed: Document "{COUNTER["_id"]}" has unexpected revision ID '
        f'("{current_rev}"), expected "{first_rev}"'
    )
    [item] = error["items"]
    assert item["index"] == 0
    assert item["error"]["type"] == "documentRevisionIDDoesNotMatchError"
    assert item["error"]["currentRevisionID"] == current_rev
    assert item["error"]["expectedRevisionID"] == first_rev
    assert response.json() == (await refusal_from_lake(lake, stale)).body
    [stored] = (await client.get(f"{API}/doc/production/{COUNTER['_id']}", headers=AUTH)).json()[
        "documents"
    ]
    assert stored["onHand"] == 9


async def test_create_of_an_existing_id_answers_409_already_exists(client, lake: Lake) -> None:
    await mutate(client, [{"create": COUNTER}], headers=AUTH)
    again = [{"create": {**COUNTER, "_id": "other"}}, {"create": {**COUNTER, "onHand": 0}}]

    response = await mutate(client, again, headers=AUTH)

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["type"] == "mutationError"
    [item] = error["items"]
    assert item["index"] == 1
    assert item["error"]["type"] == "documentAlreadyExistsError"
    assert item["error"]["id"] == COUNTER["_id"]
    assert response.json() == (await refusal_from_lake(lake, again)).body


async def test_a_transaction_with_one_failing_mutation_writes_nothing(client, lake: Lake) -> None:
    created = await mutate(client, [{"create": COUNTER}], headers=AUTH)
    rev = created.json()["results"][0]["document"]["_rev"]
    transaction = [
        {"create": {"_id": "inventory.reservation.s1", "_type": "stockReservation"}},
        {"patch": {"id": COUNTER["_id"], "ifRevisionID": rev, "dec": {"onHand": 2}}},
        {"create": {"_id": "inventory.ledger.1", "_type": "inventoryTransaction"}},
        {"patch": {"id": COUNTER["_id"], "ifRevisionID": "stale-rev", "set": {"x": 1}}},
    ]

    response = await mutate(client, transaction, headers=AUTH)

    assert response.status_code == 409
    assert response.json()["error"]["items"][0]["index"] == 3
    read = await client.get(
        f"{API}/doc/production/{COUNTER['_id']},inventory.reservation.s1,inventory.ledger.1",
        headers=AUTH,
    )
    body = read.json()
    assert [doc["_id"] for doc in body["documents"]] == [COUNTER["_id"]]
    assert body["documents"][0]["onHand"] == 10
    assert body["documents"][0]["_rev"] == rev
    assert {o["id"] for o in body["omitted"]} == {"inventory.reservation.s1", "inventory.ledger.1"}


async def test_a_groq_query_with_params_returns_the_right_documents(client) -> None:
    docs = [
        {"create": {**COUNTER, "_id": f"inventory.sku-{n}", "sku": f"SKU-{n}", "onHand": n}}
        for n in range(1, 6)
    ]
    await mutate(client, docs, headers=AUTH)
    query = "*[_type == $type && onHand >= $min && sku != $skip] | order(onHand desc){sku, onHand}"

    by_get = await client.get(
        f"{API}/query/production",
        params={"query": query, "$type": '"stockLevel"', "$min": "2", "$skip": '"SKU-4"'},
        headers=AUTH,
    )
    by_post = await client.post(
        f"{API}/query/production",
        json={"query": query, "params": {"type": "stockLevel", "min": 2, "skip": "SKU-4"}},
        headers=AUTH,
    )

    expected = [
        {"sku": "SKU-5", "onHand": 5},
        {"sku": "SKU-3", "onHand": 3},
        {"sku": "SKU-2", "onHand": 2},
    ]
    assert by_get.status_code == by_post.status_code == 200
    assert by_get.json()["result"] == by_post.json()["result"] == expected


@pytest.mark.parametrize(
    ("query", "construct", "start", "end"),
    [
        # Delta mode: only a listener's filter has a before and after.
        ("*[before()._id == _id]", "before()", 2, 10),
        # Not the query's own text: the span is one character.
        ('*[_type == "store" && geo::distance(location, $here) < 10]', "geo::distance()", 22, 23),
    ],
)
async def test_an_unsupported_construct_gets_a_clear_400(
    client, query: str, construct: str, start: int, end: int
) -> None:
    response = await client.get(f"{API}/query/production", params={"query": query}, headers=AUTH)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "queryParseError"
    assert error["query"] == query
    assert error["start"] == start
    assert error["end"] == end
    assert error["construct"] == construct
    assert f"'{construct}'" in error["description"]
    assert f"position {start}" in error["description"]


async def test_a_syntax_error_gets_a_400_pointing_at_the_position(client) -> None:
    query = '*[_type == "product"'

    response = await client.post(f"{API}/query/production", json={"query": query}, headers=AUTH)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "queryParseError"
    assert error["query"] == query
    assert isinstance(error["start"], int) and isinstance(error["end"], int)
    assert error["start"] < error["end"]


async def test_a_missing_parameter_gets_a_400(client) -> None:
    response = await client.get(
        f"{API}/query/production", params={"query": "*[sku == $sku]"}, headers=AUTH
    )

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "queryParseError"
    assert (
        "$sku" in response.json()["error"]["description"]
        or "sku" in response.json()["error"]["description"]
    )
