"""`stocksync bench stock-import`: a 10,000-row stock import, checked (dry run) and applied,
against a store paced like Sanity.

The lake is served over Sanity's HTTP API by `stocksync lake serve` in its own process and
read and written through `SanityClient`, whose mutate limiter paces writes at 25 per second
(Sanity's documented limit per IP), so the apply is measured under the same pacing a real
dataset imposes. The catalogue is seeded straight into the lake file first. The import sets
every line to a new value, so every row writes one ledger entry.

Two catalogues in one run: `plain` (one row per product: the most transactions, as chunks
are whole products, at most 100 per transaction) and `sized` (products with 5 sizes, one row
per size: at most 250 rows per transaction). Figures depend on the machine; they are
measured here and never asserted in tests.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.flash_sale.cluster import HOST, free_port
from bench.serving import spawn, stop, wait_answering

TOKEN = "bench-import-token"
DATASET = "production"
SIZES = ("xs", "s", "m", "l", "xl")


@dataclass(frozen=True)
class ImportBenchOptions:
    rows: int = 10_000
    rate: float = 25.0

    def __post_init__(self) -> None:
        if not 10 <= self.rows <= 100_000:
            raise ValueError("--rows must be between 10 and 100000")
        if not 0 < self.rate <= 1000:
            raise ValueError("--rate must be above 0 and at most 1000")


def _catalogue(kind: str, rows: int) -> tuple[list[dict[str, Any]], str]:
    """Product documents and an import file setting each of their lines (one row each)."""
    docs: list[dict[str, Any]] = []
    lines = ["productId,size,setTo,reason,note"]
    if kind == "plain":
        for n in range(rows):
            slug = f"bench-{n:06d}"
            docs.append(
                {
                    "_id": f"product-{slug}",
                    "_type": "product",
                    "title": f"Bench product {n}",
                    "slug": {"_type": "slug", "current": slug},
                    "stockQuantity": 10,
                    "reservedQuantity": 0,
                }
            )
            lines.append(f"{slug},,{20 + n % 7},restock,bench")
    else:
        for n in range(rows // len(SIZES)):
            slug = f"bench-{n:06d}"
            docs.append(
                {
                    "_id": f"product-{slug}",
                    "_type": "product",
                    "title": f"Bench tee {n}",
                    "slug": {"_type": "slug", "current": slug},
                    "variants": [
                        {
                            "_key": f"v-{size}",
                            "_type": "variant",
                            "size": size,
                            "stockQuantity": 10,
                            "reservedQuantity": 0,
                        }
                        for size in SIZES
                    ],
                }
            )
            for size in SIZES:
                lines.append(f"{slug},{size},{20 + n % 7},restock,bench")
    return docs, "\n".join(lines) + "\n"


async def _seed(data: Path, docs: list[dict[str, Any]]) -> None:
    from cms_client import mutations as m
    from cms_client.lake import Lake

    async with Lake(data) as lake:
        for start in range(0, len(docs), 500):
            await lake.mutate([m.create(doc) for doc in docs[start : start + 500]])


def _serve_lake(work: Path, data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    args = ["lake", "serve", "--data", str(data), "--port", str(port), "--token", TOKEN]
    process, log = spawn(work, "lake", args)
    base = f"http://{HOST}:{port}"
    wait_answering(process, log, base + "/")
    return process, base


async def _measure(base: str, text: str, rate: float) -> dict[str, Any]:
    from cms_client.sanity_client import SanityClient
    from cms_client.sanity_settings import SanitySettings
    from schemas.stock_csv import parse_import
    from service.engine import Inventory

    settings = SanitySettings(
        project_id="bench",
        dataset=DATASET,
        api_token=TOKEN,
        api_host=base,
        mutations_per_second=rate,
    )
    async with SanityClient(settings) as client:
        inventory = Inventory(client)
        started = time.perf_counter()
        parsed = parse_import(text)
        checked = await inventory.import_stock(parsed.rows, actor="bench", dry_run=True)
        dry_run_s = time.perf_counter() - started
        if checked.invalid:
            raise RuntimeError(f"{checked.invalid} rows invalid in the bench file")
        started = time.perf_counter()
        parsed = parse_import(text)
        applied = await inventory.import_stock(parsed.rows, actor="bench", reference="bench-1")
        apply_s = time.perf_counter() - started
        ledger = await client.query(
            'count(*[_type == "inventoryTransaction" && referenceId == "bench-1"])'
        )
    return {
        "rows": len(parsed.rows),
        "dry_run_s": round(dry_run_s, 2),
        "apply_s": round(apply_s, 2),
        "transactions": applied.transactions,
        "ledger_entries": applied.ledger_entries,
        "ledger_entries_in_store": ledger,
        "transactions_per_s": round(applied.transactions / apply_s, 1) if apply_s else None,
    }


def run_stock_import(options: ImportBenchOptions) -> dict[str, Any]:
    report: dict[str, Any] = {
        "benchmark": "stock-import",
        "store": "embedded lake served over Sanity's HTTP API (stocksync lake serve), "
        f"SanityClient paced at {options.rate:g} mutations/s",
    }
    for kind in ("plain", "sized"):
        with tempfile.TemporaryDirectory(prefix="stock-import-") as workdir:
            work = Path(workdir)
            data = work / "lake.sqlite3"
            docs, text = _catalogue(kind, options.rows)
            asyncio.run(_seed(data, docs))
            process, base = _serve_lake(work, data)
            try:
                figures = asyncio.run(_measure(base, text, options.rate))
            finally:
                stop([process])
            figures["products"] = len(docs)
            report[kind] = figures
    report["dry_run_under_10s"] = all(report[k]["dry_run_s"] < 10 for k in ("plain", "sized"))
    report["apply_under_60s"] = all(report[k]["apply_s"] < 60 for k in ("plain", "sized"))
    return report


if __name__ == "__main__":
    print(json.dumps(run_stock_import(ImportBenchOptions()), indent=2))
