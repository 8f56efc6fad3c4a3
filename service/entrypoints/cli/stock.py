"""`stocksync stock export --out FILE` and `stocksync stock import FILE [--dry-run]`.

The same export and the same engine import as `GET /api/inventory/export` and
`POST /api/inventory/import`, on the store the environment configures. The import prints
its summary as JSON on stdout, every invalid row on stderr, and exits 1 when any row is
invalid (a dry run too), so a script can stop on it; long files show a progress bar on
stderr while they are applied.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from service.config import ServiceSettings

#: Files with more rows than this show a progress bar.
PROGRESS_FROM_ROWS = 200
BAR_WIDTH = 30


class ProgressBar:
    """`[#####.....]  4000/10000 rows` on one line of `stream`, redrawn in place."""

    def __init__(self, total: int, stream: TextIO, *, label: str = "rows") -> None:
        self.total = max(1, total)
        self.stream = stream
        self.label = label
        self.shown = -1

    def update(self, done: int) -> None:
        filled = BAR_WIDTH * done // self.total
        if filled == self.shown and done != self.total:
            return
        self.shown = filled
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self.stream.write(f"\r[{bar}] {done:>{len(str(self.total))}}/{self.total} {self.label}")
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _settings(args: argparse.Namespace) -> ServiceSettings:
    from service.entrypoints.cli.main import _settings as settings_of

    return settings_of(args)


def _export(args: argparse.Namespace) -> int:
    from service.bootstrap import running
    from service.read_models.locations import read_locations
    from service.read_models.stock_reports import export_csv, read_lines

    settings = _settings(args)

    async def run() -> tuple[str, int]:
        async with running(settings) as runtime:
            lines = await read_lines(runtime.store, settings.low_stock_threshold)
            locations = {place.id: place for place in await read_locations(runtime.store)}
            return export_csv(lines, locations), len(lines)

    text, count = asyncio.run(run())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8", newline="")
    print(f"exported {count} stock lines to {out}")
    return 0


def _print_invalid(rows: list[Any], stream: TextIO) -> None:
    for row in rows:
        if row.error:
            print(f"row {row.row} ({row.product_id}): {row.error}", file=stream)


def _import(args: argparse.Namespace) -> int:
    from cms_client.errors import StoreError
    from schemas.stock_csv import CsvFormatError, parse_import
    from service.bootstrap import running
    from service.engine import ImportRejected, InventoryError

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SystemExit(f"stocksync stock import: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SystemExit(f"stocksync stock import: {path} is not UTF-8 text") from None
    try:
        parsed = parse_import(text, default_reason=args.reason)
    except CsvFormatError as exc:
        raise SystemExit(f"stocksync stock import: {path}: {exc}") from None
    settings = _settings(args)
    bar = (
        ProgressBar(len(parsed.rows), sys.stderr)
        if len(parsed.rows) > PROGRESS_FROM_ROWS and not args.dry_run
        else None
    )

    async def run() -> Any:
        async with running(settings) as runtime:
            return await runtime.inventory.import_stock(
                parsed.rows,
                actor=args.actor,
                reference=args.reference,
                dry_run=args.dry_run,
                idempotency_key=args.idempotency_key,
                progress=bar.update if bar else None,
            )

    try:
        result = asyncio.run(run())
    except ImportRejected as exc:
        if bar:
            bar.finish()
        _print_invalid(exc.result.rows, sys.stderr)
        print(json.dumps(exc.result.to_json_dict(), indent=2))
        print(f"stocksync stock import: {exc.message}", file=sys.stderr)
        return 1
    except InventoryError as exc:
        # In progress under the same key, the key used for another file, a store refusal:
        # nothing (more) was written, and the message says why.
        raise SystemExit(f"stocksync stock import: {exc.message}") from None
    except StoreError as exc:
        raise SystemExit(
            f"stocksync stock import: the store failed ({exc}); what was applied was undone "
            "(an undo that could not finish is in the error log); run it again"
        ) from None
    if bar:
        bar.finish()
    print(json.dumps(result.to_json_dict(), indent=2))
    if result.invalid:
        _print_invalid(result.rows, sys.stderr)
        print(
            f"stocksync stock import: {result.invalid} of {len(result.rows)} rows are invalid",
            file=sys.stderr,
        )
        return 1
    return 0


def add_stock_commands(commands: Any) -> None:
    """The `stock` command group on the CLI's subparsers."""
    stock = commands.add_parser("stock", help="export and import stock as CSV")
    actions = stock.add_subparsers(dest="stock_command", required=True, metavar="ACTION")

    export = actions.add_parser("export", help="write every stock line to a CSV file")
    export.add_argument("--out", required=True, help="the CSV file to write")
    export.add_argument("--data", default=None, help="SQLite file of the embedded lake")
    export.set_defaults(handler=_export)

    imp = actions.add_parser("import", help="set or move stock from a CSV file, all rows or none")
    imp.add_argument("file", help="CSV: productId and setTo or delta (an export works as is)")
    imp.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    imp.add_argument(
        "--reason",
        choices=["restock", "correction", "damage", "return", "initial"],
        default=None,
        help="reason of every row without its own",
    )
    imp.add_argument("--reference", default=None, help="recorded on each ledger entry")
    imp.add_argument(
        "--actor", default=f"cli:{_user()}", help="who the ledger says made the change"
    )
    imp.add_argument(
        "--idempotency-key", default=None, help="a repeat with the same key is applied once"
    )
    imp.add_argument("--data", default=None, help="SQLite file of the embedded lake")
    imp.set_defaults(handler=_import)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
