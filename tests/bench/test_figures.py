"""How the benchmark counts and connects: store requests by status, percentiles, oversell,
and the buyers' HTTP clients."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx

from bench.flash_sale.figures import buying_figures, percentile, requests_between
from bench.flash_sale.lake_process import STATS_PATH, RequestCounter
from bench.flash_sale.shoppers import CONNECTIONS_PER_CLIENT, Answer, ClientPool, Product
from bench.flash_sale.verify import final_state
from cms_client.lake import Lake
from cms_client.server import create_lake_app

MUTATE = "/v2025-02-19/data/mutate/production"


async def test_the_lake_counter_counts_answers_by_endpoint_and_status(lake: Lake):
    counter = RequestCounter(create_lake_app(lake, token="t"))
    auth = {"Authorization": "Bearer t"}
    create = {"mutations": [{"create": {"_id": "p", "_type": "product"}}]}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=counter), base_url="http://lake"
    ) as http:
        assert (await http.post(MUTATE, json=create, headers=auth)).status_code == 200
        assert (await http.post(MUTATE, json=create, headers=auth)).status_code == 409
        assert (await http.get("/v2025-02-19/data/doc/production/p", headers=auth)).is_success
        assert (await http.get("/v2025-02-19/data/doc/production/p")).status_code == 401
        stats = (await http.get(STATS_PATH)).json()["requests"]
    assert stats == {"mutate": {"200": 1, "409": 1}, "doc": {"200": 1, "401": 1}}


def answer(buyer: int, status: int, code: str | None, seconds: float) -> Answer:
    return Answer(buyer, 0, sent=0.0, answered=seconds, status=status, code=code)


def test_buying_figures_separate_wins_refusals_and_server_errors():
    answers = [
        answer(0, 200, None, 0.1),
        answer(1, 200, None, 0.2),
        answer(2, 409, "insufficient_stock", 0.3),
        answer(3, 503, "conflict_retries_exhausted", 0.4),
        answer(4, 0, None, 0.5),
        answer(5, 409, "reservation_conflict", 0.5),
    ]
    before = {"mutate": {"200": 1}}
    after = {"mutate": {"200": 3, "409": 2}, "doc": {"200": 4, "429": 1}, "query": {"500": 1}}
    figures = buying_figures(answers, requests_between(before, after))
    assert (figures["won"], figures["refused"], figures["server_errors"]) == (2, 1, 2)
    assert figures["other_answers"] == {"409 reservation_conflict": 1}
    assert figures["reserves_per_second"] == 12.0  # 6 answers in 0.5 s
    assert figures["won_per_second"] == 10.0  # 2 holds by 0.2 s
    assert figures["store_requests"] == {"doc": 5, "mutate": 4, "query": 1}
    assert figures["store_requests_per_reserve"] == round(10 / 6, 3)
    assert (figures["conflicts"], figures["rate_limited"], figures["retries"]) == (2, 1, 4)


def test_percentiles_interpolate_between_ranks():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.5
    assert percentile(values, 0.99) == 99.01
    assert percentile([7.0], 0.99) == 7.0


class FakeLake:
    def __init__(self, products: list[dict[str, Any]]) -> None:
        self.products = products

    async def query(self, query: str, params: dict[str, Any] | None = None) -> Any:
        if "product" in query:
            return self.products
        if "stockReservation" in query:
            return [{"status": "committed"}] * 3
        return 3


async def test_oversold_counts_units_beyond_stock_and_negative_counters():
    products = [Product(0), Product(1), Product(2)]
    lake = FakeLake(
        [
            {"_id": products[0].id, "stockQuantity": 2, "reservedQuantity": 0},  # sold 3 of 5
            {"_id": products[1].id, "stockQuantity": 0, "reservedQuantity": 1},  # available -1
            {"_id": products[2].id, "stockQuantity": 5, "reservedQuantity": 0},  # nothing sold
        ]
    )
    honest = await final_state(lake, products[:1], 5, {0: 3})
    assert (honest.sold, honest.oversold, honest.units_left) == (3, 0, 2)
    assert honest.reservations == {"committed": 3}
    # Told 7 buyers yes for 5 units: 2 oversold, though the counters look fine.
    promised = await final_state(lake, products[:1], 5, {0: 7})
    assert promised.oversold == 2
    negative = await final_state(lake, products[1:2], 5, {})
    assert negative.oversold == 1


async def test_each_process_has_small_pools_enough_for_every_buyer_in_flight() -> None:
    # httpcore's pool work grows with the square of its size (CONNECTIONS_PER_CLIENT), and a
    # buyer waiting for a connection in the benchmark could not join its service's batch.
    pool = ClientPool(in_flight=100, processes=4)
    try:
        for process in range(4):
            buyers = range(process, 400, 4)
            clients = {id(pool[buyer]) for buyer in buyers}
            assert len(clients) * CONNECTIONS_PER_CLIENT >= 100, "room for all 100 in flight"
            others = {id(pool[buyer]) for buyer in range(400) if buyer % 4 != process}
            assert not clients & others, "a client serves one process only"
        in_flight = range(100)  # buyers 0..99, sent at once
        per_client = Counter(id(pool[buyer]) for buyer in in_flight)
        assert max(per_client.values()) <= CONNECTIONS_PER_CLIENT
    finally:
        await pool.aclose()
