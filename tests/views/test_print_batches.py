"""The print batch pages: an officer sees the letters waiting, builds today's batch once,
downloads its PDF and manifest, withdraws it with a reason or releases it once after
confirming the check; an auditor may not; a letter's PDF opens from the case."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.models import OutboxMessage, OutboxStatus, PrintBatch, PrintBatchStatus, StaffRole
from tests.factories import make_staff
from tests.frozen_clock import frozen_clock
from tests.integration.test_print_batch_world import (
    composed_letter,
    make_debtors,
    print_dir,  # noqa: F401 - fixture
)
from tests.views.conftest import signed_in_session
from tests.views.pages import error_summary, parse, text, title

pytestmark = [frozen_clock, pytest.mark.usefixtures("print_dir")]
LIST = "/backoffice/print-batches"


@pytest.fixture
def officer(client, db):
    person = make_staff(role=StaffRole.OFFICER, full_name="Olu Officer")
    signed_in_session(client, person)
    return person


@pytest.fixture
def waiting(db):
    debtors = make_debtors(3)
    return [
        composed_letter(debtors[0], template="reminder"),
        composed_letter(debtors[1], template="reminder"),
        composed_letter(debtors[2], template="final_demand", subject="Final demand"),
    ]


def _token(page) -> str:
    return parse(page).select_one("input[name=csrf_token]")["value"]


def _build(client):
    return client.post(LIST, data={"csrf_token": _token(client.get(LIST))})


def test_the_page_counts_the_letters_waiting_by_template(client, officer, waiting):
    page = parse(client.get(LIST))

    assert title(page).startswith("Print batches")
    assert "Letters waiting: 3" in text(page)
    rows = [[text(c) for c in r.select("th, td")] for r in page.select("#waiting tbody tr")]
    assert rows == [["reminder", "2"], ["final_demand", "1"]]
    assert page.select_one("#build button, #build input[type=submit]") is not None
    nav = [text(a) for a in page.select(".govuk-service-navigation__link, .govuk-header__link")]
    assert "Print batches" in nav


def test_building_twice_builds_once_and_says_when(client, officer, waiting, db):
    first = _build(client)
    assert first.status_code == 302
    page = parse(client.get(first.headers["Location"]))
    assert title(page).startswith("Print batch ")
    assert "3 letters" in text(page) or "3" in text(page.select_one(".govuk-summary-list"))

    list_page = parse(client.get(LIST))
    assert list_page.select_one("#build") is None  # a batch is in play: check it instead
    second = client.post(LIST, data={"csrf_token": _token(client.get(LIST))})
    assert second.status_code == 302
    again = parse(client.get(second.headers["Location"]))
    assert "already built" in text(again)
    assert db.session.scalar(sa.select(sa.func.count(PrintBatch.id))) == 1


def test_nothing_waiting_is_said_as_an_error_and_builds_nothing(client, officer, db):
    response = _build(client)

    assert response.status_code == 400
    page = parse(response)
    assert title(page).startswith("Error:")
    assert error_summary(page) == [("No letters waiting: nothing was built", "#build")]
    assert db.session.scalar(sa.select(sa.func.count(PrintBatch.id))) == 0


def test_the_pdf_and_manifest_download_as_written(client, officer, waiting, db):
    location = _build(client).headers["Location"]
    batch = db.session.scalars(sa.select(PrintBatch)).one()

    pdf = client.get(f"{location}/pdf")
    manifest = client.get(f"{location}/manifest")

    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF") and batch.pdf_path.endswith(
        pdf.headers["Content-Disposition"].split('filename="')[1].rstrip('"')
    )
    assert manifest.mimetype == "text/csv" and len(manifest.data.decode().splitlines()) == 4
    assert client.get(f"{location}/other").status_code == 404


def test_release_needs_the_check_and_happens_once(client, officer, waiting, db):
    location = _build(client).headers["Location"]
    token = _token(client.get(location))

    refused = client.post(f"{location}/release", data={"csrf_token": token})
    assert refused.status_code == 400
    assert error_summary(parse(refused))[0][0] == "Confirm you have checked the batch"
    assert db.session.get(OutboxMessage, waiting[0].id).status == OutboxStatus.PENDING

    data = {"csrf_token": token, "checked": "checked"}
    assert client.post(f"{location}/release", data=data).status_code == 302
    again = client.post(f"{location}/release", data=data, follow_redirects=True)
    assert "already released" in text(parse(again))
    db.session.expire_all()
    assert {db.session.get(OutboxMessage, m.id).status for m in waiting} == {OutboxStatus.SENT}
    assert db.session.scalars(sa.select(PrintBatch)).one().status == PrintBatchStatus.RELEASED


def test_withdrawing_needs_a_reason_and_puts_the_letters_back(client, officer, waiting, db):
    location = _build(client).headers["Location"]
    page = client.get(f"{location}/withdraw")
    token = _token(page)

    empty = client.post(f"{location}/withdraw", data={"csrf_token": token, "reason": "  "})
    assert empty.status_code == 200
    assert error_summary(parse(empty))[0][0] == "Enter why the batch is being withdrawn"

    done = client.post(f"{location}/withdraw", data={"csrf_token": token, "reason": "Wrong paper"})
    assert done.status_code == 302
    db.session.expire_all()
    assert {db.session.get(OutboxMessage, m.id).print_batch_id for m in waiting} == {None}
    assert "Letters waiting: 3" in text(parse(client.get(LIST)))


def test_a_letter_pdf_opens_from_the_case_for_anyone_who_sees_cases(client, db, waiting):
    auditor = make_staff(role=StaffRole.AUDITOR)
    signed_in_session(client, auditor)

    response = client.get(f"/backoffice/letters/{waiting[0].id}.pdf")

    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert client.get("/backoffice/letters/999999.pdf").status_code == 404
    assert client.get(LIST).status_code == 403
