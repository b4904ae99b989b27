"""The contact history of an account: one timeline of everything that happened."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shared.extensions import db
from shared.models.base import created_at_column, enum_type, utcnow


class ContactKind(enum.StrEnum):
    NOTE = "note"
    CALL_IN = "call_in"
    CALL_OUT = "call_out"
    LETTER = "letter"
    EMAIL = "email"
    SMS = "sms"
    VISIT = "visit"
    PORTAL = "portal"  # something the debtor did in the portal
    SYSTEM = "system"  # something a job or rule did


class ContactEvent(db.Model):
    __tablename__ = "contact_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"))
    occurred_at: Mapped[datetime] = mapped_column(sa.DateTime(), default=utcnow)
    kind: Mapped[ContactKind] = mapped_column(enum_type(ContactKind, "contact_kind"))
    summary: Mapped[str] = mapped_column(sa.String(300))
    detail: Mapped[str | None] = mapped_column(sa.Text)
    outcome: Mapped[str | None] = mapped_column(sa.String(60))
    follow_up_date: Mapped[date | None] = mapped_column(sa.Date)
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    portal_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("portal_users.id"))
    outbox_message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_messages.id"))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        sa.Index("ix_contact_events_account_occurred", "account_id", "occurred_at"),
        # The officer's diary: follow-ups due.
        sa.Index("ix_contact_events_staff_follow_up", "staff_id", "follow_up_date"),
    )
