"""The daily plan monitor as RQ jobs (the work itself is shared/services/plan_monitor.py).

The scheduler runs `enqueue_todays_plan_monitor` once a day (shared/jobs/cron_config.py).
It enqueues `monitor_plans(day)` under the job id "plans-monitor-{day}" with
unique=True, and the finished job is kept for RESULT_TTL_SECONDS, so a second
scheduler, a restart or a manual enqueue for the same day runs it once (a failed
run may be enqueued again). The monitor is idempotent anyway; the job id just
saves a pointless second pass.
"""

from __future__ import annotations

import logging
from datetime import date

from flask import has_app_context
from redis import Redis
from rq import Queue, get_current_job
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from shared import clock
from shared.jobs.context import app_context

logger = logging.getLogger(__name__)

QUEUE = "low"  # a batch job: never ahead of security codes or card refunds
JOB_TIMEOUT_SECONDS = 30 * 60
# Longer than a day, so the day's job id stays taken after it has run.
RESULT_TTL_SECONDS = 2 * 24 * 3600
FAILURE_TTL_SECONDS = 7 * 24 * 3600
_RETRYABLE = {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


def job_id(day: date) -> str:
    """One monitor job per day, whoever enqueues it."""
    return f"plans-monitor-{day.isoformat()}"


def monitor_plans(day: str | None = None) -> dict[str, int]:
    """Run the plan monitor for `day` (ISO date; default today); returns its counts."""
    from shared.services import plan_monitor

    on = date.fromisoformat(day) if day else None
    if has_app_context():
        return plan_monitor.run(on).as_dict()
    with app_context():
        return plan_monitor.run(on).as_dict()


def enqueue_plan_monitor(connection: Redis, day: date) -> bool:
    """Queue the monitor for `day`; False when that day's job already exists."""
    queue = Queue(QUEUE, connection=connection)
    for _ in range(2):
        try:
            queue.enqueue(
                monitor_plans,
                day.isoformat(),
                job_id=job_id(day),
                unique=True,
                job_timeout=JOB_TIMEOUT_SECONDS,
                result_ttl=RESULT_TTL_SECONDS,
                failure_ttl=FAILURE_TTL_SECONDS,
                description=f"monitor payment plans for {day.isoformat()}",
            )
            return True
        except DuplicateJobError:
            try:
                existing = Job.fetch(job_id(day), connection=connection)
            except NoSuchJobError:
                continue  # expired just now: try again
            if existing.get_status(refresh=False) not in _RETRYABLE:
                logger.info("plan monitor for %s already queued or run", day.isoformat())
                return False
            # A failed or stopped run may be tried again (the monitor is idempotent).
            existing.delete()
    return False


def enqueue_todays_plan_monitor() -> bool:
    """The scheduler's daily entry: queue today's monitor on the scheduler's Redis."""
    job = get_current_job()
    if job is not None:
        return enqueue_plan_monitor(job.connection, clock.today())
    with app_context() as app:
        from shared.jobs.queues import redis_connection

        return enqueue_plan_monitor(redis_connection(str(app.config["REDIS_URL"])), clock.today())
