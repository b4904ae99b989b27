"""Dunning runs as RQ jobs (the work is shared/services/dunning/runs.py).

The scheduler runs `enqueue_todays_dunning_run` each working-day morning
(shared/jobs/cron_config.py). It enqueues `run_scheduled_dunning(day)` under the job
id "dunning-run-{YYYYMMDD}", once per day however often it is asked
(shared/jobs/daily.py). A scheduled run covers only the departments whose policy is
automatic; a run a person starts from the back office ("Run now") covers every
department, under the job id "dunning-run-{YYYYMMDD}-all", enqueued after the commit
that made (or reopened) the run's row. Either way the run is idempotent: one row per
date, moves unique per invoice and stage, messages deduplicated per debtor and date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError

from shared import clock
from shared.domain.bacs.calendar import is_working_day
from shared.jobs.context import app_context
from shared.jobs.daily import QUEUE, DailyJob, enqueue_for_day, enqueue_from_scheduler

__all__ = [
    "QUEUE",
    "enqueue_dunning_run",
    "enqueue_person_run",
    "enqueue_todays_dunning_run",
    "job_id",
    "run_person_dunning",
    "run_scheduled_dunning",
]

logger = logging.getLogger(__name__)
# 200,000 debtors take about a minute on PostgreSQL (bench/bench_dunning_run.py).
JOB_TIMEOUT_SECONDS = 60 * 60


def job_id(day: date) -> str:
    """The scheduled run's job id for `day`."""
    return SCHEDULED.job_id(day)


def person_job_id(day: date) -> str:
    return PERSON.job_id(day)


def _summary(result) -> dict[str, object]:
    outcome = result.outcome
    return {
        "run_id": result.run_id,
        "status": result.status.value,
        "already_run": result.already_run,
        "moves": outcome.moves,
        "value_pence": outcome.value_pence,
        "debtors": outcome.debtors,
        "skipped": sum(outcome.skipped.values()),
    }


def run_scheduled_dunning(day: str) -> dict[str, object]:
    """The scheduled run for `day` (ISO date): automatic departments only."""

    def run() -> dict[str, object]:
        from shared.services.actors import SYSTEM
        from shared.services.dunning import runs, selection

        departments = selection.automatic_department_ids()
        if not departments:
            logger.info("dunning run %s: no department runs automatically", day)
            return {"run_id": None, "departments": 0}
        return _summary(runs.execute(date.fromisoformat(day), SYSTEM, departments=departments))

    if has_app_context():
        return run()
    with app_context():
        return run()


def run_person_dunning(day: str, staff_id: int | None = None) -> dict[str, object]:
    """A run for `day` a person started from the back office: every department."""

    def run() -> dict[str, object]:
        from shared.services import actors
        from shared.services.dunning import runs

        actor = actors.staff(staff_id) if staff_id else actors.SYSTEM
        return _summary(runs.execute(date.fromisoformat(day), actor))

    if has_app_context():
        return run()
    with app_context():
        return run()


@dataclass(frozen=True)
class _DunningJob(DailyJob):
    suffix: str = ""

    def job_id(self, day: date) -> str:
        return f"{self.prefix}-{day:%Y%m%d}{self.suffix}"


SCHEDULED = _DunningJob(
    run_scheduled_dunning,
    "dunning-run",
    "run the recovery ladder for {day} (automatic departments)",
    job_timeout=JOB_TIMEOUT_SECONDS,
)
PERSON = _DunningJob(
    run_person_dunning,
    "dunning-run",
    "run the recovery ladder for {day} (every department)",
    job_timeout=JOB_TIMEOUT_SECONDS,
    suffix="-all",
)


def enqueue_dunning_run(connection: Redis, day: date) -> bool:
    """Queue the scheduled run for `day`; False when that day's job already exists."""
    return enqueue_for_day(connection, SCHEDULED, day)


def enqueue_todays_dunning_run() -> bool:
    """The scheduler's daily entry: on a working day, queue today's scheduled run."""
    today = clock.today()
    if not is_working_day(today):
        return False  # the next working day's run catches up: stages are due "on or before"
    return enqueue_from_scheduler(SCHEDULED, today)


def enqueue_person_run(day: date, staff_id: int, *, app: Flask | None = None) -> bool:
    """Queue the run a person asked for (after the commit that opened its row); False
    when its job is queued or running already, or Redis cannot be reached (the page
    says it waits for a worker, and "Run now" again enqueues it)."""
    from rq import Queue
    from rq.exceptions import DuplicateJobError

    from shared.jobs.daily import FAILURE_TTL_SECONDS
    from shared.jobs.queues import redis_connection

    app = app or current_app._get_current_object()
    try:
        connection = redis_connection(str(app.config["REDIS_URL"]))
        queue = Queue(QUEUE, connection=connection)
        _forget_finished(connection, PERSON.job_id(day))
        queue.enqueue(
            run_person_dunning,
            day.isoformat(),
            staff_id,
            job_id=PERSON.job_id(day),
            unique=True,
            job_timeout=JOB_TIMEOUT_SECONDS,
            result_ttl=3600,
            failure_ttl=FAILURE_TTL_SECONDS,
            description=PERSON.description.format(day=day.isoformat()),
        )
        return True
    except DuplicateJobError:
        return False
    except (RedisError, OSError) as exc:
        logger.warning("could not enqueue the dunning run for %s (%s)", day, exc)
        return False


def _forget_finished(connection: Redis, job_id: str) -> None:
    """A person may run a date again (after the run failed, or to cover departments a
    scheduled run left): a finished or failed job of theirs must not block it."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        existing = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return
    if existing.get_status(refresh=False) in {
        JobStatus.FINISHED,
        JobStatus.FAILED,
        JobStatus.STOPPED,
        JobStatus.CANCELED,
    }:
        existing.delete()
