"""Management reports: each department's collection-rate target for a financial year,
and the monthly report pack sent to each department's contact.

The reports themselves are read from the ledger by set-based SQL (shared/reports/);
nothing here is a financial record. A target is edited in place (versioned, every
change on the audit log); a pack is written once per department and month so the
scheduled job, run twice, sends it once.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.extensions import db
from shared.models.base import created_at_column, enum_type, utcnow


class CollectionTarget(db.Model):
    """The share of what a department raises in a financial year (1 April to 31 March,
    named by the year it starts) that recovery should collect, set by an administrator."""

    __tablename__ = "collection_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("service_departments.id"))
    financial_year: Mapped[int]  # 2026 is 1 April 2026 to 31 March 2027
    target_basis_points: Mapped[int]  # 9500 is 95%
    # Saving over a newer version is refused (two admins editing at once).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    set_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(), default=utcnow, onupdate=utcnow)

    department = relationship("ServiceDepartment")

    __table_args__ = (
        sa.UniqueConstraint("department_id", "financial_year"),
        sa.CheckConstraint(
            "target_basis_points BETWEEN 0 AND 10000", name="target_basis_points_in_range"
        ),
        sa.CheckConstraint("financial_year BETWEEN 2000 AND 2100", name="financial_year_in_range"),
    )


class ReportPackStatus(enum.StrEnum):
    QUEUED = "queued"  # the email carrying it is in the outbox
    NO_CONTACT = "no_contact"  # built, but the department has no contact email to send to
    FAILED = "failed"  # building it failed; the error says why (the job retries)


class ReportPack(db.Model):
    """One department's monthly report pack (a PDF of its reports for the month),
    kept as sent: one per department and month."""

    __tablename__ = "report_packs"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("service_departments.id"))
    month: Mapped[date] = mapped_column(sa.Date)  # the first day of the month reported
    status: Mapped[ReportPackStatus] = mapped_column(
        enum_type(ReportPackStatus, "report_pack_status")
    )
    pdf: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    page_count: Mapped[int | None]
    sent_to: Mapped[str | None] = mapped_column(sa.String(254))
    outbox_message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_messages.id"))
    error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = created_at_column()

    department = relationship("ServiceDepartment")

    __table_args__ = (sa.UniqueConstraint("department_id", "month"),)
