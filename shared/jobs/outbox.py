"""The outbox dispatcher: delivers OutboxMessage rows by email (SMTP) and SMS (Twilio),
and card refunds to the card provider (Stripe).

1. A service writes the row in its own transaction. After that transaction
   commits, the session hook installed by create_app enqueues the new row's id
   on RQ as job "outbox-{id}" on "high" (enqueuing an id twice is harmless). A
   transaction that wrote many rows (a dunning run) gets batch jobs of up to 100
   ids on "default" instead (shared/jobs/outbox_batch.py), so a security code
   never waits behind them. If Redis is down the commit still succeeds; the
   sweeper enqueues the rows a minute later.
2. `deliver_message(id)` claims the row with a conditional UPDATE (pending ->
   sending, attempts + 1) and commits, so of two jobs for one row only one
   sends. It then calls the provider with no transaction open and records the
   outcome in a new one: sent (provider id, sent_at); failed for good
   (last_error, shown to officers on the timeline); or back to pending with
   last_error, raising so RQ retries with backoff. A batch job does the same for
   each of its rows, several at a time (shared/jobs/outbox_send.py holds the
   claim, send and record both share), and schedules its transient failures
   again in a delayed batch on the same backoff.
3. `sweep_outbox()` runs every minute (shared/jobs/cron_config.py): it returns
   rows left in "sending" by a worker that died to pending, and re-enqueues
   rows left pending (Redis was down, or RQ's retries ran out) that no waiting,
   running or scheduled job (single or batch) holds.

Each row is handed to the provider once, except when a worker dies after the
provider accepted the message and before the result was recorded: the sweeper
cannot tell that apart from a crash before sending, so it sends again. A
duplicate beats a lost message (at least once, never lost).

A card refund row is written in the same transaction as the ledger refund
(shared/services/approvals.py). It goes to the provider with the idempotency key
"outbox-refund-{id}", so even the sweeper's resend after a dead worker refunds
once. A refund the provider refuses for good is failed on the timeline and its
money is put back as credit on the account (ledger.post_refund_returned).

A text written in quiet hours carries not_before (naive UTC; the contact rules in
shared/domain/contact_rules.py set it). It is not enqueued when written, not
claimed before that moment (the job returns "deferred"), and the sweeper enqueues
it in the first minute after it: deferred, never dropped. Email and rows without
not_before go at once.

Letters are outbox rows too, but nothing here sends them: they are never claimed,
so they stay pending until the daily print batch takes them and an officer releases
it to the printer (shared/services/messages/print_batches.py), which marks them sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from redis.exceptions import RedisError
from rq import Queue, Retry
from sqlalchemy import event

from shared.extensions import db
from shared.jobs.outbox_batch import (
    BATCH_MIN,
    BATCH_QUEUE,
    enqueue_batches,
    enqueue_new_batches,
    enqueue_unique,
    ids_in_live_batches,
    job_id,
    outbox_redis,
    without_live_single_jobs,
)
from shared.jobs.outbox_send import (
    AUDIT_OBJECT,
    CLAIMED,
    MAX_ATTEMPTS,
    SENDABLE,
    attempt_delivery,
    due,
    job_app,
    refund_idempotency_key,
    update_row,
)
from shared.models import AuditLog, OutboxMessage, OutboxStatus
from shared.models.base import utcnow
from shared.services.actors import SYSTEM
from shared.services.history import record_audit

__all__ = [
    "BATCH_QUEUE",
    "MAX_ATTEMPTS",
    "OUTBOX_QUEUE",
    "SENDABLE",
    "deliver_message",
    "enqueue_messages",
    "install_enqueue_after_commit",
    "job_id",
    "outbox_redis",
    "refund_idempotency_key",
    "send_pending",
    "sweep_outbox",
]

logger = logging.getLogger(__name__)

# Security codes and password resets wait on these: never behind letters or reports.
OUTBOX_QUEUE = "high"
# RQ retries a transient failure this many times, this many seconds apart (the
# worker's --with-scheduler runs them). After that the sweeper starts a new round.
# Batch jobs follow the same intervals (shared/jobs/outbox_batch.py RETRY_INTERVALS).
RETRY = Retry(max=5, interval=[10, 60, 300, 900, 1800])
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
# Pages of SWEEP_BATCH one sweep may enqueue: texts deferred overnight all fall due at
# the end of quiet hours, and should not trickle out at one page a minute.
SWEEP_PAGES = 20
# Jobs for newly written rows are sent to Redis in pipelines of this many.
ENQUEUE_CHUNK = 500

_SESSION_KEY = "outbox_ids_to_enqueue"


# --- enqueueing -------------------------------------------------------------------------------


def _single_job_options(message_id: int) -> dict:
    return {
        "job_id": job_id(message_id),
        "retry": RETRY,
        "result_ttl": RESULT_TTL_SECONDS,
        "failure_ttl": FAILURE_TTL_SECONDS,
        "description": f"deliver outbox message {message_id}",
    }


def _enqueue_one(queue: Queue, message_id: int) -> bool:
    """Queue a delivery job unless one is already waiting or running; True if queued."""
    return enqueue_unique(
        queue,
        job_id(message_id),
        lambda: queue.enqueue(
            deliver_message,
            message_id,
            unique=True,
            job_timeout=JOB_TIMEOUT_SECONDS,
            **_single_job_options(message_id),
        ),
    )


def _enqueue_new(queue: Queue, message_ids: list[int]) -> int:
    """Jobs for rows a transaction has just written, which have never had one: one
    pipelined round trip per ENQUEUE_CHUNK rows instead of several per row. No check
    for an existing job is needed for a new row, and a second job for one row would
    be harmless anyway: the claim sends a row once."""
    queued = 0
    for start in range(0, len(message_ids), ENQUEUE_CHUNK):
        queued += len(
            queue.enqueue_many(
                [
                    Queue.prepare_data(
                        deliver_message,
                        (message_id,),
                        timeout=JOB_TIMEOUT_SECONDS,
                        **_single_job_options(message_id),
                    )
                    for message_id in message_ids[start : start + ENQUEUE_CHUNK]
                ]
            )
        )
    return queued


def enqueue_messages(
    ids: Iterable[int], *, app: Flask | None = None, new_rows: bool = False
) -> int:
    """Enqueue delivery for the row ids; returns how many rows were queued.

    Fewer than BATCH_MIN rows get a job each on OUTBOX_QUEUE (job id outbox-{id});
    more get batch jobs on BATCH_QUEUE (shared/jobs/outbox_batch.py). A row already
    held by a waiting, running or scheduled job is left alone (new_rows: the rows
    were written by the transaction that just committed, so none can have a job
    yet). Never raises for Redis being unreachable: it logs, and the sweeper
    enqueues the rows later."""
    app = app or current_app._get_current_object()
    wanted = list(dict.fromkeys(int(i) for i in ids))
    queued = 0
    if not wanted:
        return 0
    try:
        connection = outbox_redis(app)
        queue = Queue(OUTBOX_QUEUE, connection=connection)
        if new_rows:
            if len(wanted) >= BATCH_MIN:
                return enqueue_new_batches(connection, wanted)
            return _enqueue_new(queue, wanted)
        held = ids_in_live_batches(connection)
        wanted = [message_id for message_id in wanted if message_id not in held]
        if len(wanted) >= BATCH_MIN:
            return enqueue_batches(connection, without_live_single_jobs(connection, wanted))
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
    now = utcnow()
    ids = {
        obj.id
        for obj in session.new
        if isinstance(obj, OutboxMessage)
        and obj.channel in SENDABLE
        and obj.status in (None, OutboxStatus.PENDING)
        and (obj.not_before is None or obj.not_before <= now)  # deferred: the sweeper's
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


def _deliver(app: Flask, message_id: int) -> str:
    delivery = attempt_delivery(app, message_id)
    if delivery.outcome == "retry" and delivery.error is not None:
        raise delivery.error  # the row is pending again: RQ retries with backoff
    if delivery.outcome == "failed":
        logger.warning("outbox message %s failed: %s", message_id, delivery.error)
    return delivery.outcome


def deliver_message(message_id: int) -> str:
    """RQ job: send one outbox row; returns "sent", "failed", "deferred" (not due
    yet: the sweeper enqueues it again once it is) or "skipped: ...".

    Raises the provider's error after a transient failure (the row is pending
    again), so RQ retries it."""
    with job_app() as app:
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
        if update_row(
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


def _pending_ids(
    *, older_than: datetime | None = None, limit: int = SWEEP_BATCH, after_id: int = 0
) -> list[int]:
    """Pending sendable rows that are due (not deferred past now), oldest id first."""
    query = sa.select(OutboxMessage.id).where(
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.channel.in_(SENDABLE),
        due(utcnow()),
        OutboxMessage.id > after_id,
    )
    if older_than is not None:
        query = query.where(OutboxMessage.created_at <= older_than)
    return list(db.session.scalars(query.order_by(OutboxMessage.id).limit(limit)))


def sweep_outbox(
    *, pending_older_than: timedelta = PENDING_GRACE, sending_older_than: timedelta = STALE_SENDING
) -> dict[str, int]:
    """Periodic job: rescue rows stuck in sending, then enqueue rows left pending."""
    with job_app() as app:
        now = utcnow()
        rescued = _rescue_stale_sending(now - sending_older_than)
        ids: list[int] = []
        for _ in range(SWEEP_PAGES):
            page = _pending_ids(older_than=now - pending_older_than, after_id=ids[-1] if ids else 0)
            ids += page
            if len(page) < SWEEP_BATCH:
                break
        db.session.close()
        enqueued = enqueue_messages(ids, app=app)
    if rescued or enqueued:
        logger.info("outbox sweep: %s rescued, %s of %s enqueued", rescued, enqueued, len(ids))
    return {"rescued": rescued, "pending": len(ids), "enqueued": enqueued}


def send_pending(*, limit: int = 1000) -> dict[str, int]:
    """Deliver pending email, SMS and card refund rows now, in this process (the operators'
    `flask outbox send-pending`); workers running at the same time are safe."""
    counts = {"sent": 0, "failed": 0, "retry later": 0, "skipped": 0}
    with job_app() as app:
        ids = _pending_ids(limit=limit)
        db.session.close()
        for message_id in ids:
            try:
                outcome = _deliver(app, message_id)
            except Exception as exc:  # the row is pending again, with last_error
                logger.warning("outbox message %s not sent yet: %s", message_id, exc)
                counts["retry later"] += 1
                continue
            # A row that became deferred meanwhile is skipped, like one another worker took.
            name = outcome.split(":")[0]
            counts[name if name in counts else "skipped"] += 1
    return counts
