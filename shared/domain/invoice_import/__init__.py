"""Invoices from the council's finance system: the file layout, reading CSV and XLSX a
row at a time, each row's rules, and rows assembled into invoices. Pure: what the
database knows comes in as Facts (shared/services/invoice_import reads it)."""

from shared.domain.invoice_import.assemble import Assembler, Invoice
from shared.domain.invoice_import.layout import COLUMNS, NAMES, REQUIRED, FileError
from shared.domain.invoice_import.readers import (
    FileFormat,
    RawRow,
    detect_format,
    estimated_rows,
    read_rows,
)
from shared.domain.invoice_import.rows import (
    Customer,
    Department,
    Facts,
    Header,
    Line,
    ParsedRow,
    RowParser,
    parse_row,
)

__all__ = [
    "COLUMNS",
    "NAMES",
    "REQUIRED",
    "Assembler",
    "Customer",
    "Department",
    "Facts",
    "FileError",
    "FileFormat",
    "Header",
    "Invoice",
    "Line",
    "ParsedRow",
    "RawRow",
    "RowParser",
    "detect_format",
    "estimated_rows",
    "parse_row",
    "read_rows",
]
