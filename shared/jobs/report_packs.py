"""The monthly report packs as an RQ job (the work is shared/services/report_packs.py).

The scheduler runs `enqueue_last_months_packs` at 06:00 UTC on the 1st of each month
(shared/jobs/cron_config.py). It enqueues `send_report_packs(month)` for the month that
has just ended under the job id "report-packs-YYYY-MM", once per month however often it
is asked (shared/jobs/daily.py: a failed run may be enqueued again). Sending is
idempotent anyway: one pack per department and month, and a department whose pack
failed is built again by the next run (`flask --app wsgi reports send-packs` runs one
by hand).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask import has_app_context
from redis import Redis

from shared import clock
from shared.jobs.context import app_context
from shared.jobs.daily import QUEUE, DailyJob, enqueue_for_day, enqueue_from_scheduler

__all__ = [
    "QUEUE",
    "enqueue_last_months_packs",
    "enqueue_report_packs",
    "job_id",
    "send_report_packs",
]

logger = logging.getLogger(__name__)
# A pack is a few seconds of SQL and layout per department (bench figures in the
# issue note); an hour leaves room for a council with many departments.
JOB_TIMEOUT_SECONDS = 60 * 60


def send_report_packs(month: str) -> dict[str, object]:
    """Send (or find already sent) every department's pack for `month` (ISO date of any
    day in it)."""

    def run() -> dict[str, object]:
        from shared.services import report_packs
        from shared.services.actors import SYSTEM

        result = report_packs.send_monthly_packs(date.fromisoformat(month), SYSTEM)
        for outcome in result.outcomes:
            if outcome.status == "failed":
                # Loud: the operations log alerts on errors (docs/operations.md).
                logger.error(
                    "report pack for %s, %s failed: %s",
                    outcome.department_code,
                    f"{result.month:%Y-%m}",
                    outcome.error,
                )
        return {
            "month": f"{result.month:%Y-%m}",
            **{
                status: result.count(status)
                for status in ("queued", "no_contact", "failed", "already")
            },
        }

    if has_app_context():
        return run()
    with app_context():
        return run()


@dataclass(frozen=True)
class _MonthlyJob(DailyJob):
    def job_id(self, day: date) -> str:
        return f"{self.prefix}-{day:%Y-%m}"


MONTHLY = _MonthlyJob(
    send_report_packs,
    "report-packs",
    "send the monthly report packs for the month of {day}",
    job_timeout=JOB_TIMEOUT_SECONDS,
)


def job_id(month: date) -> str:
    """One job per month, whoever enqueues it."""
    return MONTHLY.job_id(month)


def enqueue_report_packs(connection: Redis, month: date) -> bool:
    """Queue the packs for `month`; False when that month's job is queued or has run."""
    return enqueue_for_day(connection, MONTHLY, month.replace(day=1))


def enqueue_last_months_packs() -> bool:
    """The scheduler's monthly entry: queue the packs of the month that ended last."""
    from shared.services.report_packs import last_month

    return enqueue_from_scheduler(MONTHLY, last_month(clock.today()))
