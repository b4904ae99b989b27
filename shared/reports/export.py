"""A report's tables as CSV (for other systems) and XLSX (for people, via openpyxl),
and as plain text for the command line.

Numbers stay numbers: money is pounds with two decimals (a number formatted £#,##0.00
in the spreadsheet), a percent is a fraction formatted 0.0% (95.12 in CSV), a date is an
ISO date in CSV and a real date in the spreadsheet. Text that a spreadsheet would run as
a formula (a debtor's name typed as "=HYPERLINK(...)") is written as text: quoted with
a leading apostrophe in CSV, as a string cell in XLSX.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from shared.reports.base import ReportResult, ReportTable
from shared.reports.values import format_value

__all__ = ["format_value", "to_csv", "to_xlsx", "to_text", "pick_tables"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_HUNDREDTHS = Decimal("0.01")


class UnknownTable(LookupError):
    pass


def pick_tables(result: ReportResult, table_key: str | None) -> list[ReportTable]:
    if table_key is None:
        return list(result.tables)
    for table in result.tables:
        if table.key == table_key:
            return [table]
    keys = ", ".join(t.key for t in result.tables) or "none"
    raise UnknownTable(f"This report has no table {table_key!r} (its tables: {keys})")


def _rows(table: ReportTable) -> list[tuple[bool, dict[str, Any]]]:
    rows = [(False, row) for row in table.rows]
    if table.totals is not None:
        totals = dict(table.totals)
        first = table.columns[0].key
        totals.setdefault(first, "Total")
        rows.append((True, totals))
    return rows


def _csv_value(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind in ("money", "percent"):  # pence to pounds, basis points to percent
        return str((Decimal(int(value)) / 100).quantize(_HUNDREDTHS))
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text.startswith(_FORMULA_START) and kind == "text":
        return "'" + text
    return text


def to_csv(result: ReportResult, table_key: str | None = None) -> bytes:
    """One table as plain CSV; several as blocks, each headed by its caption and parted
    by a blank line. UTF-8 with a byte-order mark, so Excel reads £ and accents."""
    tables = pick_tables(result, table_key)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for n, table in enumerate(tables):
        if len(tables) > 1:
            if n:
                writer.writerow([])
            writer.writerow([table.caption])
        writer.writerow([c.label for c in table.columns])
        for _total, row in _rows(table):
            writer.writerow([_csv_value(row.get(c.key), c.kind) for c in table.columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_FORMATS = {"money": "£#,##0.00", "percent": "0.0%", "date": "dd/mm/yyyy", "count": "#,##0"}


def _sheet_title(caption: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub(" ", caption).strip()[:31] or "Table"
    title, n = base, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def _xlsx_cell(sheet, value: Any, kind: str, bold: bool = False) -> WriteOnlyCell:
    if value is not None and kind == "money":
        value = Decimal(int(value)) / 100
    elif value is not None and kind == "percent":
        value = Decimal(int(value)) / 10000
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever it starts with
    if kind in _FORMATS and value is not None and not isinstance(value, str):
        cell.number_format = _FORMATS[kind]
    if bold:
        cell.font = Font(bold=True)
    return cell


def to_xlsx(result: ReportResult) -> bytes:
    """Each table on a sheet of its own: the report's title and scope, the column
    headings (bold), the rows and the total (bold)."""
    book = Workbook(write_only=True)
    used: set[str] = set()
    for table in result.tables or [ReportTable("empty", "No data", (), [])]:
        sheet = book.create_sheet(_sheet_title(table.caption, used))
        sheet.append([_xlsx_cell(sheet, result.title, "text", bold=True)])
        if result.scope:
            sheet.append([_xlsx_cell(sheet, result.scope, "text")])
        sheet.append([_xlsx_cell(sheet, table.caption, "text")])
        sheet.append([])
        sheet.append([_xlsx_cell(sheet, c.label, "text", bold=True) for c in table.columns])
        for total, row in _rows(table):
            sheet.append([_xlsx_cell(sheet, row.get(c.key), c.kind, total) for c in table.columns])
        if table.note:
            sheet.append([])
            sheet.append([_xlsx_cell(sheet, table.note, "text")])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_text(result: ReportResult, table_key: str | None = None) -> str:
    """For the terminal: each table with its columns aligned, numbers to the right."""
    lines = [result.title]
    if result.scope:
        lines.append(result.scope)
    for figure in result.figures:
        lines.append(f"  {figure.label}: {format_value(figure.value, figure.kind)}")
    for table in pick_tables(result, table_key):
        lines += ["", table.caption]
        cells = [[c.label for c in table.columns]]
        for _total, row in _rows(table):
            cells.append([format_value(row.get(c.key), c.kind) for c in table.columns])
        widths = [max(len(r[i]) for r in cells) for i in range(len(table.columns))]
        for r in cells:
            lines.append(
                "  ".join(
                    v.ljust(w) if c.kind in ("text", "date") else v.rjust(w)
                    for v, w, c in zip(r, widths, table.columns, strict=True)
                ).rstrip()
            )
        if table.note:
            lines.append(table.note)
    return "\n".join(lines) + "\n"
