"""`flask dunning run` (preview, dry run, bad dates) and the run's RQ job ids."""

from __future__ import annotations

from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue

from shared.models import RecoveryStage
from shared.services.dunning import runs
from tests.frozen_clock import TODAY, frozen_clock
from tests.integration.dunning_world import (
    emailable,
    install_templates,
    make_ladder,
    moves,
    outbox,
    overdue,
    stage_of,
)

pytestmark = frozen_clock


@pytest.fixture
def world(db):
    install_templates()
    dept = make_ladder("Trade waste")
    return overdue(emailable(surname="Cli"), dept, 20, 4_550)


def test_a_dry_run_prints_the_preview_and_changes_nothing(app, world):
    result = app.test_cli_runner().invoke(
        args=["dunning", "run", "--date", TODAY.isoformat(), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "Trade waste" in result.output and "Reminder" in result.output
    assert "£45.50" in result.output
    assert "Dry run: nothing was moved or sent." in result.output
    assert stage_of(world.id) == RecoveryStage.NONE
    assert outbox() == [] and moves() == []


def test_the_run_command_executes_and_prints_what_it_did(app, world):
    result = app.test_cli_runner().invoke(args=["dunning", "run"])  # today by default
    assert result.exit_code == 0, result.output
    assert "completed" in result.output
    assert "Messages written: email 1" in result.output
    assert stage_of(world.id) == RecoveryStage.REMINDER

    again = app.test_cli_runner().invoke(args=["dunning", "run"])
    assert "was completed already" in again.output
    assert len(outbox()) == 1


@pytest.mark.parametrize("bad", ["2026-02-30", "yesterday", "17/17/2026"])
def test_a_bad_date_is_refused_with_a_clear_message_and_exit_1(app, world, bad):
    result = app.test_cli_runner().invoke(args=["dunning", "run", "--date", bad])
    assert result.exit_code == 1
    assert "--date must be a real date" in result.output
    assert stage_of(world.id) == RecoveryStage.NONE


def test_a_future_date_may_be_previewed_but_not_run(app, world):
    later = (TODAY + timedelta(days=3)).isoformat()
    refused = app.test_cli_runner().invoke(args=["dunning", "run", "--date", later])
    assert refused.exit_code == 1 and "in the future" in refused.output
    previewed = app.test_cli_runner().invoke(args=["dunning", "run", "--date", later, "--dry-run"])
    assert previewed.exit_code == 0


def test_the_scheduled_run_is_enqueued_once_a_day_under_its_date_id(app, redis_url):
    from shared.jobs import dunning as jobs

    connection = Redis.from_url(redis_url)
    queue = Queue(jobs.QUEUE, connection=connection)
    job_id = jobs.job_id(TODAY)
    assert job_id == f"dunning-run-{TODAY:%Y%m%d}"
    queue.remove(job_id)
    connection.delete(f"rq:job:{job_id}")
    try:
        assert jobs.enqueue_dunning_run(connection, TODAY) is True
        assert jobs.enqueue_dunning_run(connection, TODAY) is False
    finally:
        queue.remove(job_id)
        connection.delete(f"rq:job:{job_id}")


def test_a_person_run_pressed_twice_is_one_job(app, redis_url, world):
    from shared.jobs import dunning as jobs

    app.config["REDIS_URL"] = redis_url
    connection = Redis.from_url(redis_url)
    job_id = jobs.person_job_id(TODAY)
    connection.delete(f"rq:job:{job_id}")
    queue = Queue(jobs.QUEUE, connection=connection)
    try:
        assert jobs.enqueue_person_run(TODAY, 1, app=app) is True
        assert jobs.enqueue_person_run(TODAY, 1, app=app) is False
        assert queue.job_ids.count(job_id) == 1
    finally:
        queue.remove(job_id)
        connection.delete(f"rq:job:{job_id}")


def test_the_job_runs_the_persons_run_for_every_department(app, world):
    from shared.jobs.dunning import run_person_dunning

    automatic = make_ladder("Parking", automatic=True)
    other = overdue(emailable(surname="Parker"), automatic, 20)
    summary = run_person_dunning(TODAY.isoformat(), None)
    assert summary["moves"] == 2
    assert stage_of(other.id) == RecoveryStage.REMINDER
    assert runs.execute(TODAY, runs_actor()).already_run


def runs_actor():
    from shared.services.actors import SYSTEM

    return SYSTEM
