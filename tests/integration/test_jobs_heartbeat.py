"""The scheduler heartbeat: a real job against a real Redis, and the cron config that runs it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue
from rq.cron import CronScheduler
from rq.job import Job

from shared.jobs import maintenance
from shared.jobs.queues import QUEUE_NAMES, redis_connection

CRON_CONFIG = "shared.jobs.cron_config"
HEARTBEAT_FUNC = "shared.jobs.maintenance.heartbeat"


@pytest.fixture
def redis(redis_url):
    connection = redis_connection(redis_url)
    yield connection
    connection.close()


@pytest.fixture
def private_heartbeat_key(redis, monkeypatch):
    """A heartbeat key of this test's own, so parallel test workers never see each other's beats."""
    key = f"test:heartbeat:{uuid.uuid4().hex}"
    monkeypatch.setattr(maintenance, "HEARTBEAT_KEY", key)
    yield key
    redis.delete(key)


def _assert_recent(moment: datetime | None) -> None:
    assert moment is not None
    assert moment.tzinfo is not None
    assert moment.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - moment) < timedelta(seconds=5)


def test_running_the_heartbeat_job_records_the_time_with_an_expiry(redis):
    queue = Queue(f"test-heartbeat-{uuid.uuid4().hex}", connection=redis, is_async=False)

    job = queue.enqueue(maintenance.heartbeat)
    try:
        assert job.is_finished, job.exc_info
        assert 0 < redis.ttl(maintenance.HEARTBEAT_KEY) <= maintenance.HEARTBEAT_TTL_SECONDS
        _assert_recent(maintenance.scheduler_last_seen(redis))
    finally:
        job.delete()


def test_scheduler_last_seen_reads_back_the_moment_the_heartbeat_wrote(
    redis, private_heartbeat_key
):
    written = maintenance.heartbeat(redis)

    seen = maintenance.scheduler_last_seen(redis)

    assert seen == datetime.fromisoformat(written)
    _assert_recent(seen)


def test_scheduler_last_seen_is_none_when_no_heartbeat_was_recorded(redis, private_heartbeat_key):
    assert maintenance.scheduler_last_seen(redis) is None


def test_an_unreadable_heartbeat_counts_as_never_seen(redis, private_heartbeat_key):
    redis.set(private_heartbeat_key, "not a timestamp")

    assert maintenance.scheduler_last_seen(redis) is None


def test_the_cron_config_runs_the_heartbeat_every_minute_on_a_queue_the_workers_serve(redis):
    scheduler = CronScheduler(connection=redis)
    scheduler.load_config_from_file(CRON_CONFIG)

    by_func = {job.func_name: job for job in scheduler.get_jobs()}

    assert HEARTBEAT_FUNC in by_func
    heartbeat_job = by_func[HEARTBEAT_FUNC]
    assert heartbeat_job.func is maintenance.heartbeat
    assert heartbeat_job.interval == 60
    assert heartbeat_job.cron is None
    assert heartbeat_job.queue_name in QUEUE_NAMES


def test_the_heartbeat_the_scheduler_enqueues_can_be_run_by_a_worker(redis, private_heartbeat_key):
    scheduler = CronScheduler(connection=redis)
    scheduler.load_config_from_file(CRON_CONFIG)
    heartbeat_job = next(j for j in scheduler.get_jobs() if j.func_name == HEARTBEAT_FUNC)

    job = heartbeat_job.enqueue(redis)
    # Take it off the shared queue so no other test's worker runs it, then run it as a worker would.
    Queue(job.origin, connection=redis).remove(job.id)
    try:
        fetched = Job.fetch(job.id, connection=redis)
        assert fetched.func_name == HEARTBEAT_FUNC
        fetched.perform()
        _assert_recent(maintenance.scheduler_last_seen(redis))
    finally:
        job.delete()


def test_the_cron_config_reconciles_card_checkouts_every_ten_minutes(redis):
    from shared.jobs.payments import reconcile_card_checkouts

    scheduler = CronScheduler(connection=redis)
    scheduler.load_config_from_file(CRON_CONFIG)
    job = next(j for j in scheduler.get_jobs() if j.func is reconcile_card_checkouts)
    assert job.interval == 600
    assert job.queue_name in QUEUE_NAMES
