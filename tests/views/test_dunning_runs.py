"""The Dunning runs pages: a team leader previews a date (nothing written), runs it on a
worker (pressed twice: one run), watches it in progress, and sees past runs; an officer
may not."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.jobs import dunning as jobs
from shared.models import DunningRun, DunningRunStatus, RecoveryStage, StaffRole
from tests.factories import make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.integration.dunning_world import (
    emailable,
    install_templates,
    make_ladder,
    outbox,
    overdue,
    stage_of,
)
from tests.views.conftest import signed_in_session
from tests.views.pages import error_summary, parse, text, title

pytestmark = frozen_clock
LIST = "/backoffice/dunning-runs"


@pytest.fixture
def leader(client, db):
    person = make_staff(role=StaffRole.TEAM_LEADER, full_name="Tess Leader")
    signed_in_session(client, person)
    return person


@pytest.fixture
def due(db):
    install_templates()
    dept = make_ladder("Trade waste")
    return overdue(emailable(surname="Page"), dept, 20, 4_550)


@pytest.fixture
def queued(monkeypatch):
    """What "Run now" enqueued (the worker itself is tested in the integration tests)."""
    calls = []
    monkeypatch.setattr(
        "backoffice.dunning_runs.enqueue_person_run",
        lambda day, staff_id: calls.append((day, staff_id)) or True,
    )
    return calls


def _preview(client, day="17/6/2026"):
    return client.get(LIST, query_string={"date": day})


def test_the_preview_shows_moves_value_and_skips_by_department_and_stage_and_writes_nothing(
    client, leader, due
):
    page = parse(_preview(client))
    assert title(page).startswith("Dunning runs")
    cells = [text(c) for c in page.select("#preview tbody tr > *")]
    assert cells[:4] == ["Trade waste", "Reminder", "1", "£45.50"]
    assert "1 debtor would get one message each" in text(page)
    assert stage_of(due.id) == RecoveryStage.NONE and outbox() == []


def test_a_bad_date_is_a_field_error(client, leader, due):
    page = parse(_preview(client, "31/2/2026"))
    assert title(page).startswith("Error: Dunning runs")
    assert error_summary(page) == [("The run date must be a real date, like 27/3/2026", "#date")]
    assert page.select_one("#preview") is None


def test_a_future_date_can_be_previewed_but_not_run(client, leader, due):
    page = parse(_preview(client, "1/7/2026"))
    assert page.select_one("#run") is None
    assert "can be previewed, not run" in text(page)


def test_run_now_twice_is_one_run_on_a_worker_and_the_page_shows_it_in_progress(
    client, leader, due, db, queued
):
    page = _preview(client)
    form = parse(page).select_one("#run")
    data = {i["name"]: i.get("value", "") for i in form.select("input[name]")}
    first = client.post(form["action"], data=data)
    second = client.post(form["action"], data=data)

    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DunningRun)) == 1
    assert queued == [(TODAY, leader.id), (TODAY, leader.id)]  # one job id: RQ keeps one
    run_page = parse(client.get(first.headers["Location"]))
    assert run_page.select_one('meta[http-equiv="refresh"]') is not None
    assert "Waiting for a worker" in text(run_page)

    jobs.run_person_dunning(TODAY.isoformat(), leader.id)  # what the worker does

    done = parse(client.get(first.headers["Location"]))
    assert done.select_one('meta[http-equiv="refresh"]') is None
    assert "Completed" in text(done.select_one("#status"))
    assert "1 (£45.50)" in text(done.select_one("#summary"))
    assert stage_of(due.id) == RecoveryStage.REMINDER
    listing = parse(client.get(LIST))
    row = [text(c) for c in listing.select("#runs tbody tr > *")]
    assert row[:4] == ["17 June 2026", "Completed", "Tess Leader", "1"]


def test_running_a_completed_date_again_sends_nothing_and_says_so(client, leader, due, db, queued):
    jobs.run_person_dunning(TODAY.isoformat(), leader.id)
    page = _preview(client)
    form = parse(page).select_one("#run")
    data = {i["name"]: i.get("value", "") for i in form.select("input[name]")}
    response = client.post(form["action"], data=data, follow_redirects=True)
    assert "was completed already: nothing was sent again" in text(parse(response))
    assert queued == []
    assert len(outbox()) == 1


def test_a_running_run_shows_its_progress(client, leader, db):
    db.session.add(
        DunningRun(run_date=TODAY, status=DunningRunStatus.RUNNING, total=2_000, done=500)
    )
    db.session.commit()
    run_id = db.session.scalar(sa.select(DunningRun.id))
    page = parse(client.get(f"{LIST}/{run_id}"))
    assert "500 of 2,000 debtors done (25%)" in text(page.select_one("#progress"))
    assert page.select_one('meta[http-equiv="refresh"]')["content"] == "5"


def test_a_failed_run_says_what_stopped_it_and_offers_to_carry_on(client, leader, db):
    db.session.add(
        DunningRun(
            run_date=TODAY,
            status=DunningRunStatus.FAILED,
            total=10,
            done=4,
            error="OperationalError: the database went away",
        )
    )
    db.session.commit()
    run_id = db.session.scalar(sa.select(DunningRun.id))
    page = parse(client.get(f"{LIST}/{run_id}"))
    assert "stopped after 4 of 10 debtors" in text(page)
    assert "the database went away" in text(page.select_one("#error"))
    assert page.select_one("#resume") is not None


def test_an_officer_may_not_see_or_start_runs(client, db):
    signed_in_session(client, make_staff(role=StaffRole.OFFICER))
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}/1").status_code == 403


def test_an_unknown_run_is_not_found(client, leader):
    assert client.get(f"{LIST}/999").status_code == 404
