"""A batch job enqueued once per business day, whoever enqueues it.

The scheduler's daily entries (shared/jobs/cron_config.py) enqueue the day's job
under an id made from the day with unique=True, and the finished job is kept for
RESULT_TTL_SECONDS (longer than a day), so a second scheduler, a restart or a manual
enqueue for the same day runs it once. A failed or stopped run may be enqueued
again: every daily job's work is idempotent anyway (the plan monitor, periodic
invoices, the general-ledger journal), the id just saves a pointless second pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from redis import Redis
from rq import Queue, get_current_job
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from shared.jobs.context import app_context

logger = logging.getLogger(__name__)

QUEUE = "low"  # batch jobs: never ahead of security codes or card refunds
RESULT_TTL_SECONDS = 2 * 24 * 3600  # longer than a day: the day's id stays taken
FAILURE_TTL_SECONDS = 7 * 24 * 3600
_RETRYABLE = {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


@dataclass(frozen=True)
class DailyJob:
    """What runs each day: `func(day_iso)` on QUEUE, under the id `{prefix}-{day}`."""

    func: Callable[[str], object]
    prefix: str
    description: str  # what it does, with "{day}" for the ISO date
    job_timeout: int

    def job_id(self, day: date) -> str:
        return f"{self.prefix}-{day.isoformat()}"


def enqueue_for_day(connection: Redis, job: DailyJob, day: date) -> bool:
    """Queue `job` for `day`; False when that day's job is already queued or has run."""
    queue = Queue(QUEUE, connection=connection)
    job_id = job.job_id(day)
    for _ in range(2):
        try:
            queue.enqueue(
                job.func,
                day.isoformat(),
                job_id=job_id,
                unique=True,
                job_timeout=job.job_timeout,
                result_ttl=RESULT_TTL_SECONDS,
                failure_ttl=FAILURE_TTL_SECONDS,
                description=job.description.format(day=day.isoformat()),
            )
            return True
        except DuplicateJobError:
            try:
                existing = Job.fetch(job_id, connection=connection)
            except NoSuchJobError:
                continue  # expired just now: try again
            if existing.get_status(refresh=False) not in _RETRYABLE:
                logger.info("%s already queued or run", job_id)
                return False
            existing.delete()  # a failed or stopped run may be tried again
    return False


def enqueue_from_scheduler(job: DailyJob, day: date) -> bool:
    """The scheduler's entry: enqueue on the Redis the scheduler's own job came from
    (or the app's, when called outside a job)."""
    current = get_current_job()
    if current is not None:
        return enqueue_for_day(current.connection, job, day)
    with app_context() as app:
        from shared.jobs.queues import redis_connection

        return enqueue_for_day(redis_connection(str(app.config["REDIS_URL"])), job, day)
