"""The daily journal to the general ledger as RQ jobs (the work is shared/services/journal.py).

The scheduler runs `enqueue_yesterdays_journal` once a day, after midnight in England
(shared/jobs/cron_config.py). It enqueues `write_journal(day)` for the day that has
just ended under the job id "gl-journal-{day}", once per day however often it is
asked (shared/jobs/daily.py). Writing is idempotent anyway: the journal is stored
once per day and a second export gives back the same file.

The file is stored in the database, the source of truth; the finance team downloads
it from the back office (Journals) or writes it out with `flask --app wsgi ledger
journal --date D --out DIR`.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from flask import has_app_context
from redis import Redis

from shared import clock
from shared.jobs.context import app_context
from shared.jobs.daily import QUEUE, DailyJob, enqueue_for_day, enqueue_from_scheduler

__all__ = ["QUEUE", "enqueue_journal", "enqueue_yesterdays_journal", "job_id", "write_journal"]

logger = logging.getLogger(__name__)


def job_id(day: date) -> str:
    """One journal job per day, whoever enqueues it."""
    return DAILY.job_id(day)


def write_journal(day: str) -> dict[str, object]:
    """Write (or find already written) the journal for `day` (ISO date)."""
    if has_app_context():
        return _write(date.fromisoformat(day))
    with app_context():
        return _write(date.fromisoformat(day))


def _write(day: date) -> dict[str, object]:
    from shared.models import JournalVia
    from shared.services import journal
    from shared.services.actors import SYSTEM

    result = journal.export_journal(day, SYSTEM, via=JournalVia.SCHEDULE)
    if result.late is not None:
        # Loud: the operations log alerts on errors (docs/operations.md).
        logger.error("gl journal for %s: %s", day.isoformat(), result.late.message)
    stored, late = result.journal, result.late
    return {
        "day": day.isoformat(),
        "created": result.created,
        "sha256": stored.sha256,
        "lines": stored.line_count,
        "debit_pence": stored.debit_pence,
        "credit_pence": stored.credit_pence,
        "late_entries": 0 if late is None else late.entries_now - late.entries_sent,
    }


DAILY = DailyJob(
    write_journal, "gl-journal", "write the general ledger journal for {day}", job_timeout=10 * 60
)


def enqueue_journal(connection: Redis, day: date) -> bool:
    """Queue the journal for `day`; False when that day's job already exists."""
    return enqueue_for_day(connection, DAILY, day)


def enqueue_yesterdays_journal() -> bool:
    """The scheduler's daily entry: queue the journal of the day that ended last."""
    return enqueue_from_scheduler(DAILY, clock.today() - timedelta(days=1))
