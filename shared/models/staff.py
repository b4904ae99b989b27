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
    active: Mapped[bool] = mapped_column(default=True)
    # The most this person may refund or write off without someone else's approval.
    refund_limit_pence: Mapped[int] = mapped_column(default=0)
    write_off_limit_pence: Mapped[int] = mapped_column(default=0)
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(sa.DateTime())
    last_signed_in_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        sa.CheckConstraint("refund_limit_pence >= 0", name="refund_limit_not_negative"),
        sa.CheckConstraint("write_off_limit_pence >= 0", name="write_off_limit_not_negative"),
    )

    @property
    def totp_enrolled(self) -> bool:
        """Whether they have confirmed an authenticator app with a code from it."""
        return self.totp_secret is not None and self.totp_enrolled_at is not None
