"""GROQ engine speed over 100k in-memory documents: queries per second for service queries.

Run: `uv run python -m bench.groq_speed` (add `--documents N` to change the dataset size).
The dataset mixes the service's document types; `ListSource` narrows `*` by `_type` the way
the lake's SQLite index does, so each figure includes that narrowing plus the full filter.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from cms_client.groq import ListSource, evaluate, parse

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

QUERIES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "expired reservations",
        '*[_type == "stockReservation" && status == "active"'
        " && dateTime(expiresAt) < dateTime($now)]"
        " | order(expiresAt asc) [0...100] {_id, _rev, expiresAt}",
        {"now": "2025-03-01T12:00:00Z"},
    ),
    (
        "count open critical errors",
        'count(*[_type == "errorLog" && severity == "critical" && resolved != true])',
        {},
    ),
    (
        "products by id or slug",
        '*[_type == "product" && (_id in $ids || slug.current in $ids)]'
        '{_id, title, "slug": slug.current}',
        {"ids": [f"product-{i}" for i in range(0, 2000, 40)] + ["slug-7", "slug-99"]},
    ),
    (
        "ledger of one product",
        '*[_type == "inventoryTransaction" && productId == $id]'
        " | order(_createdAt desc) [0...20] {_id, delta, reason}",
        {"id": "product-42"},
    ),
]


def build_documents(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    products = max(count // 10, 1)
    docs: list[dict[str, Any]] = []
    for i in range(count):
        kind = i % 10
        stamp = NOW + timedelta(minutes=rng.randint(-600, 600))
        created = stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if kind == 0:
            docs.append(
                {
                    "_id": f"product-{i // 10}",
                    "_type": "product",
                    "_rev": f"r{i}",
                    "title": f"Product {i // 10}",
                    "slug": {"_type": "slug", "current": f"slug-{i // 10}"},
                    "stock": rng.randint(0, 50),
                    "reserved": rng.randint(0, 5),
                    "variants": [
                        {"_key": f"v{v}", "size": size, "sku": f"SKU-{i}-{size}"}
                        for v, size in enumerate(("s", "m", "l"))
                    ],
                }
            )
        elif kind in (1, 2, 3):
            docs.append(
                {
                    "_id": f"inventory.reservation.{i}",
                    "_type": "stockReservation",
                    "_rev": f"r{i}",
                    "status": rng.choice(("active", "active", "released", "committed")),
                    "expiresAt": created,
                    "items": [
                        {"_key": "a", "productId": f"product-{rng.randrange(products)}", "qty": 1}
                    ],
                }
            )
        elif kind in (4, 5):
            docs.append(
                {
                    "_id": f"inventory.error.{i}",
                    "_type": "errorLog",
                    "_rev": f"r{i}",
                    "severity": rng.choice(("info", "warning", "critical")),
                    "resolved": rng.random() < 0.5,
                    "_createdAt": created,
                }
            )
        else:
            docs.append(
                {
                    "_id": f"inventory.tx.{i}",
                    "_type": "inventoryTransaction",
                    "_rev": f"r{i}",
                    "productId": f"product-{rng.randrange(products)}",
                    "delta": rng.choice((-2, -1, 1, 3)),
                    "reason": "reserve",
                    "_createdAt": created,
                }
            )
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=1.0, help="time spent per query")
    args = parser.parse_args()

    source = ListSource(build_documents(args.documents))
    print(f"{len(source)} documents in memory")
    for label, text, params in QUERIES:
        query = parse(text)
        result = evaluate(query, source, params, now=NOW)  # also builds the type index
        size = len(result) if isinstance(result, list) else result
        runs = 0
        started = time.perf_counter()
        while True:
            evaluate(query, source, params, now=NOW)
            runs += 1
            elapsed = time.perf_counter() - started
            if elapsed >= args.seconds:
                break
        print(
            f"{label:28s} {runs / elapsed:8.1f} queries/s  "
            f"{1000 * elapsed / runs:7.2f} ms/query  (result: {size})"
        )


if __name__ == "__main__":
    main()
