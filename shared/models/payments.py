"""Card payments taken online through the payment provider's hosted checkout.

A CardCheckout is our record of one attempt to pay: what the payer chose to
pay (which invoices, how much), the provider's session and payment ids, and
where it got to. The money itself only reaches the ledger when the
provider's signed webhook (or the reconciliation job asking the provider)
says it was paid, never from the browser's return alone.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shared.extensions import db
from shared.models.base import created_at_column, enum_type


class CheckoutStatus(enum.StrEnum):
    CREATED = "created"  # our row exists; no provider session yet
    OPENING = "opening"  # one request has claimed it and is asking the provider
    OPEN = "open"  # the payer has been (or can be) sent to the hosted page
    PROCESSING = "processing"  # completed, payment still clearing (async methods)
    PAID = "paid"  # payment recorded on the ledger
    FAILED = "failed"  # the provider could not take the payment
    EXPIRED = "expired"  # the session lapsed unpaid
    ERROR = "error"  # the provider refused to create a session
    # The provider said it was paid, but not the amount or currency we asked for:
    # nothing was posted, and an officer looks at it (RefusedCardEvent).
    REFUSED = "refused"


# What may follow what; anything else is ignored as a late or repeated event.
CHECKOUT_TRANSITIONS: dict[CheckoutStatus, frozenset[CheckoutStatus]] = {
    CheckoutStatus.CREATED: frozenset({CheckoutStatus.OPENING}),
    # Back to CREATED when the provider was briefly unreachable: try again.
    CheckoutStatus.OPENING: frozenset(
        {CheckoutStatus.OPEN, CheckoutStatus.ERROR, CheckoutStatus.CREATED}
    ),
    CheckoutStatus.OPEN: frozenset(
        {
            CheckoutStatus.PROCESSING,
            CheckoutStatus.PAID,
            CheckoutStatus.FAILED,
            CheckoutStatus.EXPIRED,
            CheckoutStatus.REFUSED,
        }
    ),
    CheckoutStatus.PROCESSING: frozenset(
        {CheckoutStatus.PAID, CheckoutStatus.FAILED, CheckoutStatus.REFUSED}
    ),
    # A declined card can be retried on the same session, and a payment can
    # still land on a session we had given up on: money received always wins.
    CheckoutStatus.FAILED: frozenset(
        {CheckoutStatus.PAID, CheckoutStatus.PROCESSING, CheckoutStatus.REFUSED}
    ),
    CheckoutStatus.EXPIRED: frozenset({CheckoutStatus.PAID, CheckoutStatus.REFUSED}),
    CheckoutStatus.PAID: frozenset(),
    CheckoutStatus.ERROR: frozenset(),
    # Only an officer, having checked with the provider, settles one.
    CheckoutStatus.REFUSED: frozenset(),
}


class CardCheckout(db.Model):
    __tablename__ = "card_checkouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Our reference, sent to the provider as metadata and shown on the receipt.
    reference: Mapped[str] = mapped_column(sa.String(36), unique=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    portal_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("portal_users.id"))
    amount_pence: Mapped[int]
    # [[invoice_id, pence], ...] as the payer chose them.
    allocations: Mapped[list] = mapped_column(sa.JSON)
    receipt_email: Mapped[str | None] = mapped_column(sa.String(254))
    status: Mapped[CheckoutStatus] = mapped_column(
        enum_type(CheckoutStatus, "checkout_status"), default=CheckoutStatus.CREATED
    )
    # Two submissions of the same pay form (double click, two tabs racing)
    # carry the same key and get the same checkout.
    submission_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    provider_session_id: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    provider_session_url: Mapped[str | None] = mapped_column(sa.Text)
    provider_payment_id: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    payment_entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_entries.id"))
    failure_reason: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = created_at_column()
    completed_at: Mapped[datetime | None] = mapped_column(sa.DateTime())

    __table_args__ = (
        sa.CheckConstraint("amount_pence > 0", name="amount_positive"),
        # The reconciliation job looks for sessions left open.
        sa.Index("ix_card_checkouts_status_created", "status", "created_at"),
    )


class ProviderEvent(db.Model):
    """Every provider webhook event we accepted, once: a repeat is recognised by its id."""

    __tablename__ = "provider_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(20))
    event_id: Mapped[str] = mapped_column(sa.String(100))
    event_type: Mapped[str] = mapped_column(sa.String(80))
    outcome: Mapped[str] = mapped_column(sa.String(300))
    received_at: Mapped[datetime] = created_at_column()

    __table_args__ = (sa.UniqueConstraint("provider", "event_id"),)


class RefusedCardEvent(db.Model):
    """A provider event that said a checkout was paid, refused because the amount or
    currency it reported is not the checkout's: nothing was posted. One row per event;
    the back office lists them for an officer to check with the provider."""

    __tablename__ = "refused_card_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(20))
    event_id: Mapped[str] = mapped_column(sa.String(100))
    event_type: Mapped[str] = mapped_column(sa.String(80))
    checkout_id: Mapped[int] = mapped_column(sa.ForeignKey("card_checkouts.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    expected_amount_pence: Mapped[int]
    expected_currency: Mapped[str] = mapped_column(sa.String(3))
    # As the event stated them (None: it did not say). BIGINT: a provider's number is
    # not ours to trust to fit.
    reported_amount_pence: Mapped[int | None] = mapped_column(sa.BigInteger)
    reported_currency: Mapped[str | None] = mapped_column(sa.String(10))
    reason: Mapped[str] = mapped_column(sa.String(300))
    received_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        sa.UniqueConstraint("provider", "event_id"),
        sa.Index("ix_refused_card_events_received_at_id", "received_at", "id"),
    )
