"""Direct Debit collections as RQ jobs (the work is shared/services/directdebit/).

- `sync_account(account_id)`: bring one account's collections into line (after a
  sign-up, change or cancellation, a plan activated or ended). Enqueued under the job
  id "dd-sync-account-{id}" with unique=True, so requests for one account that arrive
  while one is waiting collapse into it (the sync reads the state when it runs).
  `sync_after_commit(account_ids)` enqueues it once the caller's transaction commits.
- `sync_accounts_with_live_mandates(day)`: the daily sweep of every account with a
  live mandate (one transaction each; a failure is logged and the sweep goes on).
- `post_due_collections(day)`: the daily entry-day posting of collected payments.

The two daily jobs are enqueued once per day by the scheduler (shared/jobs/daily.py,
shared/jobs/cron_config.py): the sweep early in the morning so notices go out and
collections are ready before the day's Bacs file is built, the posting before the
plan monitor reads the day's payments.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from flask import current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import DuplicateJobError
from sqlalchemy import event

from shared import clock
from shared.jobs.context import app_context
from shared.jobs.daily import DailyJob, enqueue_for_day, enqueue_from_scheduler
from shared.jobs.queues import redis_connection

logger = logging.getLogger(__name__)

SYNC_QUEUE = "default"
SYNC_TIMEOUT_SECONDS = 300
_SESSION_KEY = "dd_sync_account_ids"


def sync_job_id(account_id: int) -> str:
    return f"dd-sync-account-{int(account_id)}"


def _in_app(fn):
    if has_app_context():
        return fn()
    with app_context():
        return fn()


def sync_account(account_id: int) -> dict[str, int]:
    """The job: sync one account's collections; returns what it did."""
    from shared.services.directdebit import collections

    def run():
        result = collections.sync_account(int(account_id))
        return {"created": result.created, "cancelled": result.cancelled, "notices": result.notices}

    return _in_app(run)


def sync_accounts_with_live_mandates(day: str | None = None) -> dict[str, int]:
    """The daily sweep for `day` (ISO date; default today)."""
    from shared.services.directdebit import collections

    on = date.fromisoformat(day) if day else None
    return _in_app(lambda: collections.sync_accounts_with_live_mandates(on).as_dict())


def post_due_collections(day: str | None = None) -> int:
    """The daily entry-day posting for `day` (ISO date; default today)."""
    from shared.services.directdebit import posting

    on = date.fromisoformat(day) if day else None
    return _in_app(lambda: posting.post_due_collections(on))


DAILY_SYNC = DailyJob(
    sync_accounts_with_live_mandates,
    "dd-sync",
    "bring Direct Debit collections up to date for {day}",
    job_timeout=60 * 60,
)
DAILY_POSTING = DailyJob(
    post_due_collections,
    "dd-post",
    "post Direct Debit collections due by {day}",
    job_timeout=60 * 60,
)


def enqueue_daily_sync(connection: Redis, day: date) -> bool:
    return enqueue_for_day(connection, DAILY_SYNC, day)


def enqueue_daily_posting(connection: Redis, day: date) -> bool:
    return enqueue_for_day(connection, DAILY_POSTING, day)


def enqueue_todays_sync() -> bool:
    """The scheduler's daily entry for the sweep."""
    return enqueue_from_scheduler(DAILY_SYNC, clock.today())


def enqueue_todays_posting() -> bool:
    """The scheduler's daily entry for the posting."""
    return enqueue_from_scheduler(DAILY_POSTING, clock.today())


# --- one account, after a commit ---------------------------------------------------------------


def enqueue_sync(account_ids: Iterable[int], *, app=None) -> int:
    """Queue sync_account for each account; how many were queued. Never raises for
    Redis: the daily sweep picks up any account left out."""
    app = app or current_app._get_current_object()
    queued = 0
    try:
        queue = Queue(
            SYNC_QUEUE,
            connection=redis_connection(str(app.config["REDIS_URL"]), socket_timeout=2),
        )
        for account_id in sorted({int(i) for i in account_ids}):
            try:
                queue.enqueue(
                    sync_account,
                    account_id,
                    job_id=sync_job_id(account_id),
                    unique=True,
                    job_timeout=SYNC_TIMEOUT_SECONDS,
                    description=f"bring account {account_id}'s Direct Debit collections up to date",
                )
                queued += 1
            except DuplicateJobError:
                pass  # one is waiting already: it will read the state when it runs
    except (RedisError, OSError) as exc:
        logger.warning(
            "could not enqueue Direct Debit sync for %s (%s: %s); the daily sweep will",
            sorted(account_ids),
            type(exc).__name__,
            exc,
        )
    return queued


def sync_after_commit(account_ids: Iterable[int]) -> None:
    """Queue sync_account for these accounts once the current transaction commits
    (nothing if it rolls back)."""
    from shared.extensions import db

    _install()
    db.session.info.setdefault(_SESSION_KEY, set()).update(int(i) for i in account_ids)


def _after_commit(session) -> None:
    ids = session.info.pop(_SESSION_KEY, None)
    if not ids or not has_app_context():
        return
    try:
        enqueue_sync(ids)
    except Exception:  # the commit has happened: a queue problem must not undo it
        logger.exception("enqueueing Direct Debit sync for %s failed", sorted(ids))


def _after_rollback(session) -> None:
    session.info.pop(_SESSION_KEY, None)


def _install() -> None:
    from shared.extensions import db

    for name, fn in (("after_commit", _after_commit), ("after_rollback", _after_rollback)):
        if not event.contains(db.session, name, fn):
            event.listen(db.session, name, fn)
