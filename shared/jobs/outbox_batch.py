"""Delivery jobs for many outbox rows at once, and the job ids of both kinds.

A transaction that writes BATCH_MIN or more sendable rows at once (a dunning run,
the plan monitor, a Bacs report's payer messages) gets one job per BATCH_SIZE
rows on BATCH_QUEUE instead of a job per row on "high": a forked RQ job costs a
few hundred milliseconds before it sends anything, and ten thousand of them on
"high" would sit in front of the next security code. Fewer rows (a security code,
an officer's email) keep their own job on "high".

`deliver_batch(ids)` claims its rows with one conditional UPDATE (the single-row
job's claim, for many rows), sends them BATCH_THREADS at a time, each thread with
its own app context, database session and SMS client, and records the results as
they come in, RECORD_EVERY rows a transaction (shared/jobs/outbox_send.py). A row
is sent once however many jobs (batch or single, or a batch run twice) hold its
id, and its timeline and audit rows are the single-row job's. A transient failure puts
that row alone back to pending and schedules it, with the other rows of the batch
that failed on the same attempt, in a delayed batch job on the single-row job's
backoff (RETRY_INTERVALS: the worker's --with-scheduler runs it); after those the
sweeper takes it, as it does a single row whose RQ retries ran out. Rows not due
yet (quiet hours) are left pending for the sweeper.

The sweeper asks `ids_in_live_batches()` which ids a waiting, running or
scheduled batch job holds, and leaves those alone.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from shared.clock import utcnow
from shared.extensions import db
from shared.integrations.sms import SmsClient, app_sms_client
from shared.jobs.outbox_send import (
    Attempt,
    claim_many,
    deferred_among,
    job_app,
    record_failure,
    record_sent_many,
    send,
)
from shared.jobs.queues import redis_connection

logger = logging.getLogger("shared.jobs.outbox")

# Below the security codes on "high"; workers take "high" first (Procfile).
BATCH_QUEUE = "default"
BATCH_SIZE = 100
# A commit writing fewer rows than this gets a job per row on "high".
BATCH_MIN = 10
BATCH_THREADS = 8
# Sent rows are recorded this many to a transaction (a worker dying loses at most
# these results: the rows are rescued and sent again, as for a single row).
RECORD_EVERY = 10
# 100 rows, 8 at a time, each within the providers' 20 s timeouts: under 5 minutes.
BATCH_JOB_TIMEOUT_SECONDS = 600
# The single-row job's RQ backoff (shared/jobs/outbox.py RETRY), attempt by attempt.
RETRY_INTERVALS = (10, 60, 300, 900, 1800)
RESULT_TTL_SECONDS = 3600
FAILURE_TTL_SECONDS = 7 * 24 * 3600
_JOB = "shared.jobs.outbox_batch.deliver_batch"
_PREFIX = "outbox-batch-"
_ENDED = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


def job_id(message_id: int) -> str:
    """The RQ job id for a row: one job per row, whoever enqueues it."""
    return f"outbox-{int(message_id)}"


def batch_job_id(message_ids: list[int], attempt: int = 0) -> str:
    """A batch's job id, from its first and last row id (and, for a retry, the attempt)."""
    suffix = f"-retry{attempt}" if attempt else ""
    return f"{_PREFIX}{int(message_ids[0])}-{int(message_ids[-1])}{suffix}"


def outbox_redis(app: Flask) -> Redis:
    """One Redis client (and connection pool) per app, with short timeouts: a web
    request that commits a message must never wait long on Redis."""
    redis = app.extensions.get("outbox_redis")
    if redis is None:
        redis = redis_connection(str(app.config["REDIS_URL"]), socket_timeout=2)
        app.extensions["outbox_redis"] = redis
    return redis


def chunks(ids: list[int], size: int = BATCH_SIZE) -> list[list[int]]:
    ordered = sorted(ids)
    return [ordered[start : start + size] for start in range(0, len(ordered), size)]


def enqueue_unique(queue: Queue, jid: str, enqueue: Callable[[], object]) -> bool:
    """Run `enqueue` (which must pass unique=True and job id `jid`) unless a job with
    that id is waiting, scheduled or running; one that has ended is replaced."""
    for _ in range(3):
        try:
            enqueue()
            return True
        except DuplicateJobError:
            try:
                existing = Job.fetch(jid, connection=queue.connection)
            except NoSuchJobError:
                continue  # expired just now: try again
            if existing.get_status(refresh=False) not in _ENDED:
                return False  # queued, scheduled for a retry or running: it will deliver
            # An old job with this id has ended, and its rows are pending again.
            existing.delete()
    return False


def _batch_options(ids: list[int]) -> dict:
    return {
        "timeout": BATCH_JOB_TIMEOUT_SECONDS,
        "result_ttl": RESULT_TTL_SECONDS,
        "failure_ttl": FAILURE_TTL_SECONDS,
        "description": f"deliver {len(ids)} outbox messages {ids[0]}..{ids[-1]}",
    }


def enqueue_new_batches(connection: Redis, ids: list[int]) -> int:
    """Batch jobs for rows a transaction has just written (none can have a job yet),
    in one pipelined round trip; returns how many rows were queued."""
    batches = chunks(ids)
    queue = Queue(BATCH_QUEUE, connection=connection)
    queue.enqueue_many(
        [
            Queue.prepare_data(_JOB, (batch,), job_id=batch_job_id(batch), **_batch_options(batch))
            for batch in batches
        ]
    )
    return sum(map(len, batches))


def enqueue_batches(connection: Redis, ids: list[int]) -> int:
    """Batch jobs for rows the sweeper found pending, each unique by its job id;
    returns how many rows were queued."""
    queue = Queue(BATCH_QUEUE, connection=connection)
    queued = 0
    for batch in chunks(ids):
        jid = batch_job_id(batch)
        options = _batch_options(batch)
        options["job_timeout"] = options.pop("timeout")
        if enqueue_unique(
            queue,
            jid,
            lambda b=batch, j=jid, o=options: queue.enqueue(_JOB, b, job_id=j, unique=True, **o),
        ):
            queued += len(batch)
    return queued


def ids_in_live_batches(connection: Redis) -> set[int]:
    """Row ids held by batch jobs that are waiting, running or scheduled to retry."""
    queue = Queue(BATCH_QUEUE, connection=connection)
    started = StartedJobRegistry(queue=queue).get_job_and_execution_ids(cleanup=False)
    jids = [
        *queue.get_job_ids(),
        *(jid for jid, _execution in started),
        *ScheduledJobRegistry(queue=queue).get_job_ids(cleanup=False),
    ]
    held: set[int] = set()
    batch_ids = list(dict.fromkeys(j for j in jids if j.startswith(_PREFIX)))
    for job in Job.fetch_many(batch_ids, connection=connection):
        if job is not None and job.get_status(refresh=False) not in _ENDED:
            held.update(int(i) for i in job.args[0])
    return held


def without_live_single_jobs(connection: Redis, ids: Iterable[int]) -> list[int]:
    """The ids whose single-row job is not waiting, running or scheduled for a retry."""
    wanted = list(ids)
    jobs = Job.fetch_many([job_id(i) for i in wanted], connection=connection)
    return [
        message_id
        for message_id, job in zip(wanted, jobs, strict=True)
        if job is None or job.get_status(refresh=False) in _ENDED
    ]


# --- delivering -------------------------------------------------------------------------------


def _retry_delay(attempt: int) -> int | None:
    """Seconds before the next try after failed attempt `attempt`; None: the sweeper's."""
    return RETRY_INTERVALS[attempt - 1] if 1 <= attempt <= len(RETRY_INTERVALS) else None


def _schedule_retries(app: Flask, retries: dict[int, list[int]]) -> None:
    """One delayed batch job per attempt number for the rows that failed transiently."""
    try:
        queue = Queue(BATCH_QUEUE, connection=outbox_redis(app))
        for attempt, ids in sorted(retries.items()):
            delay = _retry_delay(attempt)
            if delay is None:
                continue  # RQ's share of retries is used up: the sweeper's now
            at = utcnow().replace(tzinfo=UTC) + timedelta(seconds=delay)
            for batch in chunks(ids):
                jid = batch_job_id(batch, attempt)

                def schedule(batch=batch, jid=jid, at=at) -> None:
                    job = queue.create_job(
                        _JOB,
                        args=(batch,),
                        job_id=jid,
                        status=JobStatus.SCHEDULED,
                        **_batch_options(batch),
                    )
                    queue.schedule_job(job, at, unique=True)

                enqueue_unique(queue, jid, schedule)
    except (RedisError, OSError) as exc:
        logger.warning("could not schedule outbox retries (%s); the sweeper will", exc)


def _threads(rows: int) -> int:
    # SQLite lets one writer in at a time: more threads would only queue on its lock.
    if db.engine.dialect.name == "sqlite":
        return 1
    return max(1, min(BATCH_THREADS, rows))


def deliver_batch(message_ids: list[int]) -> dict[str, int]:
    """RQ job: send the rows, several at a time; returns how many were "sent",
    "failed", "retry" (pending again, scheduled), "deferred" and "skipped: not pending".

    The rows are claimed together (one conditional UPDATE: a row another job holds
    or has sent is not claimed), sent by BATCH_THREADS threads, and recorded by this
    thread RECORD_EVERY rows a transaction while the others go on sending. Raises
    at the end, after every claimed row has been sent, if recording failed (the
    database): those rows stay "sending" and the sweeper rescues them as a dead
    worker's (at least once, never lost)."""
    ids = list(dict.fromkeys(int(i) for i in message_ids))
    counts: Counter[str] = Counter()
    retries: dict[int, list[int]] = defaultdict(list)
    errors: list[str] = []
    local = threading.local()
    with job_app() as app:
        attempts = claim_many(ids)
        claimed = {attempt.id for attempt in attempts}
        unclaimed = [message_id for message_id in ids if message_id not in claimed]
        waiting = deferred_among(unclaimed)
        counts["deferred"] += len(waiting)
        counts["skipped: not pending"] += len(unclaimed) - len(waiting)

        def send_one(attempt: Attempt) -> tuple[Attempt, str | None, Exception | None]:
            with app.app_context():  # its own session (email attachments read the database)
                try:
                    sms = getattr(local, "sms", None)
                    if sms is None:
                        sms = local.sms = _sms_client(app)
                    return attempt, send(app, attempt, sms), None
                except Exception as exc:
                    return attempt, None, exc
                finally:
                    db.session.remove()

        def record(sent: list[tuple[Attempt, str]]) -> None:
            try:
                record_sent_many(sent)
                counts["sent"] += len(sent)
            except Exception as exc:
                db.session.rollback()
                logger.exception("recording %d sent outbox messages failed", len(sent))
                errors.append(f"{[a.id for a, _ in sent]}: {exc!r}")
            sent.clear()

        sent: list[tuple[Attempt, str]] = []
        with ThreadPoolExecutor(_threads(len(attempts)), "outbox-batch") as pool:
            for attempt, provider_id, exc in pool.map(send_one, attempts):
                if exc is None and provider_id is not None:
                    sent.append((attempt, provider_id))
                    if len(sent) >= RECORD_EVERY:
                        record(sent)
                    continue
                try:
                    delivery = record_failure(attempt, exc or RuntimeError("no provider id"))
                except Exception as record_exc:
                    db.session.rollback()
                    errors.append(f"{attempt.id}: {record_exc!r}")
                    continue
                counts[delivery.outcome] += 1
                if delivery.outcome == "retry":
                    retries[delivery.attempt].append(attempt.id)
                else:
                    logger.warning("outbox message %s failed: %s", attempt.id, exc)
            record(sent)
        db.session.close()
        if retries:
            _schedule_retries(app, retries)
    if errors:
        raise RuntimeError(f"{len(errors)} recordings failed: {errors[:5]}")
    return {name: count for name, count in counts.items() if count}


def _sms_client(app: Flask) -> SmsClient | None:
    """This thread's SMS client (None when Twilio is not configured: email-only setups)."""
    try:
        return app_sms_client(app)
    except ValueError:
        return None
