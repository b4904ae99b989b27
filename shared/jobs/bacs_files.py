"""The day's Bacs collection file as an RQ job (the work is shared/services/directdebit/files.py).

The scheduler runs `enqueue_todays_bacs_file` each morning (shared/jobs/cron_config.py).
On a Bacs working day it enqueues `build_bacs_file(day)` under the job id
"bacs-file-{day}", once per day however often it is asked (shared/jobs/daily.py).
The job builds the file whose input day is `day` (processing the next working day)
and emails the recovery team that it is ready to check and release. Building is
idempotent anyway: a day with a file in play is refused and nothing changes.
Release stays a person's act in the back office.
"""

from __future__ import annotations

import logging
from datetime import date

from flask import has_app_context
from redis import Redis

from shared import clock
from shared.domain.bacs.calendar import is_working_day
from shared.jobs.context import app_context
from shared.jobs.daily import QUEUE, DailyJob, enqueue_for_day, enqueue_from_scheduler

__all__ = ["QUEUE", "build_bacs_file", "enqueue_bacs_file", "enqueue_todays_bacs_file"]

logger = logging.getLogger(__name__)


def build_bacs_file(day: str) -> dict[str, object]:
    """Build the file whose input day is `day` (ISO date), and alert the recovery team."""
    if has_app_context():
        return _build(date.fromisoformat(day))
    with app_context():
        return _build(date.fromisoformat(day))


def _build(input_day: date) -> dict[str, object]:
    from shared.services.actors import SYSTEM
    from shared.services.directdebit import files

    processing_day = files.next_processing_day(input_day)
    result: dict[str, object] = {"processing_day": processing_day.isoformat()}
    try:
        built = files.build_file(SYSTEM, processing_day, alert_officers=True)
    except files.AlreadyBuilt as exc:
        logger.info("bacs file: %s", exc)
        return {**result, "created": False, "serial": exc.file.serial}
    except files.NothingToSubmit as exc:
        logger.info("bacs file: %s", exc)
        return {**result, "created": False, "serial": None}
    return {
        **result,
        "created": True,
        "serial": built.serial,
        "sha256": built.sha256,
        "debits": built.debit_count,
        "debit_total_pence": built.debit_total_pence,
        "instructions": built.instruction_count,
    }


DAILY = DailyJob(
    build_bacs_file,
    "bacs-file",
    "build the Bacs collection file whose input day is {day}",
    job_timeout=15 * 60,
)


def enqueue_bacs_file(connection: Redis, day: date) -> bool:
    """Queue the file build for input day `day`; False when that day's job already exists."""
    return enqueue_for_day(connection, DAILY, day)


def enqueue_todays_bacs_file() -> bool:
    """The scheduler's daily entry: on a Bacs working day, queue the file sent today."""
    today = clock.today()
    if not is_working_day(today):
        return False
    return enqueue_from_scheduler(DAILY, today)
