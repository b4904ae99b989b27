"""The journals page: a team leader writes a past day's journal, sees it listed with its
totals and hash, downloads the same bytes each time (each download recorded), is told
when a day was already sent, and cannot write a day that has not ended; an officer
may not see any of it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from shared.models import (
    GlJournal,
    GlJournalEvent,
    JournalEventKind,
    JournalVia,
    PaymentMethod,
    StaffRole,
)
from shared.services import journal, ledger
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import error_summary, parse, text, title

pytestmark = frozen_clock
PAGE = "/backoffice/journals"
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture
def leader(client, db):
    person = make_staff(role=StaffRole.TEAM_LEADER, full_name="Tess Leader")
    signed_in_session(client, person)
    return person


@pytest.fixture
def yesterdays_payment(db, time_machine):
    """A £12.34 cash payment made yesterday, then back to today."""
    account = make_account()
    time_machine.move_to(datetime(2026, 6, 16, 11, 0, tzinfo=UTC), tick=True)
    ledger.record_payment(
        account_id=account.id, amount_pence=1_234, method=PaymentMethod.CASH, actor=SYSTEM
    )
    time_machine.move_to(datetime(2026, 6, 17, 11, 0, tzinfo=UTC), tick=True)


def _write(client, day: str):
    page = client.get(PAGE)
    assert page.status_code == 200, (page.status_code, page.headers.get("Location"))
    token = parse(page).select_one("input[name=csrf_token]")["value"]
    return client.post(PAGE, data={"csrf_token": token, "day": day})


def test_a_team_leader_writes_a_past_days_journal_and_sees_it_listed(
    client, yesterdays_payment, leader, db
):
    response = _write(client, YESTERDAY.strftime("%d/%m/%Y"))
    assert response.status_code == 302
    page = parse(client.get(response.headers["Location"]))

    assert title(page).startswith("Journals to the general ledger")
    assert "Journal for 16 June 2026 written" in text(page)
    row = page.select_one("#journals tbody tr")
    cells = [text(td) for td in row.select("td")]
    assert text(row.select_one("th")) == "16 June 2026"
    assert cells[:3] == ["2", "£12.34", "£12.34"]
    assert "by Tess Leader" in cells[3]
    stored = db.session.scalars(sa.select(GlJournal)).one()
    assert cells[4].replace(" ", "") == stored.sha256


def test_the_download_is_the_stored_file_every_time_and_each_is_recorded(
    client, yesterdays_payment, leader, db
):
    _write(client, YESTERDAY.isoformat())
    href = parse(client.get(PAGE)).select_one("#journals a[download]")["href"]

    first, second = client.get(href), client.get(href)
    assert first.status_code == 200 and first.mimetype == "text/csv"
    assert first.headers["Content-Disposition"] == 'attachment; filename="journal-2026-06-16.csv"'
    assert first.data == second.data
    stored = db.session.scalars(sa.select(GlJournal)).one()
    assert hashlib.sha256(first.data).hexdigest() == stored.sha256
    downloads = db.session.scalars(
        sa.select(GlJournalEvent).where(GlJournalEvent.kind == JournalEventKind.DOWNLOADED)
    ).all()
    assert [(d.staff_id, d.via) for d in downloads] == [(leader.id, JournalVia.BACK_OFFICE)] * 2
    assert "Downloaded 2 times" in text(parse(client.get(PAGE)))


def test_writing_a_day_again_says_when_and_by_whom_it_was_sent(client, leader, db):
    journal.export_journal(YESTERDAY, SYSTEM, via=JournalVia.SCHEDULE)
    response = _write(client, YESTERDAY.isoformat())
    page = parse(client.get(response.headers["Location"]))
    assert "already sent on" in text(page) and "by the daily job" in text(page)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GlJournal)) == 1


@pytest.mark.parametrize(
    "typed, message",
    [
        ("", "Enter the day to write the journal for"),
        ("31/2/2026", "Day must be a real date, like 27/3/2026"),
        (TODAY.strftime("%d/%m/%Y"), "can be written once that day has ended"),
        ("1/1/2199", "can be written once that day has ended"),
    ],
)
def test_a_bad_or_unfinished_day_is_refused_and_nothing_written(client, leader, db, typed, message):
    response = _write(client, typed)
    assert response.status_code == 200
    page = parse(response)
    assert title(page).startswith("Error:")
    assert any(message in error for error, _ in error_summary(page))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GlJournal)) == 0


def test_a_journal_that_does_not_exist_is_not_found(client, leader):
    assert client.get("/backoffice/journals/999/download").status_code == 404


@pytest.mark.parametrize("path", [PAGE, "/backoffice/journals/1/download"])
def test_an_officer_may_not_see_or_download_journals(client, db, path):
    journal.export_journal(YESTERDAY, SYSTEM, via=JournalVia.SCHEDULE)
    signed_in_session(client, make_staff(role=StaffRole.OFFICER))
    assert client.get(path).status_code == 403
    assert "Journals" not in [text(a) for a in parse(client.get("/backoffice/")).select("nav a")]


def test_team_leaders_find_journals_in_the_navigation(client, leader):
    links = {text(a): a["href"] for a in parse(client.get("/backoffice/")).select("nav a")}
    assert links["Journals"] == PAGE


def test_writing_a_journal_without_the_csrf_token_is_refused(app, client, leader, db):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(PAGE, data={"day": YESTERDAY.isoformat()})
    assert response.status_code == 400
    assert text(parse(response).h1) == "Sorry, you’ll have to start again"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GlJournal)) == 0
