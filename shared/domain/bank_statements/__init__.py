"""Bank statements in: reading camt.053, BAI2 and the bank CSV layout, and the rules
that match each line to an invoice or account. Pure: no Flask, no SQLAlchemy.

`read(content)` tells the format from the content (or takes the one named) and
returns a Statement, or raises StatementError naming the line or element at fault.
"""

from __future__ import annotations

from shared.domain.bank_statements import bai2_format, camt053, csv_format
from shared.domain.bank_statements.model import (
    Direction,
    Statement,
    StatementError,
    StatementFormat,
    StatementLine,
)

# A statement file is small (20,000 lines of camt.053 is about 30 MB); anything far
# bigger is a mistake, and would be read into memory whole.
MAX_FILE_BYTES = 100 * 1024 * 1024

_READERS = {
    StatementFormat.CAMT053: camt053.parse,
    StatementFormat.BAI2: bai2_format.parse,
    StatementFormat.CSV: csv_format.parse,
}

__all__ = [
    "Direction",
    "MAX_FILE_BYTES",
    "Statement",
    "StatementError",
    "StatementFormat",
    "StatementLine",
    "detect_format",
    "read",
]


def detect_format(content: bytes) -> StatementFormat:
    """Which format a file is in, from its first bytes: XML is camt.053, a first record
    "01," is BAI2, the CSV layout's header row is CSV."""
    start = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096]
    if start.startswith(b"<"):
        return StatementFormat.CAMT053
    if start.startswith(b"01,"):
        return StatementFormat.BAI2
    first_line = start.split(b"\n", 1)[0].strip()
    if first_line.startswith(b"Date,"):
        return StatementFormat.CSV
    raise StatementError(
        "The file is not a statement this service reads: expected camt.053 XML, a BAI2 "
        "file starting 01, or the bank CSV layout (docs/bank-statements.md)"
    )


def read(content: bytes, format: StatementFormat | str | None = None) -> Statement:
    """The statement in `content`, in `format` (or the format its content shows)."""
    if not content or not content.strip():
        raise StatementError("The file is empty")
    if len(content) > MAX_FILE_BYTES:
        raise StatementError("The file is larger than 100 MB: no statement is that big")
    if format is None:
        chosen = detect_format(content)
    else:
        try:
            chosen = StatementFormat(format)
        except ValueError:
            names = ", ".join(f.value for f in StatementFormat)
            raise StatementError(f"Unknown format {format!r}: use one of {names}") from None
    return _READERS[chosen](content)
