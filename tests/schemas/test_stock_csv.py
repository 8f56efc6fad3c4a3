"""The bulk tools' CSV: safe to open in a spreadsheet, rows numbered by file line."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.stock_csv import (
    EXPORT_COLUMNS,
    CsvFormatError,
    csv_cell,
    parse_import,
    unescape_cell,
    write_csv,
)


@pytest.mark.parametrize(
    "dangerous", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"]
)
def test_text_that_a_spreadsheet_would_run_is_written_as_text(dangerous: str) -> None:
    assert csv_cell(dangerous) == "'" + dangerous
    assert unescape_cell(csv_cell(dangerous)) == dangerous


def test_numbers_and_plain_text_are_written_as_they_are() -> None:
    assert [csv_cell(v) for v in (5, 0, None, "Railcam", "it's")] == [
        "5",
        "0",
        "",
        "Railcam",
        "it's",
    ]


@given(st.text(min_size=1).filter(lambda t: t == t.strip() and "\x00" not in t))
def test_written_text_reads_back_unchanged(value: str) -> None:
    text = write_csv(["title"], [{"title": value}])
    (row,) = list(csv.reader(io.StringIO(text, newline="")))[1:]
    assert unescape_cell(row[0]) == value
    assert not row[0].startswith(("=", "+", "-", "@", "\t", "\r"))


def test_export_header_and_crlf_lines() -> None:
    text = write_csv(EXPORT_COLUMNS, [{"productId": "railcam", "stock": 5}])
    assert text.startswith(
        "productId,documentId,title,sku,size,variantKey,stock,reserved,available,state,"
        "reorderPoint,location\r\n"
    )
    assert text.endswith("railcam,,,,,,5,,,,,\r\n")


def test_rows_are_numbered_by_file_line_with_the_header_as_line_one() -> None:
    text = (
        "productId,size,delta,reason,note\n"
        "railcam,,2,restock,\n"
        "\n"
        'halloween-tee,m,-1,damage,"torn\nat the seam"\n'
        "station-hoodie,l,+3,restock,\n"
    )
    rows = parse_import(text).rows
    assert [(r.row, r.product_id, r.size, r.delta) for r in rows] == [
        (2, "railcam", None, 2),
        (4, "halloween-tee", "m", -1),
        (6, "station-hoodie", "l", 3),
    ]
    assert rows[1].note == "torn\nat the seam"
    assert all(r.error is None for r in rows)


def test_each_bad_row_says_what_is_wrong_and_good_rows_stay_good() -> None:
    text = (
        "productId,setTo,delta,reason\n"
        "a,1.5,,restock\n"
        "b,,ten,restock\n"
        "c,-1,,correction\n"
        "d,1,1,restock\n"
        "e,,,restock\n"
        ",3,,restock\n"
        "f,3,,stolen\n"
        "g,4,,\n"
        "h,1_000,,restock\n"
        "i,7,,initial\n"
    )
    parsed = parse_import(text)
    errors = {r.row: r.error for r in parsed.rows}
    assert "setTo: '1.5' is not a whole number" in (errors[2] or "")
    assert "delta: 'ten' is not a whole number" in (errors[3] or "")
    assert "setTo: -1 is below zero" in (errors[4] or "")
    assert "not both" in (errors[5] or "")
    assert "setTo or delta is empty" in (errors[6] or "")
    assert "productId is empty" in (errors[7] or "")
    assert "reason: 'stolen' is not one of" in (errors[8] or "")
    assert "reason is empty" in (errors[9] or "")
    assert "not a whole number" in (errors[10] or "")
    assert errors[11] is None and parsed.rows[-1].set_to == 7
    assert len(parsed.invalid) == 9


def test_a_reason_for_all_rows_fills_rows_without_one() -> None:
    text = "productId,delta,reason\na,1,\nb,2,damage\n"
    rows = parse_import(text, default_reason="restock").rows
    assert [(r.reason, r.error) for r in rows] == [("restock", None), ("damage", None)]
    with pytest.raises(CsvFormatError, match="stolen"):
        parse_import(text, default_reason="stolen")


def test_an_export_imports_back_with_its_stock_column_as_set_to() -> None:
    text = write_csv(
        EXPORT_COLUMNS,
        [
            {
                "productId": "tee",
                "documentId": "product-tee",
                "size": "m",
                "variantKey": "k1",
                "stock": 4,
                "title": "=cmd",
                "reorderPoint": 2,
            },
        ],
    )
    (row,) = parse_import(text, default_reason="correction").rows
    assert (row.product_ref, row.size, row.variant_key, row.set_to, row.delta) == (
        "product-tee",
        "m",
        "k1",
        4,
        None,
    )
    assert row.error is None


def test_escaped_cells_are_read_back_unescaped() -> None:
    (row,) = parse_import("productId,size,delta,reason\n'-odd,'=m,'-2,return\n").rows
    assert (row.product_id, row.size, row.delta) == ("-odd", "=m", -2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("\n\n", "empty"),
        ("sku,setTo\nx,1\n", "no productId"),
        ("productId,reason\nx,restock\n", "no setTo or delta"),
        ('productId,setTo\n"x,1\n', "line"),
    ],
)
def test_a_file_that_is_not_an_import_is_refused_as_a_whole(text: str, message: str) -> None:
    with pytest.raises(CsvFormatError, match=message):
        parse_import(text)


def test_too_many_rows_are_refused() -> None:
    text = "productId,delta,reason\n" + "a,1,restock\n" * 3
    with pytest.raises(CsvFormatError, match="more than 2 rows"):
        parse_import(text, max_rows=2)


def test_a_byte_order_mark_and_header_case_are_tolerated() -> None:
    (row,) = parse_import("\ufeffProductID,SETTO,Reason\nrailcam,3,initial\n").rows
    assert (row.product_id, row.set_to, row.reason, row.error) == ("railcam", 3, "initial", None)


def test_text_that_already_looks_escaped_reads_back_as_written() -> None:
    for value in ("'@x", "''=1", "'plain"):
        text = write_csv(["title"], [{"title": value}])
        (row,) = list(csv.reader(io.StringIO(text, newline="")))[1:]
        assert unescape_cell(row[0]) == value
