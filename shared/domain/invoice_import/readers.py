"""Reading an invoice file a row at a time: CSV (UTF-8, with or without a byte-order
mark) or XLSX (the first worksheet, through openpyxl's read-only mode).

Both stream: a row is read, handed on and forgotten, so a file of 100,000 rows takes
no more memory than one of 100 (an XLSX file's table of shared strings excepted: it
is read whole, as Excel wrote it). Each row comes with its row number as a
spreadsheet shows it (the header is row 1, blank rows count but are not returned),
and its cells by column name: strings from a CSV; from an XLSX whatever the cell
holds (text, a whole or fractional number, a date), for the row rules to read.
"""

from __future__ import annotations

import csv
import enum
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from shared.domain.invoice_import.layout import FileError, header_positions

_XLSX_MAGIC = b"PK\x03\x04"


class FileFormat(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


@dataclass(frozen=True, slots=True)
class RawRow:
    number: int  # as a spreadsheet numbers it: the header is row 1
    cells: dict[str, Any]


def detect_format(head: bytes, file_name: str | None = None) -> FileFormat:
    """XLSX when the bytes are a zip archive (whatever the name says), else CSV."""
    if head.startswith(_XLSX_MAGIC):
        return FileFormat.XLSX
    if (file_name or "").lower().endswith((".xlsx", ".xlsm")):
        raise FileError("The file is named .xlsx but is not an Excel workbook")
    return FileFormat.CSV


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _rows(numbered: Iterator[tuple[int, tuple]]) -> Iterator[RawRow]:
    """The header row, then every non-blank row as a RawRow."""
    for number, header in numbered:
        if all(_blank(cell) for cell in header):
            continue  # blank rows above the header
        positions = header_positions(header, number)
        break
    else:
        raise FileError("The file is empty: no header row and no invoices")
    width = max(positions.values()) + 1
    for number, values in numbered:
        if all(_blank(cell) for cell in values):
            continue
        if len(values) > width and any(not _blank(cell) for cell in values[width:]):
            raise FileError(
                f"Row {number}: {len(values)} cells, but the header names {width} columns"
            )
        cells = {
            name: values[position] if position < len(values) else None
            for name, position in positions.items()
        }
        yield RawRow(number, cells)


def _csv_rows(stream: IO[bytes]) -> Iterator[RawRow]:
    lines_read = 0

    def lines() -> Iterator[str]:
        # Decoded a line at a time, so a byte that is not UTF-8 is reported on its row.
        nonlocal lines_read
        for raw in stream:
            lines_read += 1
            if lines_read == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                raise FileError(
                    f'Row {lines_read}: the file is not UTF-8 text (save it as "CSV UTF-8")'
                ) from None

    reader = csv.reader(lines())

    def numbered() -> Iterator[tuple[int, tuple]]:
        number = 0
        try:
            for values in reader:
                # A quoted cell may run over several lines: the row number is the
                # record's place, as a spreadsheet opening the file counts it.
                number += 1
                yield number, tuple(values)
        except csv.Error as exc:
            raise FileError(f"Row {number + 1}: the CSV cannot be read ({exc})") from None

    yield from _rows(numbered())


def _xlsx_rows(stream: IO[bytes]) -> Iterator[RawRow]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileError(f"The Excel workbook cannot be read ({exc})") from None
    try:
        sheet = workbook.worksheets[0]
        yield from _rows(
            (number, values)
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        )
    finally:
        workbook.close()


def read_rows(stream: IO[bytes], file_format: FileFormat) -> Iterator[RawRow]:
    """Every non-blank row after the header; FileError if the file cannot be read."""
    if file_format == FileFormat.XLSX:
        return _xlsx_rows(stream)
    return _csv_rows(stream)


def estimated_rows(stream: IO[bytes], file_format: FileFormat) -> int | None:
    """About how many rows the file has (for a progress bar), then back to the start:
    lines of a CSV (a quick count of newlines), the sheet's stated size of an XLSX."""
    start = stream.tell()
    try:
        if file_format == FileFormat.CSV:
            count, last = 0, b"\n"
            while block := stream.read(1 << 20):
                count += block.count(b"\n")
                last = block[-1:]
            return max(count - 1 + (last != b"\n"), 0)
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(stream, read_only=True)
            rows = workbook.worksheets[0].max_row
            workbook.close()
        except Exception:  # noqa: BLE001 - only an estimate; reading the rows will say why
            return None
        return max(rows - 1, 0) if rows else None
    finally:
        stream.seek(start)
