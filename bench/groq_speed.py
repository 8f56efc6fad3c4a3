"""GROQ engine speed over 100k in-memory documents: queries per second for service queries,
against groq-js (the reference implementation, under Node) on the same documents in the same run.

Run: `python3 -m uv run stocksync bench groq-speed` (or `python -m bench.groq_speed`;
`--documents N` changes the dataset size, `--no-groq-js` skips the comparison). The dataset
mixes the service's document types; `ListSource` narrows `*` by `_type` the way the lake's
SQLite index does, so each figure includes that narrowing plus the full filter. groq-js gets
the same documents as its `dataset` and runs each parsed query for the same time; both answers
are compared before timing.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
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


NODE_DIR = Path(__file__).resolve().parent.parent / "tests" / "node"

# Reads {documents, queries: [{text, params}], seconds, now} on stdin; prints one JSON line per
# query: its result and how many evaluations fitted in `seconds`.
_GROQ_JS_SCRIPT = """
import { parse, evaluate } from "groq-js";
let input = "";
for await (const chunk of process.stdin) input += chunk;
const { documents, queries, seconds, now } = JSON.parse(input);
for (const { text, params } of queries) {
  const tree = parse(text, { params });
  const run = async () =>
    (await evaluate(tree, { dataset: documents, params, timestamp: new Date(now) })).get();
  const result = await run();
  let runs = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    await run();
    runs += 1;
    elapsed = performance.now() - started;
  }
  console.log(JSON.stringify({ result, runs, seconds: elapsed / 1000 }));
}
"""


def groq_js_rates(
    documents: list[dict[str, Any]],
    queries: list[tuple[str, str, dict[str, Any]]],
    seconds: float,
) -> list[tuple[Any, float]] | str:
    """(result, queries/s) per query from groq-js, or why it could not run."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return "Node.js is not installed"
    if not (NODE_DIR / "node_modules" / "groq-js").exists():
        install = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if install.returncode != 0:
            return f"npm ci in {NODE_DIR} failed: {install.stderr[-500:]}"
    payload = {
        "documents": documents,
        "queries": [{"text": text, "params": params} for _, text, params in queries],
        "seconds": seconds,
        "now": NOW.isoformat(),
    }
    done = subprocess.run(
        [node, "--max-old-space-size=4096", "--input-type=module", "-e", _GROQ_JS_SCRIPT],
        cwd=NODE_DIR,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=600 + 10 * seconds * len(queries),
        check=False,
    )
    if done.returncode != 0:
        return f"groq-js failed: {done.stderr[-500:]}"
    rates = []
    for line in done.stdout.splitlines():
        row = json.loads(line)
        rates.append((row["result"], row["runs"] / row["seconds"]))
    return rates


def python_rate(
    source: ListSource, text: str, params: dict[str, Any], seconds: float
) -> tuple[Any, float]:
    query = parse(text)
    result = evaluate(query, source, params, now=NOW)  # also builds the type index
    runs = 0
    started = time.perf_counter()
    while True:
        evaluate(query, source, params, now=NOW)
        runs += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            break
    return result, runs / elapsed


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> None:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=1.0, help="time spent per query")
    parser.add_argument("--no-groq-js", action="store_true", help="skip the groq-js comparison")
    args = parser.parse_args(argv)

    documents = build_documents(args.documents)
    source = ListSource(documents)
    print(f"{len(source)} documents in memory")
    ours = [python_rate(source, text, params, args.seconds) for _, text, params in QUERIES]
    theirs = (
        "skipped (--no-groq-js)"
        if args.no_groq_js
        else groq_js_rates(documents, QUERIES, args.seconds)
    )
    if isinstance(theirs, str):
        print(f"groq-js: {theirs}")
    print(f"{'query':28s} {'lake engine':>14s} {'groq-js':>14s} {'ratio':>7s}  result")
    for i, (label, _, _) in enumerate(QUERIES):
        result, rate = ours[i]
        size = len(result) if isinstance(result, list) else result
        if isinstance(theirs, str):
            print(f"{label:28s} {rate:10.1f} q/s {'-':>14s} {'-':>7s}  {size}")
            continue
        js_result, js_rate = theirs[i]
        same = "same" if js_result == result else "DIFFERENT from groq-js"
        print(
            f"{label:28s} {rate:10.1f} q/s {js_rate:10.1f} q/s {rate / js_rate:6.2f}x  "
            f"{size} ({same})"
        )


if __name__ == "__main__":
    main()
