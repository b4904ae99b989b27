"""Old signed-in session records are deleted by a daily job (shared/jobs/web_sessions.py)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from shared.jobs.web_sessions import delete_old_web_sessions
from shared.models import WebSession, WebSessionEnd, WebSessionKind
from shared.models.base import utcnow
from shared.services import web_sessions
from tests.factories import make_staff


def _record(db, staff_id, *, last_seen_days_ago, ended_days_ago=None) -> int:
    now = utcnow()
    web_sessions.start(WebSessionKind.STAFF, staff_id)
    row = db.session.scalars(sa.select(WebSession).order_by(WebSession.id.desc())).first()
    row.created_at = row.last_seen_at = now - timedelta(days=last_seen_days_ago)
    if ended_days_ago is not None:
        row.ended_at = now - timedelta(days=ended_days_ago)
        row.end_reason = WebSessionEnd.SIGNED_OUT
    db.session.commit()
    return row.id


def test_records_ended_or_last_used_more_than_30_days_ago_are_deleted_and_no_others(app, db):
    officer = make_staff().id
    live = _record(db, officer, last_seen_days_ago=0)
    _record(db, officer, last_seen_days_ago=40, ended_days_ago=31)
    _record(db, officer, last_seen_days_ago=31)  # lapsed, never signed out
    recently_ended = _record(db, officer, last_seen_days_ago=29, ended_days_ago=29)

    deleted = delete_old_web_sessions()

    assert deleted == 2
    assert set(db.session.scalars(sa.select(WebSession.id))) == {live, recently_ended}


def test_the_cron_config_deletes_old_session_records_daily_on_a_queue_the_workers_serve(
    redis_url,
):
    from rq.cron import CronScheduler

    from shared.jobs.queues import QUEUE_NAMES, redis_connection

    connection = redis_connection(redis_url)
    scheduler = CronScheduler(connection=connection)
    scheduler.load_config_from_file("shared.jobs.cron_config")
    [job] = [j for j in scheduler.get_jobs() if j.func is delete_old_web_sessions]

    assert job.cron == "30 3 * * *"
    assert job.queue_name in QUEUE_NAMES
    connection.close()
