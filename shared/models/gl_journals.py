"""The daily journals sent to the general ledger, and who wrote or fetched each.

A journal is stored once per day, with the exact file that was sent and its SHA-256:
the database is the source of truth, and a day exported again gets these same bytes
back. Both tables are financial records and append-only (triggers refuse UPDATE and
DELETE, shared.models.APPEND_ONLY_TABLES): a sent journal is never changed, and the
record of who took a copy is the trail finance auditors ask for.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.extensions import db
from shared.models.base import created_at_column, enum_type
from shared.models.ledger import LedgerEntry


class JournalEventKind(enum.StrEnum):
    WRITTEN = "written"  # the day's journal built and stored: it counts as sent
    WRITTEN_AGAIN = "written_again"  # exported again: the stored file given back unchanged
    DOWNLOADED = "downloaded"  # an officer downloaded it from the back office


class JournalVia(enum.StrEnum):
    SCHEDULE = "schedule"  # the daily job
    COMMAND = "command"  # `flask --app wsgi ledger journal`
    BACK_OFFICE = "back_office"


class GlJournal(db.Model):
    __tablename__ = "gl_journals"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The English day whose postings (ledger entries created that day) it carries.
    day: Mapped[date] = mapped_column(sa.Date, unique=True)
    content: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    line_count: Mapped[int]
    entry_count: Mapped[int]
    # A council's day can pass 2**31 pence (£21m) of postings.
    debit_total_pence: Mapped[int] = mapped_column(sa.BigInteger)
    credit_total_pence: Mapped[int] = mapped_column(sa.BigInteger)
    # None when the daily job or the command line wrote it.
    created_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()

    events: Mapped[list[GlJournalEvent]] = relationship(
        back_populates="journal", order_by="GlJournalEvent.id"
    )

    __table_args__ = (
        sa.CheckConstraint("debit_total_pence = credit_total_pence", name="balanced"),
        sa.CheckConstraint("line_count >= 0 AND entry_count >= 0", name="counts_not_negative"),
    )


class GlJournalEvent(db.Model):
    """One writing or download of a journal: who, when and how."""

    __tablename__ = "gl_journal_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    journal_id: Mapped[int] = mapped_column(sa.ForeignKey("gl_journals.id"), index=True)
    kind: Mapped[JournalEventKind] = mapped_column(enum_type(JournalEventKind, "journal_event"))
    via: Mapped[JournalVia] = mapped_column(enum_type(JournalVia, "journal_via"))
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()

    journal: Mapped[GlJournal] = relationship(back_populates="events")


# The journal reads one day's postings by when they were made: without this index that
# is a scan of the whole ledger. Declared here, beside the only query that needs it
# (shared/services/journal.py); migration 0025 builds it.
sa.Index("ix_ledger_entries_created_at", LedgerEntry.__table__.c.created_at)
