"""The daily journal to the general ledger: build it from the day's postings, store it
once, give the same file back every time after.

"The day's postings" are the ledger entries made on that English day (created_at,
Europe/London), whatever their effective date; each line shows the effective date.
An entry is made once, at one moment, so it is in exactly one day's journal, and a
day's set of entries is complete once the day is over: an entry made later (even one
backdated to that day) has a later created_at and goes in a later journal. So a
journal can be written only for a day that has ended, and once written it is final.
The one way an entry could still land in a written day is a transaction that made it
before midnight and committed after the journal was written; each later export
counts the day's entries again and says so loudly if there are more than were sent,
without ever changing the sent file (docs/journal.md).

The double-entry rules are shared/domain/journal.py; the file's layout is there too.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from shared import clock
from shared.domain import journal as rules
from shared.extensions import db
from shared.models import (
    CreditNote,
    EntryKind,
    GlJournal,
    GlJournalEvent,
    IncomeCode,
    Invoice,
    JournalEventKind,
    JournalVia,
    LedgerEntry,
    StaffUser,
)
from shared.services.actors import Actor
from shared.services.errors import InvalidRequest, NotFound
from shared.services.history import record_audit
from shared.services.unit_of_work import use_case

_WRITER = {
    JournalVia.SCHEDULE: "the daily job",
    JournalVia.COMMAND: "the command line",
    JournalVia.BACK_OFFICE: "the back office",
}


@dataclass(frozen=True)
class BuiltJournal:
    """A day's journal as the ledger gives it now (not stored)."""

    journal: rules.Journal
    content: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredJournal:
    journal_id: int
    day: date
    content: str
    sha256: str
    line_count: int
    entry_count: int
    debit_pence: int
    credit_pence: int
    written_at: datetime
    written_by: str

    @property
    def content_bytes(self) -> bytes:
        return self.content.encode("utf-8")

    @property
    def filename(self) -> str:
        return f"journal-{self.day.isoformat()}.csv"


@dataclass(frozen=True)
class LatePostings:
    """Entries made on a day after its journal was written: the sent file lacks them."""

    entries_sent: int
    entries_now: int
    control_movement_sent_pence: int
    control_movement_now_pence: int

    @property
    def message(self) -> str:
        extra = self.entries_now - self.entries_sent
        return (
            f"{extra} ledger entr{'y was' if extra == 1 else 'ies were'} made on this day "
            "after its journal was written, so the sent journal does not carry "
            f"{'it' if extra == 1 else 'them'}: the file stays as sent; post the difference "
            "to the general ledger by hand and tell the system administrator"
        )


@dataclass(frozen=True)
class ExportResult:
    journal: StoredJournal
    created: bool  # False: the day's journal was written before; this is that same file
    late: LatePostings | None = None


def gl_codes() -> rules.GlCodes:
    config = current_app.config
    return rules.GlCodes(
        debtors_control=config["GL_DEBTORS_CONTROL_CODE"],
        vat_output=config["GL_VAT_OUTPUT_CODE"],
        bank=config["GL_BANK_CODE"],
        card_clearing=config["GL_CARD_CLEARING_CODE"],
        direct_debit_clearing=config["GL_DIRECT_DEBIT_CLEARING_CODE"],
        write_off=config["GL_WRITE_OFF_CODE"],
        suspense=config["GL_SUSPENSE_CODE"],
    )


def _day_range(day: date):
    """The day's entries by when they were made (ix_ledger_entries_created_at)."""
    start, end = clock.day_starts(day), clock.day_starts(day + timedelta(days=1))
    return sa.and_(LedgerEntry.created_at >= start, LedgerEntry.created_at < end)


def _posting(kind: str, out: bool, names_entry: bool) -> rules.Posting:
    if kind == EntryKind.ADJUSTMENT:
        if names_entry:  # only a returned refund names the entry it undoes
            return rules.Posting.REFUND_RETURNED
        return rules.Posting.TRANSFER_OUT if out else rules.Posting.TRANSFER_IN
    return rules.Posting(str(kind))


def day_totals(day: date) -> list[rules.EntryTotal]:
    """The day's entries summed by what they are, channel, income code and effective date:
    one grouped query over the day's slice of the ledger."""
    e = LedgerEntry
    subject = aliased(LedgerEntry)  # what a reversal reverses; the refund a returned one names
    named = aliased(LedgerEntry)  # the refund a reversed returned refund named
    note = aliased(CreditNote)  # a credit note's document, with its VAT
    reversed_note = aliased(CreditNote)  # the document of the credit note a reversal undoes
    invoice, code = Invoice, IncomeCode

    # The VAT part of a credit note (or its reversal): its document's, or, for one with
    # no document, the invoice's VAT share, rounded half up, entry by entry.
    vat_of = sa.func.coalesce(note.vat_pence, reversed_note.vat_pence, invoice.vat_pence)
    total_of = sa.func.coalesce(note.total_pence, reversed_note.total_pence, invoice.total_pence)
    magnitude = sa.cast(sa.func.abs(e.amount_pence), sa.BigInteger)
    share = (magnitude * 2 * vat_of + total_of) // (total_of * 2)
    vat = sa.case(
        (e.kind == EntryKind.INVOICE, invoice.vat_pence),
        (e.kind == EntryKind.CREDIT_NOTE, -share),
        (sa.and_(e.kind == EntryKind.REVERSAL, subject.kind == EntryKind.CREDIT_NOTE), share),
        else_=0,
    )
    keys = (
        e.kind,
        e.method,
        e.source_entry_id.is_not(None),
        e.reverses_entry_id.is_not(None),
        subject.kind,
        subject.method,
        subject.source_entry_id.is_not(None),
        subject.reverses_entry_id.is_not(None),
        named.method,
        e.effective_date,
        code.id,
        code.code,
        code.ledger_code,
        code.cost_centre,
    )
    query = (
        sa.select(
            *keys,
            sa.func.sum(e.amount_pence),
            sa.func.sum(vat),
            sa.func.count(),
        )
        .select_from(e)
        .outerjoin(subject, subject.id == e.reverses_entry_id)
        .outerjoin(named, named.id == subject.reverses_entry_id)
        .outerjoin(invoice, invoice.id == e.invoice_id)
        .outerjoin(code, code.id == invoice.income_code_id)
        .outerjoin(note, note.ledger_entry_id == e.id)
        .outerjoin(reversed_note, reversed_note.ledger_entry_id == subject.id)
        .where(_day_range(day))
        .group_by(*keys)
    )
    totals = []
    for row in db.session.execute(query):
        (kind, method, out, names, s_kind, s_method, s_out, s_names, named_method) = row[:9]
        effective, code_id, code_code, ledger_code, cost_centre = row[9:14]
        amount, vat_pence, count = int(row[14]), int(row[15] or 0), int(row[16])
        reversal = kind == EntryKind.REVERSAL
        if reversal:
            posting = _posting(s_kind, bool(s_out), bool(s_names))
            method, refund_method = s_method, named_method
        else:
            posting = _posting(kind, bool(out), bool(names))
            refund_method = s_method
        channel = None
        if posting in (rules.Posting.PAYMENT, rules.Posting.REFUND):
            channel = rules.channel_of(_value(method))
        elif posting == rules.Posting.REFUND_RETURNED:
            channel = rules.channel_of(_value(refund_method))
        income = None
        if code_id is not None and posting in _BY_INCOME_CODE:
            income = rules.IncomeCodeRef(code_code, ledger_code, cost_centre)
        totals.append(
            rules.EntryTotal(
                posting=posting,
                amount_pence=amount,
                effective_date=effective,
                reversal=reversal,
                vat_pence=vat_pence,
                channel=channel,
                income=income,
                entry_count=count,
            )
        )
    return totals


_BY_INCOME_CODE = (rules.Posting.INVOICE, rules.Posting.CREDIT_NOTE, rules.Posting.WRITE_OFF)


def _value(method) -> str | None:
    return None if method is None else str(getattr(method, "value", method))


def render_csv(journal: rules.Journal) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rules.rows(journal))
    return out.getvalue()


def journal_for(day: date) -> BuiltJournal:
    """The day's journal as the ledger gives it now: lines, the CSV file, its SHA-256."""
    journal = rules.build_journal(day, day_totals(day), gl_codes())
    return BuiltJournal(journal, render_csv(journal))


def _refuse_unfinished(day: date) -> None:
    today = clock.today()
    if day >= today:
        raise InvalidRequest(
            f"The journal for {day:%-d %B %Y} can be written once that day has ended: "
            f"choose a day before today ({today:%-d %B %Y})"
        )


def _stored(journal_id: int) -> StoredJournal:
    row = db.session.execute(
        sa.select(GlJournal, StaffUser.full_name)
        .outerjoin(StaffUser, StaffUser.id == GlJournal.created_by_staff_id)
        .where(GlJournal.id == journal_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"No journal {journal_id}")
    journal, staff_name = row
    via = db.session.scalar(
        sa.select(GlJournalEvent.via)
        .where(
            GlJournalEvent.journal_id == journal.id,
            GlJournalEvent.kind == JournalEventKind.WRITTEN,
        )
        .order_by(GlJournalEvent.id)
        .limit(1)
    )
    return _as_stored(journal, staff_name, via)


def _as_stored(journal: GlJournal, staff_name: str | None, via) -> StoredJournal:
    return StoredJournal(
        journal_id=journal.id,
        day=journal.day,
        content=journal.content,
        sha256=journal.sha256,
        line_count=journal.line_count,
        entry_count=journal.entry_count,
        debit_pence=journal.debit_total_pence,
        credit_pence=journal.credit_total_pence,
        written_at=journal.created_at,
        written_by=staff_name or _WRITER.get(via, "the system"),
    )


def _journal_id_for(day: date) -> int | None:
    return db.session.scalar(sa.select(GlJournal.id).where(GlJournal.day == day))


def late_postings(journal: StoredJournal) -> LatePostings | None:
    """Entries made on the journal's day beyond those it was written with, if any.

    Entries are never deleted, so the day's count can only grow; counting (rather than
    comparing the file) is not fooled by a GL code changed in the settings since."""
    count, movement = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(LedgerEntry.amount_pence), 0))
        .select_from(LedgerEntry)
        .where(_day_range(journal.day))
    ).one()
    if int(count) == journal.entry_count:
        return None
    sent_movement = _control_movement(journal.content)
    return LatePostings(journal.entry_count, int(count), sent_movement, int(movement))


def _control_movement(content: str) -> int:
    """Debits less credits on the debtors control code in a stored file."""
    control = current_app.config["GL_DEBTORS_CONTROL_CODE"]
    total = 0
    for row in list(csv.reader(io.StringIO(content)))[1:]:
        if row[2] == control:
            total += _pence(row[6]) - _pence(row[7])
    return total


def _pence(pounds: str) -> int:
    whole, _, part = pounds.partition(".")
    return int(whole) * 100 + int(part or 0)


@use_case
def export_journal(day: date, actor: Actor, *, via: JournalVia) -> ExportResult:
    """Write the day's journal and store it as sent; a day written before gives back
    the stored file unchanged, saying when and by whom it was sent (one commit)."""
    _refuse_unfinished(day)
    existing = _journal_id_for(day)
    if existing is None:
        built = journal_for(day)
        row = GlJournal(
            day=day,
            content=built.content,
            sha256=built.sha256,
            line_count=len(built.journal.lines),
            entry_count=built.journal.entry_count,
            debit_total_pence=built.journal.debit_pence,
            credit_total_pence=built.journal.credit_pence,
            created_by_staff_id=actor.staff_id,
        )
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError:
            # Written by someone else (the daily job and an officer at once): theirs stands.
            db.session.rollback()
            existing = _journal_id_for(day)
            if existing is None:
                raise
        else:
            _event(row.id, JournalEventKind.WRITTEN, via, actor)
            record_audit(
                actor,
                "gl_journal.written",
                "gl_journal",
                row.id,
                after={
                    "day": day.isoformat(),
                    "sha256": built.sha256,
                    "lines": row.line_count,
                    "entries": row.entry_count,
                    "debit_total_pence": row.debit_total_pence,
                    "credit_total_pence": row.credit_total_pence,
                    "via": via.value,
                },
            )
            db.session.commit()
            return ExportResult(_stored(row.id), created=True)
    stored = _stored(existing)
    late = late_postings(stored)
    _event(stored.journal_id, JournalEventKind.WRITTEN_AGAIN, via, actor)
    after = {"day": day.isoformat(), "sha256": stored.sha256, "via": via.value}
    if late is not None:
        after["late_entries"] = late.entries_now - late.entries_sent
    record_audit(actor, "gl_journal.written_again", "gl_journal", stored.journal_id, after=after)
    db.session.commit()
    return ExportResult(stored, created=False, late=late)


def _event(journal_id: int, kind: JournalEventKind, via: JournalVia, actor: Actor) -> None:
    db.session.add(
        GlJournalEvent(journal_id=journal_id, kind=kind, via=via, staff_id=actor.staff_id)
    )


@use_case
def download_journal(journal_id: int, actor: Actor) -> StoredJournal:
    """The stored file, for an officer to download; who took a copy is recorded."""
    stored = _stored(journal_id)
    _event(journal_id, JournalEventKind.DOWNLOADED, JournalVia.BACK_OFFICE, actor)
    record_audit(
        actor,
        "gl_journal.downloaded",
        "gl_journal",
        journal_id,
        after={"day": stored.day.isoformat(), "sha256": stored.sha256},
    )
    db.session.commit()
    return stored


@dataclass(frozen=True)
class JournalListing:
    journal: StoredJournal
    downloads: int
    last_downloaded_at: datetime | None


def recent_journals(limit: int = 60) -> list[JournalListing]:
    """The latest days' journals, newest first, with how often each was downloaded."""
    downloads = (
        sa.select(
            GlJournalEvent.journal_id,
            sa.func.count().label("n"),
            sa.func.max(GlJournalEvent.created_at).label("last"),
        )
        .where(GlJournalEvent.kind == JournalEventKind.DOWNLOADED)
        .group_by(GlJournalEvent.journal_id)
        .subquery()
    )
    written = (
        sa.select(GlJournalEvent.journal_id, sa.func.min(GlJournalEvent.via).label("via"))
        .where(GlJournalEvent.kind == JournalEventKind.WRITTEN)
        .group_by(GlJournalEvent.journal_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(GlJournal, StaffUser.full_name, written.c.via, downloads.c.n, downloads.c.last)
        .outerjoin(StaffUser, StaffUser.id == GlJournal.created_by_staff_id)
        .outerjoin(written, written.c.journal_id == GlJournal.id)
        .outerjoin(downloads, downloads.c.journal_id == GlJournal.id)
        .order_by(GlJournal.day.desc())
        .limit(limit)
    ).all()
    return [
        JournalListing(
            _as_stored(journal, name, JournalVia(via) if via else None), int(n or 0), last
        )
        for journal, name, via, n, last in rows
    ]
