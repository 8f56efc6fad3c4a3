"""`stocksync stock export` and `stocksync stock import`, on a lake file."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest

from cms_client.lake import Lake
from service.engine.inventory import Inventory
from service.entrypoints.cli.demo import seed_catalogue
from service.entrypoints.cli.main import main


def prepare(path: Path) -> None:
    async def run() -> None:
        async with Lake(path) as lake:
            await seed_catalogue(lake, Inventory(lake))

    asyncio.run(run())


def stock_of(path: Path, product: str) -> int:
    async def run() -> int:
        async with Lake(path) as lake:
            (doc,) = await lake.get_documents([product])
            assert doc is not None
            return int(doc["stockQuantity"])

    return asyncio.run(run())


def test_export_edit_import_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "lake.sqlite3"
    prepare(data)
    out = tmp_path / "out" / "stock.csv"
    assert main(["stock", "export", "--out", str(out), "--data", str(data)]) == 0
    assert "exported 8 stock lines" in capsys.readouterr().out
    text = out.read_text()
    assert text.startswith("productId,documentId,title,sku,size,variantKey,stock,")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    for row in rows:
        if row["documentId"] == "product-railcam":
            row["stock"] = "8"
    edited = tmp_path / "edited.csv"
    with edited.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    dry = main(
        ["stock", "import", str(edited), "--dry-run", "--reason", "correction", "--data", str(data)]
    )
    assert dry == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dryRun"] and [r["change"] for r in report["rows"] if r["change"]] == [3]
    assert stock_of(data, "product-railcam") == 5

    applied = main(["stock", "import", str(edited), "--reason", "correction", "--data", str(data)])
    assert applied == 0
    assert json.loads(capsys.readouterr().out)["ledgerEntries"] == 1
    assert stock_of(data, "product-railcam") == 8


def test_invalid_rows_exit_non_zero_and_are_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "lake.sqlite3"
    prepare(data)
    bad = tmp_path / "bad.csv"
    bad.write_text("productId,delta,reason\nrailcam,2,restock\nnope,1,restock\n")
    for dry in ([], ["--dry-run"]):
        assert main(["stock", "import", str(bad), *dry, "--data", str(data)]) == 1
        err = capsys.readouterr().err
        assert "row 3 (nope): product 'nope' not found" in err
    assert stock_of(data, "product-railcam") == 5


def test_a_long_file_shows_a_progress_bar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "lake.sqlite3"
    prepare(data)
    long = tmp_path / "long.csv"
    long.write_text("productId,delta,reason\n" + "timetable-zine,1,restock\n" * 300)
    assert main(["stock", "import", str(long), "--data", str(data)]) == 0
    captured = capsys.readouterr()
    assert "300/300 rows" in captured.err and "[" in captured.err
    assert json.loads(captured.out)["ledgerEntries"] == 300
    assert stock_of(data, "product-timetable-zine") == 340


def test_a_file_that_is_not_an_import_is_refused_by_name(tmp_path: Path) -> None:
    data = tmp_path / "lake.sqlite3"
    prepare(data)
    bad = tmp_path / "bad.csv"
    bad.write_text("sku\n1\n")
    with pytest.raises(SystemExit, match="no productId column"):
        main(["stock", "import", str(bad), "--data", str(data)])
