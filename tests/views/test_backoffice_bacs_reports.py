"""The Bacs reports pages: an officer uploads a report and sees what was done with
each advice; a bad file is a field error; the returns queue lists what waits for an
officer, oldest first, with the reason in words and a link to the case; resolving an
advice happens once; the navigation shows how many wait."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from shared.models import AuditLog, BacsReportItem, StaffRole
from tests.bacs_report_samples import Return, arudd
from tests.factories import make_staff
from tests.frozen_clock import frozen_clock
from tests.integration.test_bacs_returns import make_world
from tests.views.conftest import signed_in_session
from tests.views.pages import error_summary, parse, text, title

pytestmark = frozen_clock
UPLOAD = "/backoffice/bacs-reports"
QUEUE = "/backoffice/bacs-reports/returns"


@pytest.fixture
def officer(client, db):
    person = make_staff(role=StaffRole.OFFICER, full_name="Olive Officer")
    signed_in_session(client, person)
    return person


def _token(client, path: str) -> str:
    return parse(client.get(path)).select_one("input[name=csrf_token]")["value"]


def _upload(client, content: bytes, name: str = "ARUDD.xml"):
    data = {"csrf_token": _token(client, UPLOAD), "report": (io.BytesIO(content), name)}
    return client.post(UPLOAD, data=data, content_type="multipart/form-data")


def test_uploading_an_arudd_shows_each_advice_and_what_was_done(client, officer, db):
    world = make_world(db)
    response = _upload(
        client, arudd([Return("A00000001-01", "25.00", "0"), Return("ZZ0000000-01", "9.99", "B")])
    )
    assert response.status_code == 302
    page = parse(client.get(response.headers["Location"]))

    assert title(page).startswith("ARUDD report 00123")
    rows = page.select("#items tbody tr")
    assert len(rows) == 2
    first = [text(td) for td in rows[0].select("td")]
    assert first[0].startswith("A00000001-01")
    assert first[1].startswith("Refer to payer")
    assert first[2] == "£25.00"
    assert "reversed" in first[3] and "collected again on 01/07/2026" in first[3]
    assert "No mandate" in text(rows[1])
    assert rows[1].select_one("a[href*='/bacs-reports/returns/']") is not None
    del world


def test_a_file_for_another_service_user_is_a_field_error_and_imports_nothing(client, officer, db):
    response = _upload(client, arudd([Return("A00000001-01", "25.00", "0")], sun="123456"))

    page = parse(response)
    assert response.status_code == 200
    assert title(page).startswith("Error:")
    [(message, href)] = error_summary(page)
    assert message.startswith("The report is for service user number 123456")
    assert href == "#report"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BacsReportItem)) == 0


def test_the_same_file_twice_says_when_and_by_whom(client, officer, db):
    make_world(db)
    content = arudd([Return("A00000001-01", "25.00", "B")])
    _upload(client, content)

    page = parse(_upload(client, content, "again.xml"))

    [(message, _)] = error_summary(page)
    assert "already imported on" in message and "by Olive Officer" in message


def test_the_queue_lists_waiting_advices_and_resolving_one_happens_once(client, officer, db):
    world = make_world(db)
    _upload(
        client, arudd([Return("A00000001-01", "25.00", "2"), Return("ZZ0000000-01", "9.99", "B")])
    )

    page = parse(client.get(QUEUE))
    assert title(page).startswith("Direct Debit returns")
    rows = page.select("#queue tbody tr")
    assert len(rows) == 2  # oldest first: in report order
    assert text(rows[0].select("td")[1]).startswith("Payer deceased")
    case_link = rows[0].select_one("a[href^='/backoffice/accounts/']")
    assert case_link is not None
    nav = [text(a) for a in page.select(".govuk-service-navigation__item a")]
    assert "Direct Debit returns (2)" in nav

    item_id = db.session.scalar(
        sa.select(BacsReportItem.id).where(BacsReportItem.account_id == world.account_id)
    )
    path = f"{QUEUE}/{item_id}"
    token = _token(client, path)
    empty = client.post(path, data={"csrf_token": token, "note": "  "})
    assert error_summary(parse(empty))[0][0] == "Enter what you did about this advice"
    first = client.post(path, data={"csrf_token": token, "note": "Deceased hold placed"})
    second = client.post(path, data={"csrf_token": token, "note": "Deceased hold placed"})
    assert first.status_code == second.status_code == 302

    resolved = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "bacs_report.item_resolved")
    ).all()
    assert len(resolved) == 1
    rows = parse(client.get(QUEUE)).select("#queue tbody tr")
    assert len(rows) == 1


def test_staff_without_the_permission_cannot_see_the_queue(client, db):
    auditor = make_staff(role=StaffRole.AUDITOR)
    signed_in_session(client, auditor)
    assert client.get(QUEUE).status_code == 403
    assert client.get(UPLOAD).status_code == 403
