"""The streaming .xlsx writer: a well-formed package that openpyxl reads back cell for cell (types, styles,
dimension), text that XML or Excel would mangle kept intact, and Excel's limits refused clearly."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from xml.etree import ElementTree

import openpyxl
import pytest
from opensupport.server.records.xlsx import MAX_CELL_TEXT, SheetWriter, XlsxError, column_letter


def _write(rows: list[list[object]], **kw: object) -> bytes:
    buffer = io.BytesIO()
    with SheetWriter(buffer, **kw) as sheet:  # type: ignore[arg-type]
        sheet.header(["A", "B", "C", "D"])
        sheet.rows_from(rows)
    return buffer.getvalue()


def test_package_parts_are_well_formed_xml_with_content_types() -> None:
    data = _write([[1, "x", None, 2.5]], sheet_title="지원 기록: 2026/03")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert names[0] == "[Content_Types].xml"
        assert set(names) == {
            "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
            "xl/styles.xml", "xl/worksheets/sheet1.xml",
        }  # fmt: skip
        for name in names:
            ElementTree.fromstring(zf.read(name))  # raises on malformed XML
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
        assert '<dimension ref="A1:D2"/>' in sheet
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["지원 기록  2026 03"]  # ':' and '/' are not allowed in sheet names


def test_values_read_back_with_their_types_and_formats() -> None:
    when = dt.datetime(2026, 3, 15, 14, 41, 6)
    rows = [
        [7, "홍길동", when, dt.timedelta(hours=26, minutes=3, seconds=4)],
        [None, "  spaced  ", None, 0.125],
        [-3, "", dt.datetime(1899, 1, 1), None],
    ]
    data = _write(rows)
    for read_only in (True, False):
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=read_only)
        got = [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
        workbook.close()
        assert got[0] == ["A", "B", "C", "D"]
        assert got[1][:3] == [7, "홍길동", when]
        assert got[1][3] == dt.timedelta(hours=26, minutes=3, seconds=4)
        assert got[2] == [None, "  spaced  ", None, 0.125]
        assert got[3][0] == -3 and got[3][2] == "1899-01-01 00:00:00"  # before Excel's safe dates: text
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet["C2"].number_format == "yyyy-mm-dd hh:mm:ss" and sheet["D2"].number_format == "[h]:mm:ss"
    assert sheet["A1"].font.b and not sheet["A2"].font.b
    assert sheet.freeze_panes == "A2"


def test_text_that_xml_or_excel_would_change_survives() -> None:
    tricky = [
        "a & b < c > d \"q\" 'r'",
        "=SUM(A1:A3)",
        "tab\tnewline\nend",
        "bell\x07 and nul\x00",
        "looks like an escape _x0041_ here",
        "x" * (MAX_CELL_TEXT + 10),
    ]
    data = _write([[None, text] for text in tricky])
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    got = [sheet.cell(row, 2).value for row in range(2, 2 + len(tricky))]
    assert got[0] == tricky[0] and got[1] == "=SUM(A1:A3)" and sheet.cell(3, 2).data_type == "s"
    assert got[2] == tricky[2]
    # characters XML 1.0 cannot hold travel as Excel's _xHHHH_ escapes, and text that looks like one is
    # itself escaped, so that Excel (which decodes them; openpyxl does not) shows exactly the original
    assert got[3] == "bell_x0007_ and nul_x0000_"
    assert got[4] == "looks like an escape _x005F_x0041_ here"
    assert got[5] == "x" * MAX_CELL_TEXT


def test_limits_and_unsupported_values_are_refused() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    with pytest.raises(XlsxError):
        column_letter(16_384)
    for bad in (float("nan"), float("inf"), object(), dt.datetime(2026, 1, 1, tzinfo=dt.UTC), b"bytes"):
        with pytest.raises(XlsxError), SheetWriter(io.BytesIO()) as sheet:
            sheet.row([bad])
