"""The CSV files of the bulk stock tools: export rows out, import rows in. Pure: no I/O.

Spreadsheet programs run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return as a formula (CSV injection), so every text cell written here that starts with one of
them gets a leading `'`, which spreadsheets show as text; `unescape_cell` takes it off again
on the way back in, so an exported file imports unchanged. Numbers are written as numbers.

An import row is numbered by the line of the file it starts on (the header is line 1), so a
spreadsheet user finds the row an error names. Values are checked here only for what the
file alone can tell (a number, a reason); whether a product or size exists and what stock
it may take is decided by the engine on a fresh read.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, get_args

from pydantic import Field

from schemas.base import Model
from schemas.operations import AdjustReason

EXPORT_COLUMNS: Final = (
    "productId",
    "documentId",
    "title",
    "sku",
    "size",
    "variantKey",
    "stock",
    "reserved",
    "available",
    "state",
    "reorderPoint",
    # Last, so files and sheets that address the columns above by position keep working.
    "location",
)

#: Columns a purchase order is written with; it imports back as a restock.
PURCHASE_ORDER_COLUMNS: Final = (
    "productId",
    "title",
    "size",
    "variantKey",
    "sku",
    "delta",
    "reason",
    "reference",
)

ADJUST_REASONS: Final[tuple[str, ...]] = get_args(AdjustReason)

#: Longest note kept per row (longer notes are refused, not cut).
MAX_NOTE_LENGTH: Final = 500
#: Longest product name, size, key or reference read from a cell.
MAX_NAME_LENGTH: Final = 200

_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")

_WHOLE_NUMBER: Final = re.compile(r"^[+-]?[0-9]+$")

Cell = str | int | float | None


class CsvFormatError(ValueError):
    """The file as a whole cannot be read as an import (no header, a missing column)."""


def csv_cell(value: Cell) -> str:
    """One value as CSV text, made safe from formula injection (module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    # Text already quoted so (`'=x`) gets one more quote, so reading back drops only ours.
    if value.lstrip("'").startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def unescape_cell(text: str) -> str:
    """Undo `csv_cell`'s guard: `'=x` -> `=x`; other text only loses surrounding spaces."""
    text = text.strip()
    if text.startswith("'") and text.lstrip("'").startswith(_FORMULA_STARTS):
        return text[1:]
    return text


def write_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Cell]]) -> str:
    """RFC 4180 text (CRLF line ends) with `columns` as header, each cell escaped."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(column)) for column in columns])
    return out.getvalue()


class ImportRow(Model):
    """One line of an import file as read, or why it cannot be read (`error`)."""

    row: int = Field(description="Line of the file the row starts on; the header is line 1.")
    product_id: str = ""
    document_id: str | None = Field(
        default=None, description="The product's `_id` from an export (wins over productId)."
    )
    size: str | None = None
    variant_key: str | None = None
    location: str | None = Field(
        default=None, description="A stock location's slug: the row counts at that location."
    )
    set_to: int | None = None
    delta: int | None = None
    reason: AdjustReason | None = None
    note: str | None = None
    reference: str | None = None
    error: str | None = None

    @property
    def product_ref(self) -> str:
        """How the product is looked up: the exported `_id` when present, else productId."""
        return self.document_id or self.product_id


class ParsedImport(Model):
    rows: list[ImportRow]

    @property
    def invalid(self) -> list[ImportRow]:
        return [row for row in self.rows if row.error is not None]


def _header_index(header: Sequence[str]) -> dict[str, int]:
    known = {name.casefold(): name for name in (*EXPORT_COLUMNS, *PURCHASE_ORDER_COLUMNS)}
    known.update({"setto": "setTo", "note": "note", "location": "location"})
    index: dict[str, int] = {}
    for position, raw in enumerate(header):
        name = known.get(raw.strip().lstrip("\ufeff").strip().casefold())
        if name is not None and name not in index:
            index[name] = position
    return index


def _whole_number(text: str, column: str) -> int | str:
    """The cell as an int, or the error message naming the column."""
    if not _WHOLE_NUMBER.match(text):
        return f"{column}: {text!r} is not a whole number"
    number = int(text)
    if abs(number) > 1_000_000_000:
        return f"{column}: {number} is out of range"
    return number


def _read_row(
    line: int, cells: Sequence[str], index: Mapping[str, int], default_reason: str | None
) -> ImportRow:
    def cell(name: str) -> str:
        position = index.get(name)
        if position is None or position >= len(cells):
            return ""
        return unescape_cell(cells[position])

    problems: list[str] = []
    product_id = cell("productId")
    document_id = cell("documentId") or None
    if not product_id and not document_id:
        problems.append("productId is empty")
    for name, value in (
        ("productId", product_id),
        ("documentId", document_id or ""),
        ("size", cell("size")),
        ("variantKey", cell("variantKey")),
        ("location", cell("location")),
        ("reference", cell("reference")),
    ):
        if len(value) > MAX_NAME_LENGTH:
            problems.append(f"{name}: longer than {MAX_NAME_LENGTH} characters")
    # An export's `stock` column is the value to set, unless the file has its own
    # setTo or delta column (then `stock` is only what the export saw).
    set_column = "setTo" if "setTo" in index else "stock" if "delta" not in index else None
    set_text = cell(set_column) if set_column else ""
    delta_text = cell("delta")
    set_to: int | None = None
    delta: int | None = None
    if set_text and delta_text:
        problems.append("give setTo or delta, not both")
    elif not set_text and not delta_text:
        problems.append("setTo or delta is empty")
    elif set_text:
        parsed = _whole_number(set_text, set_column or "setTo")
        if isinstance(parsed, str):
            problems.append(parsed)
        elif parsed < 0:
            problems.append(f"setTo: {parsed} is below zero")
        else:
            set_to = parsed
    else:
        parsed = _whole_number(delta_text, "delta")
        if isinstance(parsed, str):
            problems.append(parsed)
        else:
            delta = parsed
    reason_text = cell("reason") or (default_reason or "")
    reason: AdjustReason | None = None
    if not reason_text:
        problems.append("reason is empty (give a reason column or ?reason=)")
    elif reason_text not in ADJUST_REASONS:
        problems.append(f"reason: {reason_text!r} is not one of {', '.join(ADJUST_REASONS)}")
    else:
        reason = reason_text  # type: ignore[assignment]  # checked against the Literal
    note = cell("note") or None
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        problems.append(f"note: longer than {MAX_NOTE_LENGTH} characters")
    return ImportRow(
        row=line,
        product_id=product_id[:MAX_NAME_LENGTH],
        document_id=document_id[:MAX_NAME_LENGTH] if document_id else None,
        size=cell("size")[:MAX_NAME_LENGTH] or None,
        variant_key=cell("variantKey")[:MAX_NAME_LENGTH] or None,
        location=cell("location")[:MAX_NAME_LENGTH] or None,
        set_to=set_to,
        delta=delta,
        reason=reason,
        note=note[:MAX_NOTE_LENGTH] if note else None,
        reference=cell("reference")[:MAX_NAME_LENGTH] or None,
        error="; ".join(problems) or None,
    )


def parse_import(
    text: str, *, default_reason: str | None = None, max_rows: int = 100_000
) -> ParsedImport:
    """Read an import file: a header naming `productId` (or an export's `documentId`) and
    `setTo` or `delta` (an export's `stock` column counts as `setTo`), optionally `size`,
    `variantKey`, `location` (a stock location's slug), `reason`, `note`, `reference`;
    other columns are ignored, so an export
    imports back as it is. Blank lines are skipped. Raises `CsvFormatError` when the file
    has no usable header, a malformed quote, or more than `max_rows` rows."""
    if default_reason is not None and default_reason not in ADJUST_REASONS:
        raise CsvFormatError(
            f"reason: {default_reason!r} is not one of {', '.join(ADJUST_REASONS)}"
        )
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)
    rows: list[ImportRow] = []
    index: dict[str, int] | None = None
    consumed = 0
    try:
        for cells in reader:
            line = consumed + 1
            consumed = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if index is None:
                if line != 1:
                    raise CsvFormatError("the header must be on line 1")
                index = _header_index(cells)
                if "productId" not in index and "documentId" not in index:
                    raise CsvFormatError("the header names no productId column")
                if not ({"setTo", "delta", "stock"} & index.keys()):
                    raise CsvFormatError("the header names no setTo or delta column")
                continue
            if len(rows) >= max_rows:
                raise CsvFormatError(f"more than {max_rows} rows")
            rows.append(_read_row(line, cells, index, default_reason))
    except csv.Error as exc:
        raise CsvFormatError(f"line {reader.line_num}: {exc}") from None
    if index is None:
        raise CsvFormatError("the file is empty (a header is needed on line 1)")
    return ParsedImport(rows=rows)
