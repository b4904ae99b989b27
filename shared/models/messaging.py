"""The outbox: every message (and every other call to the outside world) starts here.

A service writes the row in the same transaction as the change that caused
it; after commit the row id is enqueued on RQ; a sweeper re-enqueues rows
left pending. So an outage delays a message but never loses it.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shared.extensions import db
from shared.models.base import created_at_column, enum_type


class OutboxChannel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"
    # Not a message: money back to a card, sent to the card provider by the same
    # claim-once, retry, fail-visibly machinery (shared/jobs/outbox.py).
    REFUND = "refund"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # written, not yet claimed by a worker
    SENDING = "sending"  # claimed by a worker (pending -> sending is the claim)
    SENT = "sent"  # accepted by the provider
    DELIVERED = "delivered"  # provider confirmed delivery
    FAILED = "failed"  # permanent failure, shown to officers
    CANCELLED = "cancelled"  # withdrawn before sending (e.g. Breathing Space began)


class MessagePurpose(enum.StrEnum):
    """Why a message is sent, which decides the contact rules it meets
    (shared/services/messages/rules.py)."""

    COLLECTION = "collection"  # asks for payment: reminders, demands, the Letter of Claim
    SERVICE = "service"  # tells the debtor something: receipts, plan decisions, notices
    BREATHING_SPACE = "breathing_space"  # about the Breathing Space itself


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    channel: Mapped[OutboxChannel] = mapped_column(enum_type(OutboxChannel, "outbox_channel"))
    template: Mapped[str] = mapped_column(sa.String(80))
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str | None] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    # The HTML alternative of an email laid out from a template (None: text only).
    html_body: Mapped[str | None] = mapped_column(sa.Text)
    purpose: Mapped[MessagePurpose] = mapped_column(
        enum_type(MessagePurpose, "message_purpose"),
        default=MessagePurpose.SERVICE,
        server_default=MessagePurpose.SERVICE.value,
    )
    # Not to be sent before this (naive UTC): a text deferred out of quiet hours.
    not_before: Mapped[datetime | None] = mapped_column(sa.DateTime())
    # The print batch a letter went out in (None: waiting for the next batch).
    print_batch_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("print_batches.id"), index=True
    )
    payload: Mapped[dict | None] = mapped_column(sa.JSON)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_type(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    # The provider's id (Twilio SID, SMTP message id) for matching callbacks.
    provider_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # Set by callers that must not send the same message twice (e.g. one
    # receipt per payment); a second insert with the same key is refused.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime())

    __table_args__ = (
        # The sweeper looks for rows left pending.
        sa.Index("ix_outbox_messages_status_created", "status", "created_at"),
    )
