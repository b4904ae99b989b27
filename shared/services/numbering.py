"""Numbers for the documents the council issues: invoices and credit notes.

A number is taken inside the issuing transaction under a row lock on its
sequence (SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers), so two
officers issuing at once get different numbers, and a rolled-back issue hands its
number to the next one rather than leaving a gap. The first number taken carries
on after the highest already stored with the prefix (the demo data, or numbers
from before the sequence existed).
"""

from __future__ import annotations

import sqlalchemy as sa

from shared.extensions import db
from shared.models import DocumentSequence

DIGITS = 8  # "INV00001234": prefix and eight digits, within Invoice.number's 20 characters


def _highest_stored(column: sa.Column, prefix: str) -> int:
    """The highest number stored as prefix + DIGITS digits (a range scan of the
    column's unique index, not a LIKE)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    highest = db.session.scalar(
        sa.select(sa.func.max(column)).where(
            column >= prefix, column < upper, sa.func.length(column) == len(prefix) + DIGITS
        )
    )
    tail = (highest or "")[len(prefix) :]
    return int(tail) if tail.isascii() and tail.isdigit() else 0


def next_number(name: str, prefix: str, column: sa.Column) -> str:
    """The next number of sequence `name` (prefix + eight digits) in the caller's
    transaction; never one already in `column`."""
    return next_numbers(name, prefix, column, 1)[0]


def next_numbers(name: str, prefix: str, column: sa.Column, count: int) -> list[str]:
    """`count` consecutive numbers of sequence `name` at once, under one row lock (an
    import creating thousands of accounts takes its references in one go); never one
    already in `column`."""
    if count <= 0:
        return []
    row = db.session.execute(
        sa.select(DocumentSequence).where(DocumentSequence.name == name).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        row = DocumentSequence(name=name, next_value=1)
        db.session.add(row)
    first = max(row.next_value, _highest_stored(column, prefix) + 1)
    row.next_value = first + count
    db.session.flush()
    return [f"{prefix}{value:0{DIGITS}d}" for value in range(first, first + count)]


def next_invoice_number() -> str:
    from shared.models import Invoice

    return next_number("invoice", "INV", Invoice.number)
