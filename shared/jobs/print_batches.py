"""The day's print batch as an RQ job (the work is shared/services/messages/print_batches.py).

The scheduler runs `enqueue_todays_print_batch` at 15:00 and 16:00 UTC on weekdays
(shared/jobs/cron_config.py); it enqueues only from 16:00 in England (so at 15:00 UTC
in summer and 16:00 UTC in winter) and only on a working day, under the job id
"print-batch-{YYYYMMDD}" with unique=True, so the day's batch is built once however
often it is asked (shared/jobs/daily.py). The job builds the batch of every letter
waiting and emails the recovery team that it waits to be checked and released.
Building is idempotent anyway: a batch in play is returned, not built again; no
letters waiting builds nothing. Release stays a person's act in the back office.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from flask import has_app_context
from redis import Redis

from shared import clock
from shared.domain.bacs.calendar import is_working_day
from shared.jobs.context import app_context
from shared.jobs.daily import QUEUE, DailyJob, enqueue_for_day, enqueue_from_scheduler

__all__ = [
    "BUILD_HOUR",
    "QUEUE",
    "build_print_batch",
    "enqueue_print_batch",
    "enqueue_todays_print_batch",
    "is_build_time",
]

logger = logging.getLogger(__name__)

BUILD_HOUR = 16  # England: after the day's letters are written, before the post goes


def build_print_batch(day: str) -> dict[str, object]:
    """Build the print batch for `day` (ISO date) and alert the recovery team."""
    if has_app_context():
        return _build(date.fromisoformat(day))
    with app_context():
        return _build(date.fromisoformat(day))


def _build(day: date) -> dict[str, object]:
    from shared.services.actors import SYSTEM
    from shared.services.messages import print_batches

    try:
        built = print_batches.build_batch(SYSTEM, day, alert_officers=True)
    except print_batches.NothingWaiting as exc:
        logger.info("print batch: %s", exc)
        return {"created": False, "batch_id": None, "letters": 0}
    if not built.created:
        logger.info("print batch: %s", built.message)
    return {
        "created": built.created,
        "batch_id": built.batch.batch_id,
        "letters": built.batch.letter_count,
        "pages": built.batch.page_count,
        "pdf_sha256": built.batch.pdf_sha256,
    }


class _PrintBatchJob(DailyJob):
    def job_id(self, day: date) -> str:
        return f"{self.prefix}-{day:%Y%m%d}"


DAILY = _PrintBatchJob(
    build_print_batch,
    "print-batch",
    "build the print batch of the letters waiting on {day}",
    job_timeout=45 * 60,
)


def enqueue_print_batch(connection: Redis, day: date) -> bool:
    """Queue the batch build for `day`; False when that day's job already exists."""
    return enqueue_for_day(connection, DAILY, day)


def is_build_time(now: datetime) -> bool:
    """Whether `now` (aware, England) is on a working day at or after BUILD_HOUR."""
    return now.hour >= BUILD_HOUR and is_working_day(now.date())


def enqueue_todays_print_batch() -> bool:
    """The scheduler's entry: from 16:00 in England on a working day, queue the day's batch."""
    now = clock.now()
    if not is_build_time(now):
        return False
    return enqueue_from_scheduler(DAILY, now.date())
