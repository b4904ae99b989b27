"""Sending one outbox row: claim it, hand it to its provider, record what happened.

Used by the single-row job (shared/jobs/outbox.py deliver_message), the batch job
(shared/jobs/outbox_batch.py) and `flask outbox send-pending`. The guarantees are
described in shared/jobs/outbox.py; this module keeps them per row:

- claim(): a conditional UPDATE (pending and due -> sending, attempts + 1),
  committed before the provider is called, so of any number of jobs holding the
  same id only one sends it;
- attempt_delivery(): calls the provider with no transaction open, then records
  sent, failed for good (timeline and audit) or back to pending with last_error
  ("retry": the caller decides how the retry is scheduled).

claim_many() and record_sent_many() do the same for a batch's rows in one
statement each instead of one per row (a batch job's database time per text).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context

from shared.documents import render_attachment
from shared.extensions import db
from shared.integrations.email import EmailError, app_email_client
from shared.integrations.payments import PaymentGatewayError, app_gateway
from shared.integrations.sms import (
    OPTED_OUT,
    SmsClient,
    SmsError,
    app_sms_client,
    twilio_status_url,
)
from shared.jobs.context import app_context
from shared.models import ContactKind, OutboxChannel, OutboxMessage, OutboxStatus
from shared.models.base import utcnow
from shared.services import ledger
from shared.services.actors import SYSTEM
from shared.services.history import record_audit, record_timeline
from shared.services.message_status import record_opt_out

SENDABLE = (OutboxChannel.EMAIL, OutboxChannel.SMS, OutboxChannel.REFUND)
# A row that has failed this often is given up on and shown to officers as failed.
MAX_ATTEMPTS = 10
AUDIT_OBJECT = "outbox_message"
CLAIMED = "outbox.claimed"
_PROVIDER_ID_LENGTH = OutboxMessage.__table__.c.provider_id.type.length
_CHANNEL_WORDS = {
    OutboxChannel.EMAIL: "Email",
    OutboxChannel.SMS: "Text message",
    OutboxChannel.REFUND: "Card refund",
}
_CHANNEL_KINDS = {
    OutboxChannel.EMAIL: ContactKind.EMAIL,
    OutboxChannel.SMS: ContactKind.SMS,
    OutboxChannel.REFUND: ContactKind.SYSTEM,
}


def refund_idempotency_key(message_id: int) -> str:
    """The provider's idempotency key for a card refund row: one refund per row,
    however many times the row is sent."""
    return f"outbox-refund-{int(message_id)}"


@contextmanager
def job_app() -> Iterator[Flask]:
    """The app whose context is already active (CLI, an in-process worker in
    tests), else the worker's own app with a session that ends with the job."""
    if has_app_context():
        yield current_app._get_current_object()
    else:
        with app_context() as app:
            yield app


@dataclass(frozen=True)
class Attempt:
    """What a claimed row needs sent, read before the session closes."""

    id: int
    channel: OutboxChannel
    recipient: str
    subject: str | None
    body: str
    account_id: int | None
    attempt: int
    payload: dict
    html_body: str | None = None


@dataclass(frozen=True)
class Delivery:
    """What one attempt came to: "sent", "failed", "retry" (pending again, with the
    provider's error), "deferred" (not due yet) or "skipped: not pending"."""

    outcome: str
    attempt: int = 0
    error: BaseException | None = None


def due(now: datetime):
    """Rows that may go now: not deferred past `now` (quiet hours)."""
    return sa.or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now)


def claim(message_id: int) -> Attempt | None:
    """pending -> sending, attempts + 1, committed; None if the row is not pending
    (another job has it, or it is done) or not due yet (deferred out of quiet hours),
    so a job that runs twice sends once and a deferred text waits."""
    claimed = claim_many([message_id])
    return claimed[0] if claimed else None


def claim_many(message_ids: list[int]) -> list[Attempt]:
    """claim() for many rows in one conditional UPDATE ... RETURNING and one commit:
    the rows that were pending and due, in id order; the others are not touched. Each
    claim is audited: the audit row is also the claim's timestamp, which the sweeper
    reads to find rows a dead worker left. The session is closed before returning, so
    no connection (or SQLite lock, or PostgreSQL snapshot) is held during the
    provider call."""
    if not message_ids:
        return []
    claimed = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(message_ids),
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.channel.in_(SENDABLE),
            due(utcnow()),
        )
        .values(status=OutboxStatus.SENDING, attempts=OutboxMessage.attempts + 1)
        .returning(
            OutboxMessage.id,
            OutboxMessage.channel,
            OutboxMessage.recipient,
            OutboxMessage.subject,
            OutboxMessage.body,
            OutboxMessage.account_id,
            OutboxMessage.attempts,
            OutboxMessage.payload,
            OutboxMessage.html_body,
        )
        .execution_options(synchronize_session=False)
    ).all()
    attempts = sorted(
        (
            Attempt(
                id=row.id,
                channel=row.channel,
                recipient=row.recipient,
                subject=row.subject,
                body=row.body,
                account_id=row.account_id,
                attempt=row.attempts,
                payload=dict(row.payload or {}),
                html_body=row.html_body,
            )
            for row in claimed
        ),
        key=lambda attempt: attempt.id,
    )
    for attempt in attempts:
        record_audit(
            SYSTEM,
            CLAIMED,
            AUDIT_OBJECT,
            attempt.id,
            account_id=attempt.account_id,
            after={"attempt": attempt.attempt},
        )
    db.session.commit()
    db.session.close()
    return attempts


def deferred_among(message_ids: list[int]) -> set[int]:
    """Those of the rows that are pending but not due yet (quiet hours)."""
    if not message_ids:
        return set()
    found = set(
        db.session.scalars(
            sa.select(OutboxMessage.id).where(
                OutboxMessage.id.in_(message_ids),
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.not_before > utcnow(),
            )
        )
    )
    db.session.rollback()
    return found


def _attachments(attempt: Attempt) -> list[tuple[str, str, bytes]]:
    """The documents the row names (payload "attachment"), rendered now: an issued
    invoice renders the same whenever it is sent. Rendering reads the database, so
    the session is closed again before the provider is called."""
    spec = attempt.payload.get("attachment")
    if not spec:
        return []
    try:
        document = render_attachment(spec)
    finally:
        db.session.close()
    return [(document.filename, document.content_type, document.content)]


def send(app: Flask, attempt: Attempt, sms: SmsClient | None = None) -> str:
    """Hand the claimed row to its provider; returns the provider's id. `sms`: a
    client to reuse (a batch thread keeps one, and its connection, for its rows)."""
    if attempt.channel == OutboxChannel.REFUND:
        # recipient is the provider's payment id the money goes back to.
        return app_gateway(app).refund(
            attempt.recipient,
            int(attempt.payload["amount_pence"]),
            idempotency_key=refund_idempotency_key(attempt.id),
        )
    if attempt.channel == OutboxChannel.EMAIL:
        attachments = _attachments(attempt)
        client = app_email_client(app)
        extra: dict = {}
        if attachments:
            extra["attachments"] = attachments
        if attempt.html_body:
            extra["html"] = attempt.html_body
            extra["lang"] = str(attempt.payload.get("language") or "en")
        return client.send(attempt.recipient, attempt.subject or "", attempt.body, **extra)
    return (sms or app_sms_client(app)).send(
        attempt.recipient, attempt.body, status_callback=twilio_status_url(app.config)
    )


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def failure_reason(exc: Exception) -> str:
    """A short reason an officer can act on, for the timeline."""
    if isinstance(exc, SmsError) and exc.code == OPTED_OUT:
        return "the number has opted out of texts (replied STOP)"
    if isinstance(exc, SmsError) and exc.code == 21211:
        return "the number is not a valid phone number"
    if isinstance(exc, EmailError) and exc.code is not None and exc.code >= 500:
        return "the email address was refused"
    if isinstance(exc, PaymentGatewayError) and exc.code == "charge_already_refunded":
        return "the card payment has already been refunded in full"
    if isinstance(exc, PaymentGatewayError) and (
        exc.code == "resource_missing" or exc.http_status == 404
    ):
        return "the card payment was not found at the card provider"
    if getattr(exc, "transient", True):
        return f"gave up after {MAX_ATTEMPTS} attempts"
    return "the provider refused it"


def update_row(message_id: int, *conditions, **values) -> int:
    return db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount


def _timeline(attempt: Attempt, summary: str, outcome: str, detail: str | None = None) -> None:
    if attempt.account_id is None:
        return
    event_row = record_timeline(
        attempt.account_id,
        SYSTEM,
        summary[:300],
        kind=_CHANNEL_KINDS[attempt.channel],
        detail=detail,
        outcome=outcome,
    )
    event_row.outbox_message_id = attempt.id


def record_sent(attempt: Attempt, provider_id: str) -> None:
    # Unconditional: whatever happened to the row meanwhile, the provider has it.
    update_row(
        attempt.id,
        status=OutboxStatus.SENT,
        provider_id=provider_id[:_PROVIDER_ID_LENGTH],
        sent_at=utcnow(),
        last_error=None,
    )
    _sent_history(attempt, provider_id)
    db.session.commit()


def record_sent_many(sent: list[tuple[Attempt, str]]) -> None:
    """record_sent() for many rows in one transaction: one UPDATE by primary key for
    them all (executemany), their audit and timeline rows inserted together."""
    if not sent:
        return
    now = utcnow()
    db.session.execute(
        sa.update(OutboxMessage),
        [
            {
                "id": attempt.id,
                "status": OutboxStatus.SENT,
                "provider_id": provider_id[:_PROVIDER_ID_LENGTH],
                "sent_at": now,
                "last_error": None,
            }
            for attempt, provider_id in sent
        ],
    )
    for attempt, provider_id in sent:
        _sent_history(attempt, provider_id)
    db.session.commit()


def _sent_history(attempt: Attempt, provider_id: str) -> None:
    record_audit(
        SYSTEM,
        "outbox.sent",
        AUDIT_OBJECT,
        attempt.id,
        account_id=attempt.account_id,
        after={"attempt": attempt.attempt, "provider_id": provider_id},
    )
    word = _CHANNEL_WORDS[attempt.channel]
    if attempt.channel == OutboxChannel.REFUND:
        summary = f"{word} {attempt.subject or ''} accepted by the card provider ({provider_id})"
    else:
        what = f": {attempt.subject}" if attempt.subject else ""
        summary = f"{word} sent to {attempt.recipient}{what}"
    _timeline(attempt, " ".join(summary.split()), "sent")


def record_retry(attempt: Attempt, exc: BaseException) -> None:
    error = error_text(exc)
    update_row(
        attempt.id,
        OutboxMessage.status == OutboxStatus.SENDING,
        status=OutboxStatus.PENDING,
        last_error=error,
    )
    record_audit(
        SYSTEM,
        "outbox.retry",
        AUDIT_OBJECT,
        attempt.id,
        account_id=attempt.account_id,
        after={"attempt": attempt.attempt, "error": error},
    )
    db.session.commit()


def record_failed(attempt: Attempt, exc: Exception) -> None:
    error = error_text(exc)
    update_row(attempt.id, status=OutboxStatus.FAILED, last_error=error)
    record_audit(
        SYSTEM,
        "outbox.failed",
        AUDIT_OBJECT,
        attempt.id,
        account_id=attempt.account_id,
        after={"attempt": attempt.attempt, "error": error, "code": getattr(exc, "code", None)},
    )
    word = _CHANNEL_WORDS[attempt.channel]
    if attempt.channel == OutboxChannel.REFUND:
        summary = f"{word} {attempt.subject or ''} not made: {failure_reason(exc)}"
        # The ledger refund was posted when the refund was agreed; the money never
        # left, so it goes back on the account as credit, in this same commit.
        ledger.post_refund_returned(
            refund_entry_id=int(attempt.payload["refund_entry_id"]),
            reason=f"Card refund refused by the card provider: {error}",
            actor=SYSTEM,
        )
    else:
        summary = f"{word} to {attempt.recipient} not sent: {failure_reason(exc)}"
    _timeline(attempt, " ".join(summary.split()), "failed", detail=error)
    if (
        attempt.channel == OutboxChannel.SMS
        and isinstance(exc, SmsError)
        and exc.code == OPTED_OUT
        and attempt.account_id is not None
    ):
        # Twilio refused the text because the person replied STOP: record it on the
        # account, as the status callback does, so the contact rules stop texting them.
        record_opt_out(attempt.account_id)
    db.session.commit()


def deferred(message_id: int) -> bool:
    """Whether the row is pending but not due yet (a text waiting out quiet hours)."""
    found = db.session.scalar(
        sa.select(OutboxMessage.id).where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.not_before > utcnow(),
        )
    )
    db.session.rollback()
    return found is not None


def attempt_delivery(app: Flask, message_id: int, sms: SmsClient | None = None) -> Delivery:
    """Claim the row and send it once; the outcome is recorded before this returns."""
    attempt = claim(message_id)
    if attempt is None:
        return Delivery("deferred" if deferred(message_id) else "skipped: not pending")
    try:
        provider_id = send(app, attempt, sms)
    except Exception as exc:
        return record_failure(attempt, exc)
    record_sent(attempt, provider_id)
    return Delivery("sent", attempt.attempt)


def record_failure(attempt: Attempt, exc: Exception) -> Delivery:
    """Record a failed send: back to pending ("retry") or failed for good."""
    # Provider errors say whether trying again can help. Anything else is a bug
    # or a setting to fix, so the row is kept to go once it is fixed.
    if getattr(exc, "transient", True) and attempt.attempt < MAX_ATTEMPTS:
        record_retry(attempt, exc)
        return Delivery("retry", attempt.attempt, exc)
    record_failed(attempt, exc)
    return Delivery("failed", attempt.attempt, exc)
