"""Letters as printed: each letter's PDF, and the daily print batch an officer releases.

A letter is an outbox row (channel "letter"). It is rendered to PDF once (kept
here, so the case shows exactly what was posted), joins the day's print batch
when the batch is built, and is marked sent (posted) only when an officer
releases the batch to the printer.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shared.extensions import db
from shared.models.base import created_at_column, enum_type


class PrintBatchStatus(enum.StrEnum):
    BUILT = "built"  # merged PDF and manifest written, waiting for an officer
    RELEASED = "released"  # handed to the printer: its letters are posted
    WITHDRAWN = "withdrawn"  # not sent: its letters go back to wait for the next batch


class PrintBatch(db.Model):
    __tablename__ = "print_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_date: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[PrintBatchStatus] = mapped_column(
        enum_type(PrintBatchStatus, "print_batch_status"), default=PrintBatchStatus.BUILT
    )
    letter_count: Mapped[int] = mapped_column(default=0)
    page_count: Mapped[int] = mapped_column(default=0)
    # Files under PRINT_BATCH_DIR: the merged print-ready PDF and the manifest CSV.
    pdf_path: Mapped[str | None] = mapped_column(sa.String(300))
    manifest_path: Mapped[str | None] = mapped_column(sa.String(300))
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    built_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    built_at: Mapped[datetime] = created_at_column()
    released_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    released_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    withdrawn_reason: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        # One batch in play (built, not yet released or withdrawn) at a time.
        sa.Index(
            "uq_print_batches_one_built",
            "status",
            unique=True,
            sqlite_where=sa.text("status = 'built'"),
            postgresql_where=sa.text("status = 'built'"),
        ),
    )


class LetterDocument(db.Model):
    """A letter's PDF as rendered (and as printed, once its batch is released)."""

    __tablename__ = "letter_documents"

    outbox_message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("outbox_messages.id"), primary_key=True
    )
    pdf: Mapped[bytes] = mapped_column(sa.LargeBinary)
    page_count: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    rendered_at: Mapped[datetime] = created_at_column()
