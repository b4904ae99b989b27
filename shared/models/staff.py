"""Council staff who use the back office, with roles and delegated limits."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shared.extensions import db
from shared.models.base import created_at_column, enum_type
from shared.models.encrypted import EncryptedText


class StaffRole(enum.StrEnum):
    OFFICER = "officer"  # works cases, requests refunds and write-offs
    TEAM_LEADER = "team_leader"  # approves within delegated limits
    ADMIN = "admin"  # manages staff, roles, limits and policy
    AUDITOR = "auditor"  # reads everything, changes nothing
    # Raises invoices for their own department, each checked by the accounts-receivable
    # team before it goes out; sees nothing else.
    SERVICE_DEPARTMENT = "service_department"


class LimitChangeStatus(enum.StrEnum):
    PENDING = "pending"  # above the ceiling: waits for a second administrator
    APPLIED = "applied"  # the limits it names are (or were) the person's limits
    REJECTED = "rejected"  # a second administrator said no; the old limits stayed
    CANCELLED = "cancelled"  # replaced by a later change before anyone decided


class StaffUser(db.Model):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[StaffRole] = mapped_column(enum_type(StaffRole, "staff_role"))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    # Made when the person first reaches the set-up page; only counts once
    # they have typed a code from it (totp_enrolled_at). Encrypted at rest, so a
    # copy of the database cannot make anyone's codes; a plain str in Python.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText("TOTP_ENCRYPTION_KEYS"))
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    # The last 30-second step whose code was accepted: a code for that step or
    # an earlier one is refused, so a code cannot be used twice.
    totp_last_step: Mapped[int | None]
    # Every signed-in session carries the version it started under; bumping it
    # ("sign out everywhere", deactivation, a new password or role) ends them all.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Set when an administrator gives someone a temporary password (new account,
    # reset): sign-in then stops at "choose a new password" until its owner has.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    active: Mapped[bool] = mapped_column(default=True)
    # The most this person may refund or write off without someone else's approval.
    refund_limit_pence: Mapped[int] = mapped_column(default=0)
    write_off_limit_pence: Mapped[int] = mapped_column(default=0)
    # The largest invoice this person may issue without someone else checking it.
    invoice_limit_pence: Mapped[int] = mapped_column(default=0, server_default="0")
    # A service-department user's department: the only one they raise invoices for.
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_departments.id"))
    # The team an officer works in, for the officer activity report (free text an
    # administrator sets, e.g. "Adult social care recovery"); none for a team of one.
    team: Mapped[str | None] = mapped_column(sa.String(60))
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(sa.DateTime())
    last_signed_in_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        sa.CheckConstraint("refund_limit_pence >= 0", name="refund_limit_not_negative"),
        sa.CheckConstraint("write_off_limit_pence >= 0", name="write_off_limit_not_negative"),
        sa.CheckConstraint("invoice_limit_pence >= 0", name="invoice_limit_not_negative"),
        sa.CheckConstraint(
            "role <> 'service_department' OR department_id IS NOT NULL",
            name="service_department_user_has_department",
        ),
    )

    @property
    def totp_enrolled(self) -> bool:
        """Whether they have confirmed an authenticator app with a code from it."""
        return self.totp_secret is not None and self.totp_enrolled_at is not None


class StaffLimitChange(db.Model):
    """One change to someone's delegated limits: who asked, who approved, before and after.

    Every change (and the limits someone is created with) is a row, so the
    current limits always name who set them. A change that raises a limit above
    STAFF_LIMIT_CEILING_PENCE is pending until a different administrator
    approves it; until then the person's limits on staff_users stay as they were.
    """

    __tablename__ = "staff_limit_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_users.id"), index=True)
    # None for the limits someone was created with.
    refund_limit_before_pence: Mapped[int | None]
    write_off_limit_before_pence: Mapped[int | None]
    refund_limit_pence: Mapped[int]
    write_off_limit_pence: Mapped[int]
    # The invoice limit (migration 0021): None on changes made before it existed.
    invoice_limit_before_pence: Mapped[int | None]
    invoice_limit_pence: Mapped[int | None]
    status: Mapped[LimitChangeStatus] = mapped_column(
        enum_type(LimitChangeStatus, "staff_limit_change_status")
    )
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = created_at_column()
    # The second administrator who approved or rejected it; None when none was needed.
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime())

    __table_args__ = (
        sa.CheckConstraint("refund_limit_pence >= 0", name="refund_limit_not_negative"),
        sa.CheckConstraint("write_off_limit_pence >= 0", name="write_off_limit_not_negative"),
        # Maker-checker in the schema too: nobody approves their own request.
        sa.CheckConstraint(
            "decided_by_id IS NULL OR decided_by_id <> requested_by_id",
            name="decided_by_someone_else",
        ),
        sa.CheckConstraint(
            "status = 'pending' OR decided_at IS NOT NULL", name="decided_when_not_pending"
        ),
    )
