"""The 16:00 print batch job: queued once a day under "print-batch-YYYYMMDD", only on
working days from 16:00 in England (summer and winter), registered with the scheduler;
the job builds the batch and alerts the recovery team, or builds nothing."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from shared.jobs import print_batches as jobs
from shared.models import OutboxMessage, PrintBatch
from tests.frozen_clock import TODAY, frozen_clock
from tests.integration.test_print_batch_world import (
    composed_letter,
    make_debtors,
    print_dir,  # noqa: F401 - fixture
)

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("moment", "due"),
    [
        (datetime(2026, 6, 17, 16, 0, tzinfo=LONDON), True),  # Wednesday, 15:00 UTC in summer
        (datetime(2026, 6, 17, 15, 59, tzinfo=LONDON), False),
        (datetime(2026, 12, 16, 16, 0, tzinfo=LONDON), True),  # 16:00 UTC in winter
        (datetime(2026, 12, 16, 15, 0, tzinfo=LONDON), False),  # the winter 15:00 UTC call
        (datetime(2026, 6, 20, 16, 30, tzinfo=LONDON), False),  # a Saturday
        (datetime(2026, 12, 25, 16, 30, tzinfo=LONDON), False),  # Christmas Day
    ],
)
def test_the_batch_is_built_from_four_in_england_on_working_days(moment, due):
    assert jobs.is_build_time(moment) is due


def test_one_days_job_is_queued_once_under_its_date(app, redis_url):
    from rq.job import Job

    from shared.jobs.queues import redis_connection

    connection = redis_connection(redis_url)
    day = date(2031, 2, 14)
    assert jobs.DAILY.job_id(day) == "print-batch-20310214"
    connection.delete(f"rq:job:{jobs.DAILY.job_id(day)}")
    try:
        assert jobs.enqueue_print_batch(connection, day) is True
        assert jobs.enqueue_print_batch(connection, day) is False
        job = Job.fetch("print-batch-20310214", connection=connection)
        assert job.args == ("2031-02-14",) and job.origin == jobs.QUEUE
    finally:
        Job.fetch(jobs.DAILY.job_id(day), connection=connection).delete()
        connection.close()


def test_the_scheduler_asks_at_15_and_16_utc_on_weekdays(redis_url):
    from rq.cron import CronScheduler

    from shared.jobs.queues import QUEUE_NAMES, redis_connection

    connection = redis_connection(redis_url)
    scheduler = CronScheduler(connection=connection)
    scheduler.load_config_from_file("shared.jobs.cron_config")
    job = next(j for j in scheduler.get_jobs() if j.func is jobs.enqueue_todays_print_batch)
    assert job.cron == "0 15,16 * * 1-5"
    assert job.queue_name in QUEUE_NAMES
    connection.close()


@frozen_clock
@pytest.mark.usefixtures("print_dir")
def test_the_job_builds_the_batch_and_alerts_once_and_builds_nothing_when_none_wait(app, db):
    assert jobs.build_print_batch(TODAY.isoformat()) == {
        "created": False,
        "batch_id": None,
        "letters": 0,
    }
    composed_letter(make_debtors(1)[0])

    first = jobs.build_print_batch(TODAY.isoformat())
    again = jobs.build_print_batch(TODAY.isoformat())

    assert first["created"] and first["letters"] == 1
    assert not again["created"] and again["batch_id"] == first["batch_id"]
    assert db.session.scalar(sa.select(sa.func.count(PrintBatch.id))) == 1
    alerts = db.session.scalars(
        sa.select(OutboxMessage.subject).where(OutboxMessage.template == "print_batch_ready")
    ).all()
    assert len(alerts) == 1 and "ready to check and release" in alerts[0]
