"""Reconciliation: does the book balance, and what went to the general ledger on a day.

The ledger checks of shared/reports/reconciliation.py as a page: the balance identity
as figures (every entry summed equals what invoices still owe less the credit not yet
applied), the unallocated credit against the unallocated payments queue, and every
broken invariant `ledger_discrepancies()` finds (none: the books reconcile). These are
the books as they stand now. Below them, the day's journal (the "as at" day): its
debits and credits by GL code, whether it has been written and its SHA-256, and that
debits equal credits. A written journal is shown as it was sent (its stored file);
one not yet written as the ledger gives it now (shared/services/journal.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa

from shared import clock
from shared.extensions import db
from shared.models import GlJournal, GlJournalEvent, JournalEventKind, StaffUser
from shared.money import format_gbp
from shared.reports.base import (
    Column,
    Figure,
    Report,
    ReportFilters,
    ReportResult,
    ReportTable,
)
from shared.reports.reconciliation import LedgerTotals, reconcile
from shared.reports.registry import register
from shared.services import journal as journal_service

KEY = "reconciliation"
RECONCILE = "The books reconcile: every ledger check passed."
_FORMULA_GUARD = ("=", "+", "-", "@", "\t", "\r")
_WRITER = {"schedule": "the daily job", "command": "the command line"}


def _text(cell: str) -> str:
    """A stored file's cell as written before its spreadsheet guard (domain/journal.py)."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in _FORMULA_GUARD else cell


def _pence(pounds: str) -> int:
    whole, _, part = pounds.partition(".")
    return int(whole) * 100 + int(part or 0)


def _stored_lines(content: str) -> list[tuple[str, str, int, int]]:
    """(ledger code, cost centre, debit, credit) of each line of a stored journal file."""
    rows = list(csv.DictReader(io.StringIO(content)))
    return [
        (_text(r["ledger_code"]), _text(r["cost_centre"]), _pence(r["debit"]), _pence(r["credit"]))
        for r in rows
    ]


def _by_code(lines: Iterable[tuple[str, str, int, int]]) -> list[dict]:
    """A journal's lines (already the day's totals) summed by GL code and cost centre."""
    totals: dict[tuple[str, str], list[int]] = {}
    for code, centre, debit, credit in lines:
        pair = totals.setdefault((code, centre), [0, 0])
        pair[0] += debit
        pair[1] += credit
    return [
        {
            "ledger_code": code,
            "cost_centre": centre,
            "debit": debit,
            "credit": credit,
            "net": debit - credit,
        }
        for (code, centre), (debit, credit) in sorted(totals.items())
    ]


def _stored_journal(day: date):
    """The day's written journal with who wrote it, or None."""
    row = db.session.execute(
        sa.select(GlJournal, StaffUser.full_name)
        .outerjoin(StaffUser, StaffUser.id == GlJournal.created_by_staff_id)
        .where(GlJournal.day == day)
    ).one_or_none()
    if row is None:
        return None
    stored, name = row
    via = db.session.scalar(
        sa.select(GlJournalEvent.via)
        .where(
            GlJournalEvent.journal_id == stored.id,
            GlJournalEvent.kind == JournalEventKind.WRITTEN,
        )
        .order_by(GlJournalEvent.id)
        .limit(1)
    )
    writer = name or _WRITER.get(getattr(via, "value", via), "the system")
    return journal_service.StoredJournal(
        journal_id=stored.id,
        day=stored.day,
        content=stored.content,
        sha256=stored.sha256,
        line_count=stored.line_count,
        entry_count=stored.entry_count,
        debit_pence=stored.debit_total_pence,
        credit_pence=stored.credit_total_pence,
        written_at=stored.created_at,
        written_by=writer,
    )


def journal_section(day: date, today: date) -> tuple[list[Figure], list[ReportTable]]:
    """The day's journal: figures, its totals by GL code, and its record."""
    stored = _stored_journal(day)
    built = journal_service.journal_for(day)
    if stored is not None:
        lines = _stored_lines(stored.content)
        debit, credit = stored.debit_pence, stored.credit_pence
        late = journal_service.late_postings(stored)
        written_at = clock.as_london(stored.written_at)
        record = [
            ("Written", "Yes"),
            ("Written at", f"{written_at:%-d %B %Y %H:%M}"),
            ("Written by", stored.written_by),
            ("SHA-256", stored.sha256),
            ("Lines", f"{stored.line_count:,}"),
            ("Ledger entries", f"{stored.entry_count:,}"),
            (
                "Entries made since it was written",
                late.message if late else "None: the sent journal carries all the day's entries",
            ),
        ]
        source = "as sent (the stored file)"
    else:
        lines = [
            (line.ledger_code, line.cost_centre, line.debit_pence, line.credit_pence)
            for line in built.journal.lines
        ]
        debit, credit = built.journal.debit_pence, built.journal.credit_pence
        if day >= today:
            status = "No: the day is not over; these are its postings so far"
        else:
            status = "No: write it from Journals or `flask --app wsgi ledger journal`"
        record = [
            ("Written", status),
            ("SHA-256 of the journal the ledger gives now", built.sha256),
            ("Lines", f"{len(built.journal.lines):,}"),
            ("Ledger entries", f"{built.journal.entry_count:,}"),
        ]
        source = "as the ledger gives it now (not yet written)"
    balanced = debit == credit
    record.append(
        (
            "Debits equal credits",
            f"Yes: {format_gbp(debit)} each"
            if balanced
            else f"No: debits {format_gbp(debit)}, credits {format_gbp(credit)}",
        )
    )
    when = f"{day:%-d %B %Y}"
    figures = [
        Figure(f"Journal debits, {when}", debit),
        Figure(f"Journal credits, {when}", credit),
    ]
    tables = [
        ReportTable(
            key="journal_by_code",
            caption=f"Journal for {when} by GL code, {source}",
            columns=(
                Column("ledger_code", "GL code"),
                Column("cost_centre", "Cost centre"),
                Column("debit", "Debits", "money"),
                Column("credit", "Credits", "money"),
                Column("net", "Net (debit less credit)", "money"),
            ),
            rows=_by_code(lines),
            totals={
                "ledger_code": "Total",
                "debit": debit,
                "credit": credit,
                "net": debit - credit,
            },
            note=None if lines else f"Nothing was posted on {when}.",
        ),
        ReportTable(
            key="journal_record",
            caption=f"Journal for {when}",
            columns=(Column("item", "Item"), Column("value", "Value")),
            rows=[{"item": item, "value": value} for item, value in record],
        ),
    ]
    return figures, tables


def _balance_table(t: LedgerTotals) -> ReportTable:
    owed = t.outstanding_pence - t.unallocated_pence
    rows = [
        ("Outstanding on invoices", t.outstanding_pence),
        ("Less credit not yet applied to invoices", -t.unallocated_pence),
        ("What the ledger should total", owed),
        ("Ledger total (every entry summed)", t.ledger_pence),
        ("Difference", t.difference_pence),
    ]
    if t.difference_pence == 0:
        note = "The books balance: the ledger total is what invoices owe less unallocated credit."
    else:
        note = (
            f"The books do not balance: the ledger total differs by "
            f"{format_gbp(t.difference_pence)}. The discrepancies below say where."
        )
    return ReportTable(
        key="balance",
        caption="Books balance",
        columns=(Column("item", "Figure"), Column("amount", "Amount", "money")),
        rows=[{"item": item, "amount": amount} for item, amount in rows],
        note=note,
    )


def _queue_table(t: LedgerTotals) -> ReportTable:
    rows = [
        (f"Unallocated credit in the ledger ({t.available_count:,} credits)", t.available_pence),
        (f"In the unallocated payments queue ({t.queue_count:,} rows)", t.queue_pence),
        ("Difference", t.queue_difference_pence),
    ]
    agree = t.queue_difference_pence == 0 and t.queue_count == t.available_count
    return ReportTable(
        key="unallocated",
        caption="Unallocated cash and the unallocated payments queue",
        columns=(Column("item", "Figure"), Column("amount", "Amount", "money")),
        rows=[{"item": item, "amount": amount} for item, amount in rows],
        note=(
            "The queue agrees with the ledger."
            if agree
            else "The queue does not agree with the ledger: the discrepancies below name "
            "each credit."
        ),
    )


def build(filters: ReportFilters) -> ReportResult:
    books = reconcile()  # ledger_totals() and ledger_discrepancies() in one statement
    totals, problems = books.totals, books.problems
    journal_figures, journal_tables = journal_section(filters.as_at, filters.today)
    figures = [
        Figure("Ledger total", totals.ledger_pence),
        Figure("Outstanding on invoices", totals.outstanding_pence),
        Figure("Unallocated credit", totals.unallocated_pence),
        Figure("Difference", totals.difference_pence),
        Figure("Discrepancies", len(problems), "count"),
        *journal_figures,
    ]
    discrepancies = ReportTable(
        key="discrepancies",
        caption="Discrepancies" if problems else "Discrepancies: none",
        columns=(Column("problem", "What is wrong"),),
        rows=[{"problem": problem} for problem in problems],
        note=RECONCILE
        if not problems
        else (
            f"{len(problems):,} broken ledger rule{'' if len(problems) == 1 else 's'} found "
            "(each check lists at most 50). Put each right with a reversing entry; tell the "
            "system administrator."
        ),
    )
    return ReportResult(
        title="Reconciliation",
        description=(
            "Whether the ledger balances (its total against what invoices owe less "
            "unallocated credit), whether the unallocated payments queue agrees with it, "
            "every discrepancy found, and the day's journal to the general ledger."
        ),
        figures=figures,
        charts=[],
        tables=[_balance_table(totals), _queue_table(totals), discrepancies, *journal_tables],
        scope=(
            f"{'The books reconcile' if not problems else 'The books do not reconcile'} "
            f"as they stand now; journal for {filters.as_at:%-d %B %Y}"
        ),
    )


REPORT = register(
    Report(
        key=KEY,
        title="Reconciliation",
        description=(
            "Does the ledger balance, does the unallocated queue agree with it, and the "
            "day's journal totals to the general ledger."
        ),
        build=build,
        uses=frozenset({"as_at"}),
        in_pack=False,
    )
)
