"""Invoice files imported from the council's finance system, and the file itself
while its import waits or runs.

An import's row is not a financial record: its status and progress change as the
import runs (the invoices, lines and ledger entries it writes are the records, and
those are append-only), so it is updated in place, through the transitions below.
The file's bytes are kept in invoice_import_files only until the import has ended
(completed, rejected or failed): then the row is deleted; the SHA-256 stays on the
import.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shared.domain.invoice_import import FileFormat
from shared.extensions import db
from shared.models.base import created_at_column, enum_type


class ImportStatus(enum.StrEnum):
    """Where an import is. queued: waiting for a worker; validating: every row is being
    checked, nothing written; importing: the rows are being written, in one transaction;
    rejected: a row was wrong, nothing was written (errors says which); completed: the
    invoices are in; failed: it stopped on an error that is not the file's (nothing
    written: the transaction was rolled back)."""

    QUEUED = "queued"
    VALIDATING = "validating"
    IMPORTING = "importing"
    REJECTED = "rejected"
    COMPLETED = "completed"
    FAILED = "failed"


IMPORT_TRANSITIONS: dict[ImportStatus, frozenset[ImportStatus]] = {
    ImportStatus.QUEUED: frozenset({ImportStatus.VALIDATING, ImportStatus.FAILED}),
    ImportStatus.VALIDATING: frozenset(
        {ImportStatus.IMPORTING, ImportStatus.REJECTED, ImportStatus.FAILED}
    ),
    ImportStatus.IMPORTING: frozenset({ImportStatus.COMPLETED, ImportStatus.FAILED}),
    ImportStatus.REJECTED: frozenset(),
    ImportStatus.COMPLETED: frozenset(),
    ImportStatus.FAILED: frozenset(),
}
ENDED = frozenset(s for s, onward in IMPORT_TRANSITIONS.items() if not onward)
# A file whose import is under way or done cannot be imported again; one rejected or
# failed can (after the council has put right what was wrong).
_LIVE = ("queued", "validating", "importing", "completed")


class InvoiceImport(db.Model):
    __tablename__ = "invoice_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str | None] = mapped_column(sa.String(200))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    format: Mapped[FileFormat] = mapped_column(enum_type(FileFormat, "invoice_import_format"))
    status: Mapped[ImportStatus] = mapped_column(
        enum_type(ImportStatus, "invoice_import_status"), default=ImportStatus.QUEUED
    )
    # Progress: rows read while validating, then rows written of rows_total.
    rows_total: Mapped[int | None]
    rows_processed: Mapped[int] = mapped_column(default=0, server_default="0")
    invoices_created: Mapped[int] = mapped_column(default=0, server_default="0")
    invoices_skipped: Mapped[int] = mapped_column(default=0, server_default="0")
    accounts_created: Mapped[int] = mapped_column(default=0, server_default="0")
    accounts_updated: Mapped[int] = mapped_column(default=0, server_default="0")
    # What the created invoices come to (a file's total can pass 2**31 pence).
    total_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    # Rejected: the first errors (at most shared.services.invoice_import.ERRORS_KEPT),
    # and how many there were in all. Failed: what went wrong.
    errors: Mapped[list | None] = mapped_column(sa.JSON)
    error_count: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime())

    __table_args__ = (
        sa.Index(
            "uq_invoice_imports_live_sha256",
            "sha256",
            unique=True,
            sqlite_where=sa.text(f"status IN {_LIVE}"),
            postgresql_where=sa.text(f"status IN {_LIVE}"),
        ),
        # The imports page lists the newest first.
        sa.Index("ix_invoice_imports_created_at", "created_at"),
        sa.CheckConstraint("rows_processed >= 0", name="rows_processed_not_negative"),
        sa.CheckConstraint(
            "(status IN ('completed', 'rejected', 'failed')) = (finished_at IS NOT NULL)",
            name="finished_when_ended",
        ),
    )

    def can_become(self, status: ImportStatus) -> bool:
        return status in IMPORT_TRANSITIONS[self.status]


class InvoiceImportFile(db.Model):
    """The bytes of an uploaded file, from upload until its import has ended."""

    __tablename__ = "invoice_import_files"

    import_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invoice_imports.id"), primary_key=True, autoincrement=False
    )
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
