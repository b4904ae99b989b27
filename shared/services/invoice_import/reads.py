"""What the back office and the command line show of invoice imports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from shared.extensions import db
from shared.models import ImportStatus, InvoiceImport, StaffUser
from shared.models.invoice_imports import ENDED
from shared.services.errors import NotFound

RECENT = 50


@dataclass(frozen=True)
class ImportSummary:
    import_id: int
    file_name: str | None
    format: str
    status: ImportStatus
    rows_total: int | None
    rows_processed: int
    invoices_created: int
    invoices_skipped: int
    accounts_created: int
    accounts_updated: int
    total_pence: int
    errors: list[str]
    error_count: int
    imported_by: str
    created_at: datetime
    finished_at: datetime | None

    @property
    def running(self) -> bool:
        return self.status not in ENDED

    @property
    def percent(self) -> int | None:
        if self.status != ImportStatus.IMPORTING or not self.rows_total:
            return None
        return min(100, self.rows_processed * 100 // self.rows_total)


def _query():
    return sa.select(InvoiceImport, StaffUser.full_name).outerjoin(
        StaffUser, StaffUser.id == InvoiceImport.created_by_staff_id
    )


def _summary(row: InvoiceImport, who: str | None) -> ImportSummary:
    return ImportSummary(
        import_id=row.id,
        file_name=row.file_name,
        format=row.format.value.upper(),
        status=ImportStatus(row.status),
        rows_total=row.rows_total,
        rows_processed=row.rows_processed,
        invoices_created=row.invoices_created,
        invoices_skipped=row.invoices_skipped,
        accounts_created=row.accounts_created,
        accounts_updated=row.accounts_updated,
        total_pence=row.total_pence,
        errors=list(row.errors or []),
        error_count=row.error_count,
        imported_by=who or "the command line",
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


def import_summary(import_id: int) -> ImportSummary:
    found = db.session.execute(_query().where(InvoiceImport.id == import_id)).first()
    if found is None:
        raise NotFound(f"No invoice import {import_id}")
    return _summary(*found)


def recent_imports(limit: int = RECENT) -> list[ImportSummary]:
    rows = db.session.execute(
        _query()
        .options(sa.orm.defer(InvoiceImport.errors))
        .order_by(InvoiceImport.created_at.desc(), InvoiceImport.id.desc())
        .limit(limit)
    )
    return [_summary(*row) for row in rows]


def summary_lines(summary: ImportSummary) -> list[str]:
    """The outcome in a few lines, as the command line prints it."""
    from shared.money import format_gbp

    lines = [f"Import {summary.import_id} ({summary.file_name or 'file'}): {summary.status.value}"]
    if summary.status == ImportStatus.COMPLETED:
        lines += [
            f"Rows read:                    {summary.rows_total:,}",
            f"Invoices created:             {summary.invoices_created:,} "
            f"({format_gbp(summary.total_pence)})",
            f"Skipped as already imported:  {summary.invoices_skipped:,}",
            f"Accounts created:             {summary.accounts_created:,}",
            f"Accounts updated:             {summary.accounts_updated:,}",
        ]
    elif summary.errors:
        lines += summary.errors
        if summary.error_count > len(summary.errors):
            lines.append(f"... and {summary.error_count - len(summary.errors):,} more errors")
    return lines
