"""The daily periodic-invoice run as RQ jobs (the work itself is
shared/services/invoice_schedule_runs.raise_due).

The scheduler runs `enqueue_todays_periodic_invoices` once a day
(shared/jobs/cron_config.py). It enqueues `raise_periodic_invoices(day)` under the
job id "invoices-periodic-{day}", once per day however often it is asked
(shared/jobs/daily.py). The run is safe to repeat anyway: a period is raised once,
whatever runs (the UNIQUE run row); the job id saves a pointless pass.
"""

from __future__ import annotations

from datetime import date

from flask import has_app_context
from redis import Redis

from shared import clock
from shared.jobs.context import app_context
from shared.jobs.daily import QUEUE, DailyJob, enqueue_for_day, enqueue_from_scheduler

__all__ = [
    "QUEUE",
    "enqueue_periodic_invoices",
    "enqueue_todays_periodic_invoices",
    "job_id",
    "raise_periodic_invoices",
]


def raise_periodic_invoices(day: str | None = None) -> dict:
    """Raise the periodic invoices due on `day` (ISO date; default today); its counts."""
    from shared.services import invoice_schedule_runs

    on = date.fromisoformat(day) if day else None
    if has_app_context():
        return invoice_schedule_runs.raise_due(on).as_dict()
    with app_context():
        return invoice_schedule_runs.raise_due(on).as_dict()


DAILY = DailyJob(
    raise_periodic_invoices,
    "invoices-periodic",
    "raise periodic invoices due by {day}",
    job_timeout=30 * 60,
)


def job_id(day: date) -> str:
    """One periodic-invoice job per day, whoever enqueues it."""
    return DAILY.job_id(day)


def enqueue_periodic_invoices(connection: Redis, day: date) -> bool:
    """Queue the run for `day`; False when that day's job already exists."""
    return enqueue_for_day(connection, DAILY, day)


def enqueue_todays_periodic_invoices() -> bool:
    """The scheduler's daily entry: queue today's run on the scheduler's Redis."""
    return enqueue_from_scheduler(DAILY, clock.today())
