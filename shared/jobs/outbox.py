"""The outbox dispatcher: delivers OutboxMessage rows by email (SMTP) and SMS (Twilio),
and card refunds to the card provider (Stripe).

1. A service writes the row in its own transaction. After that transaction
   commits, the session hook installed by create_app enqueues the new row's id
   on RQ as job "outbox-{id}" (enqueuing an id twice is harmless). If Redis is
   down the commit still succeeds; the sweeper enqueues the row a minute later.
2. `deliver_message(id)` claims the row with a conditional UPDATE (pending ->
   sending, attempts + 1) and commits, so of two jobs for one row only one
   sends. It then calls the provider with no transaction open and records the
   outcome in a new one: sent (provider id, sent_at); failed for good
   (last_error, shown to officers on the timeline); or back to pending with
   last_error, raising so RQ retries with backoff.
3. `sweep_outbox()` runs every minute (shared/jobs/cron_config.py): it returns
   rows left in "sending" by a worker that died to pending, and re-enqueues
   rows left pending (Redis was down, or RQ's retries ran out).

Each row is handed to the provider once, except when a worker dies after the
provider accepted the message and before the result was recorded: the sweeper
cannot tell that apart from a crash before sending, so it sends again. A
duplicate beats a lost message (at least once, never lost).

A card refund row is written in the same transaction as the ledger refund
(shared/services/approvals.py). It goes to the provider with the idempotency key
"outbox-refund-{id}", so even the sweeper's resend after a dead worker refunds
once. A refund the provider refuses for good is failed on the timeline and its
money is put back as credit on the account (ledger.post_refund_returned).

Letters are outbox rows too, but nothing here sends them yet: they are never
claimed, so they stay pending for the letter printing job.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import event

from shared.documents import render_attachment
from shared.extensions import db
from shared.integrations.email import EmailError, app_email_client
from shared.integrations.payments import PaymentGatewayError, app_gateway
from shared.integrations.sms import OPTED_OUT, SmsError, app_sms_client, twilio_status_url
from shared.jobs.context import app_context
from shared.jobs.queues import redis_connection
from shared.models import (
    AuditLog,
    ContactKind,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
)
from shared.models.base import utcnow
from shared.services import ledger
from shared.services.actors import SYSTEM
from shared.services.history import record_audit, record_timeline

logger = logging.getLogger(__name__)

# Security codes and password resets wait on these: never behind letters or reports.
OUTBOX_QUEUE = "high"
SENDABLE = (OutboxChannel.EMAIL, OutboxChannel.SMS, OutboxChannel.REFUND)
# RQ retries a transient failure this many times, this many seconds apart (the
# worker's --with-scheduler runs them). After that the sweeper starts a new round.
RETRY = Retry(max=5, interval=[10, 60, 300, 900, 1800])
# A row that has failed this often is given up on and shown to officers as failed.
MAX_ATTEMPTS = 10
# Longer than both providers' timeouts (20 s each), so a live job is never killed mid-send.
JOB_TIMEOUT_SECONDS = 120
# A finished job's id is kept this long; the sweeper replaces it if the row is pending again.
RESULT_TTL_SECONDS = 3600
FAILURE_TTL_SECONDS = 7 * 24 * 3600
# Rows younger than this are left to their after-commit job.
PENDING_GRACE = timedelta(minutes=1)
# Far longer than JOB_TIMEOUT_SECONDS: a row still "sending" after this lost its worker.
STALE_SENDING = timedelta(minutes=10)
SWEEP_BATCH = 500
# Jobs for newly written rows are sent to Redis in pipelines of this many.
ENQUEUE_CHUNK = 500

AUDIT_OBJECT = "outbox_message"
CLAIMED = "outbox.claimed"
_ENDED = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}
_SESSION_KEY = "outbox_ids_to_enqueue"
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


def job_id(message_id: int) -> str:
    """The RQ job id for a row: one job per row, whoever enqueues it."""
    return f"outbox-{int(message_id)}"


# --- enqueueing -------------------------------------------------------------------------------


def outbox_redis(app: Flask) -> Redis:
    """One Redis client (and connection pool) per app, with short timeouts: a web
    request that commits a message must never wait long on Redis."""
    redis = app.extensions.get("outbox_redis")
    if redis is None:
        redis = redis_connection(str(app.config["REDIS_URL"]), socket_timeout=2)
        app.extensions["outbox_redis"] = redis
    return redis


def _enqueue_one(queue: Queue, message_id: int) -> bool:
    """Queue a delivery job unless one is already waiting or running; True if queued."""
    jid = job_id(message_id)
    for _ in range(3):
        try:
            queue.enqueue(
                deliver_message,
                message_id,
                job_id=jid,
                unique=True,
                retry=RETRY,
                job_timeout=JOB_TIMEOUT_SECONDS,
                result_ttl=RESULT_TTL_SECONDS,
                failure_ttl=FAILURE_TTL_SECONDS,
                description=f"deliver outbox message {message_id}",
            )
            return True
        except DuplicateJobError:
            try:
                existing = Job.fetch(jid, connection=queue.connection)
            except NoSuchJobError:
                continue  # expired just now: try again
            if existing.get_status(refresh=False) not in _ENDED:
                return False  # queued, scheduled for a retry or running: it will deliver
            # An old job for this row has ended (retries used up, or it ran while the
            # row was not pending). The row is pending again, so it needs a new job.
            existing.delete()
    return False


def _enqueue_new(queue: Queue, message_ids: list[int]) -> int:
    """Jobs for rows a transaction has just written, which have never had one: one
    pipelined round trip per ENQUEUE_CHUNK rows instead of several per row, so a batch
    job writing thousands of notices (the plan monitor) does not spend its time
    waiting on Redis. No check for an existing job is needed for a new row, and a
    second job for one row would be harmless anyway: the claim sends a row once."""
    queued = 0
    for start in range(0, len(message_ids), ENQUEUE_CHUNK):
        queued += len(
            queue.enqueue_many(
                [
                    Queue.prepare_data(
                        deliver_message,
                        (message_id,),
                        job_id=job_id(message_id),
                        retry=RETRY,
                        timeout=JOB_TIMEOUT_SECONDS,
                        result_ttl=RESULT_TTL_SECONDS,
                        failure_ttl=FAILURE_TTL_SECONDS,
                        description=f"deliver outbox message {message_id}",
                    )
                    for message_id in message_ids[start : start + ENQUEUE_CHUNK]
                ]
            )
        )
    return queued


def enqueue_messages(
    ids: Iterable[int], *, app: Flask | None = None, new_rows: bool = False
) -> int:
    """Enqueue a delivery job for each row id (job id outbox-{id}); returns how many
    were queued. An id already waiting is left alone (new_rows: the rows were written
    by the transaction that just committed, so none can have a job yet). Never raises
    for Redis being unreachable: it logs, and the sweeper enqueues the rows later."""
    app = app or current_app._get_current_object()
    wanted = list(dict.fromkeys(int(i) for i in ids))
    queued = 0
    if not wanted:
        return 0
    try:
        queue = Queue(OUTBOX_QUEUE, connection=outbox_redis(app))
        if new_rows:
            return _enqueue_new(queue, wanted)
        for message_id in wanted:
            queued += _enqueue_one(queue, message_id)
    except (RedisError, OSError) as exc:
        # A batch can be thousands of ids (a Bacs report's messages): name a few.
        shown = ", ".join(map(str, wanted[:10])) + (", ..." if len(wanted) > 10 else "")
        logger.warning(
            "could not enqueue %d outbox message(s) [%s] (%s: %s); the sweeper will send them",
            len(wanted),
            shown,
            type(exc).__name__,
            exc,
        )
    return queued


def _collect_new_messages(session, _flush_context) -> None:
    """after_flush: remember the ids of sendable rows (email, SMS, card refund) this flush inserted.

    Only rows added through the ORM are seen (a Core INSERT waits for the
    sweeper). A row whose savepoint is rolled back is still enqueued; its job
    finds no row to claim and does nothing."""
    ids = {
        obj.id
        for obj in session.new
        if isinstance(obj, OutboxMessage)
        and obj.channel in SENDABLE
        and obj.status in (None, OutboxStatus.PENDING)
    }
    if ids:
        session.info.setdefault(_SESSION_KEY, set()).update(ids)


def _enqueue_after_commit(session) -> None:
    """after_commit: the rows now exist for a worker to read, so enqueue them."""
    ids = session.info.pop(_SESSION_KEY, None)
    if not ids or not has_app_context():
        return
    try:
        enqueue_messages(sorted(ids), app=current_app._get_current_object(), new_rows=True)
    except Exception:  # the commit has happened: a queue problem must not undo the request
        logger.exception("enqueueing outbox messages %s failed; the sweeper will", sorted(ids))


def _forget_after_rollback(session) -> None:
    """after_rollback: the rows were never written, so nothing to send."""
    session.info.pop(_SESSION_KEY, None)


def install_enqueue_after_commit(app: Flask) -> None:
    """Enqueue every new sendable outbox row after its transaction commits, so no
    service has to remember to (called by create_app; safe to call again)."""
    hooks = {
        "after_flush": _collect_new_messages,
        "after_commit": _enqueue_after_commit,
        "after_rollback": _forget_after_rollback,
    }
    for name, fn in hooks.items():
        if not event.contains(db.session, name, fn):
            event.listen(db.session, name, fn)


# --- delivering -------------------------------------------------------------------------------


@contextmanager
def _job_app() -> Iterator[Flask]:
    """The app whose context is already active (CLI, an in-process worker in
    tests), else the worker's own app with a session that ends with the job."""
    if has_app_context():
        yield current_app._get_current_object()
    else:
        with app_context() as app:
            yield app


@dataclass(frozen=True)
class _Attempt:
    """What a claimed row needs sent, read before the session closes."""

    id: int
    channel: OutboxChannel
    recipient: str
    subject: str | None
    body: str
    account_id: int | None
    attempt: int
    payload: dict


def _claim(message_id: int) -> _Attempt | None:
    """pending -> sending, attempts + 1, committed; None if the row is not pending
    (another job has it, or it is done), so a job that runs twice sends once."""
    claimed = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.channel.in_(SENDABLE),
        )
        .values(status=OutboxStatus.SENDING, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        return None
    row = db.session.execute(
        sa.select(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .execution_options(populate_existing=True)
    ).scalar_one()
    attempt = _Attempt(
        id=row.id,
        channel=row.channel,
        recipient=row.recipient,
        subject=row.subject,
        body=row.body,
        account_id=row.account_id,
        attempt=row.attempts,
        payload=dict(row.payload or {}),
    )
    # Also the claim's timestamp: the sweeper reads it to find rows a dead worker left.
    record_audit(
        SYSTEM,
        CLAIMED,
        AUDIT_OBJECT,
        row.id,
        account_id=row.account_id,
        after={"attempt": attempt.attempt},
    )
    db.session.commit()
    # No connection (or SQLite lock, or PostgreSQL snapshot) held during the provider call.
    db.session.close()
    return attempt


def _attachments(attempt: _Attempt) -> list[tuple[str, str, bytes]]:
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


def _send(app: Flask, attempt: _Attempt) -> str:
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
        if attachments:
            return client.send(
                attempt.recipient, attempt.subject or "", attempt.body, attachments=attachments
            )
        return client.send(attempt.recipient, attempt.subject or "", attempt.body)
    return app_sms_client(app).send(
        attempt.recipient, attempt.body, status_callback=twilio_status_url(app.config)
    )


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def _failure_reason(exc: Exception) -> str:
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


def _set(message_id: int, *conditions, **values) -> int:
    return db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount


def _timeline(attempt: _Attempt, summary: str, outcome: str, detail: str | None = None) -> None:
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


def _record_sent(attempt: _Attempt, provider_id: str) -> None:
    # Unconditional: whatever happened to the row meanwhile, the provider has it.
    _set(
        attempt.id,
        status=OutboxStatus.SENT,
        provider_id=provider_id[:_PROVIDER_ID_LENGTH],
        sent_at=utcnow(),
        last_error=None,
    )
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
    db.session.commit()


def _record_retry(attempt: _Attempt, exc: BaseException) -> None:
    error = _error_text(exc)
    _set(
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


def _record_failed(attempt: _Attempt, exc: Exception) -> None:
    error = _error_text(exc)
    _set(attempt.id, status=OutboxStatus.FAILED, last_error=error)
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
        summary = f"{word} {attempt.subject or ''} not made: {_failure_reason(exc)}"
        # The ledger refund was posted when the refund was agreed; the money never
        # left, so it goes back on the account as credit, in this same commit.
        ledger.post_refund_returned(
            refund_entry_id=int(attempt.payload["refund_entry_id"]),
            reason=f"Card refund refused by the card provider: {error}",
            actor=SYSTEM,
        )
    else:
        summary = f"{word} to {attempt.recipient} not sent: {_failure_reason(exc)}"
    _timeline(attempt, " ".join(summary.split()), "failed", detail=error)
    db.session.commit()


def _deliver(app: Flask, message_id: int) -> str:
    attempt = _claim(message_id)
    if attempt is None:
        return "skipped: not pending"
    try:
        provider_id = _send(app, attempt)
    except Exception as exc:
        # Provider errors say whether trying again can help. Anything else is a bug
        # or a setting to fix, so the row is kept to go once it is fixed.
        if getattr(exc, "transient", True) and attempt.attempt < MAX_ATTEMPTS:
            _record_retry(attempt, exc)
            raise  # RQ retries with backoff
        _record_failed(attempt, exc)
        logger.warning("outbox message %s failed: %s", message_id, exc)
        return "failed"
    _record_sent(attempt, provider_id)
    return "sent"


def deliver_message(message_id: int) -> str:
    """RQ job: send one outbox row; returns "sent", "failed" or "skipped: ...".

    Raises the provider's error after a transient failure (the row is pending
    again), so RQ retries it."""
    with _job_app() as app:
        return _deliver(app, int(message_id))


# --- sweeping ---------------------------------------------------------------------------------


def _rescue_stale_sending(cutoff: datetime) -> int:
    """Return rows whose last claim is older than `cutoff` (their worker died) to pending."""
    last_claim = (
        sa.select(sa.func.max(AuditLog.occurred_at))
        .where(
            AuditLog.object_type == AUDIT_OBJECT,
            AuditLog.object_id == sa.cast(OutboxMessage.id, sa.String),
            AuditLog.action == CLAIMED,
        )
        .correlate(OutboxMessage)
        .scalar_subquery()
    )
    stale = db.session.execute(
        sa.select(OutboxMessage.id, OutboxMessage.account_id, OutboxMessage.attempts).where(
            OutboxMessage.status == OutboxStatus.SENDING,
            sa.or_(last_claim.is_(None), last_claim < cutoff),
        )
    ).all()
    rescued = 0
    for message_id, account_id, attempts in stale:
        error = f"worker stopped during attempt {attempts}; the message may already have gone"
        if _set(
            message_id,
            OutboxMessage.status == OutboxStatus.SENDING,
            status=OutboxStatus.PENDING,
            last_error=error,
        ):
            record_audit(
                SYSTEM,
                "outbox.rescued",
                AUDIT_OBJECT,
                message_id,
                account_id=account_id,
                after={"attempt": attempts},
            )
            rescued += 1
    db.session.commit()
    return rescued


def _pending_ids(*, older_than: datetime | None = None, limit: int = SWEEP_BATCH) -> list[int]:
    query = sa.select(OutboxMessage.id).where(
        OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.channel.in_(SENDABLE)
    )
    if older_than is not None:
        query = query.where(OutboxMessage.created_at <= older_than)
    return list(db.session.scalars(query.order_by(OutboxMessage.id).limit(limit)))


def sweep_outbox(
    *, pending_older_than: timedelta = PENDING_GRACE, sending_older_than: timedelta = STALE_SENDING
) -> dict[str, int]:
    """Periodic job: rescue rows stuck in sending, then enqueue rows left pending."""
    with _job_app() as app:
        now = utcnow()
        rescued = _rescue_stale_sending(now - sending_older_than)
        ids = _pending_ids(older_than=now - pending_older_than)
        db.session.close()
        enqueued = enqueue_messages(ids, app=app)
    if rescued or enqueued:
        logger.info("outbox sweep: %s rescued, %s of %s enqueued", rescued, enqueued, len(ids))
    return {"rescued": rescued, "pending": len(ids), "enqueued": enqueued}


def send_pending(*, limit: int = 1000) -> dict[str, int]:
    """Deliver pending email, SMS and card refund rows now, in this process (the operators'
    `flask outbox send-pending`); workers running at the same time are safe."""
    counts = {"sent": 0, "failed": 0, "retry later": 0, "skipped": 0}
    with _job_app() as app:
        ids = _pending_ids(limit=limit)
        db.session.close()
        for message_id in ids:
            try:
                outcome = _deliver(app, message_id)
            except Exception as exc:  # the row is pending again, with last_error
                logger.warning("outbox message %s not sent yet: %s", message_id, exc)
                counts["retry later"] += 1
                continue
            counts["sent" if outcome == "sent" else outcome.split(":")[0]] += 1
    return counts
