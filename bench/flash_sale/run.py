"""One flash sale, start to finish, and the JSON it prints.

`run_flash_sale(options)` returns the figures as one JSON-ready dict (and writes the JSON
and the chart where asked). With `coalesce="both"` it runs the same sale twice, on fresh
processes and a fresh store, coalescing off then on, and adds their ratio.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.flash_sale.cluster import DATASET, Cluster, ClusterConfig
from bench.flash_sale.figures import buying_figures, requests_between
from bench.flash_sale.options import FlashSaleOptions
from bench.flash_sale.shoppers import Answer, ClientPool, Product, Shoppers
from bench.flash_sale.store_api import LakeApi
from bench.flash_sale.verify import final_state


@dataclass(frozen=True)
class SaleRun:
    label: str
    figures: dict[str, Any]
    answers: list[Answer]


def run_flash_sale(options: FlashSaleOptions) -> dict[str, Any]:
    if options.coalesce == "both":
        runs = [_run_once(options, coalesce=False), _run_once(options, coalesce=True)]
        off, on = runs[0].figures, runs[1].figures
        report: dict[str, Any] = {
            "scenario": options.scenario,
            "coalesce_off": off,
            "coalesce_on": on,
            "ratio_on_to_off": {
                key: _ratio(on[key], off[key]) for key in ("reserves_per_second", "won_per_second")
            },
        }
    else:
        runs = [_run_once(options, coalesce=options.coalesce == "on")]
        report = dict(runs[0].figures)
    if options.chart:
        from bench.flash_sale.chart import write_chart

        path = _output_path(options, ".png")
        title = (
            f"flash sale, {options.scenario}: {options.processes} processes, {options.buyers} "
            f"buyers, stock {options.stock}, store latency {options.latency_ms:g} ms"
        )
        report["chart"] = str(write_chart(path, title, [(r.label, r.answers) for r in runs]))
    if options.json_path is not None:
        options.json_path.parent.mkdir(parents=True, exist_ok=True)
        options.json_path.write_text(json.dumps(report, indent=2) + "\n")
    return report


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 2)


def _output_path(options: FlashSaleOptions, suffix: str) -> Path:
    if options.json_path is not None:
        return options.json_path.with_suffix(suffix)
    name = f"flash-sale-{options.scenario}-coalesce-{options.coalesce}{suffix}"
    return options.out_dir / name


def _run_once(options: FlashSaleOptions, *, coalesce: bool) -> SaleRun:
    config = ClusterConfig(
        processes=options.processes,
        latency_ms=options.latency_ms,
        coalesce=coalesce,
        warm_cache=options.warm_cache,
        mutate_rate_limit=options.mutation_limit,
        profile_dir=options.profile_dir,
    )
    with Cluster(config) as cluster:
        figures, answers = asyncio.run(
            _sale(cluster, replace(options, coalesce="on" if coalesce else "off"))
        )
    return SaleRun(f"coalescing {'on' if coalesce else 'off'}", figures, answers)


async def _sale(cluster: Cluster, options: FlashSaleOptions) -> tuple[dict[str, Any], list[Answer]]:
    products = [Product(index) for index in range(options.product_count)]

    def product_of(buyer: int) -> Product:
        return products[buyer] if options.scenario == "uncontended" else products[0]

    clients = ClientPool(options.in_flight, len(cluster.service_urls))
    try:
        lake = LakeApi(clients[0], cluster.lake_url, cluster.keys.lake_token, DATASET)
        shoppers = Shoppers(
            clients,
            cluster.service_urls,
            cluster.keys,
            in_flight=options.in_flight,
            phase_timeout=options.phase_timeout,
        )
        await lake.mutate([{"create": product.document()} for product in products])
        await shoppers.stock_up(products, options.stock)
        before = await lake.request_counts()
        answers = await shoppers.buy(product_of, options.buyers)
        after = await lake.request_counts()
        winners = [answer.buyer for answer in answers if answer.outcome == "won"]
        settlement = await shoppers.settle(winners, options.abandon)
        won_per_product = Counter(answer.product for answer in answers if answer.outcome == "won")
        state = await final_state(lake, products, options.stock, won_per_product)
    finally:
        await clients.aclose()
    crashed = list(cluster.crashed())
    if crashed:
        raise RuntimeError("a process of the benchmark died:\n" + "\n".join(crashed))
    figures: dict[str, Any] = {
        "scenario": options.scenario,
        "processes": options.processes,
        "buyers": options.buyers,
        "stock": options.stock,
        "products": len(products),
        "store_latency_ms": options.latency_ms,
        "store_mutation_limit": options.mutation_limit,
        "coalesce": options.coalesce == "on",
        "warm_cache": options.warm_cache,
        "in_flight": options.in_flight,
        "sold": state.sold,
        "oversold": state.oversold,
        "units_left": state.units_left,
        **buying_figures(answers, requests_between(before, after)),
        "paid": settlement.paid,
        "released": settlement.released,
        "unsettled": settlement.unsettled,
        "webhook_redeliveries": settlement.redeliveries,
        "settle_refusals": settlement.refusals,
        "store_check": {
            "reserved_left": state.reserved_left,
            "sale_entries": state.sale_entries,
            "reservations": state.reservations,
        },
    }
    return figures, answers
