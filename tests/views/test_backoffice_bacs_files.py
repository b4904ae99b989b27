"""The Bacs files pages: a team leader builds the next file, checks its summary, downloads
the stored bytes (recorded), withdraws it with a reason, or releases it once after
confirming the totals; an officer may not see any of it."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from shared.models import AuditLog, BacsFile, BacsFileStatus, Mandate, MandateStatus, StaffRole
from shared.services.actors import SYSTEM
from shared.services.directdebit import files
from tests.factories import make_staff
from tests.frozen_clock import frozen_clock
from tests.integration.test_bacs_files_world import (
    PROCESSING_DAY,
    make_collection,
    make_mandate,
)
from tests.views.conftest import signed_in_session
from tests.views.pages import error_summary, parse, text, title

pytestmark = frozen_clock
LIST = "/backoffice/bacs-files"


@pytest.fixture
def leader(client, db):
    person = make_staff(role=StaffRole.TEAM_LEADER, full_name="Tess Leader")
    signed_in_session(client, person)
    return person


@pytest.fixture
def due(db):
    """Two collections for the next file, one held back, and a new mandate."""
    make_collection(make_mandate(), pence=2_500)
    make_collection(make_mandate(), pence=1_250, code="01")
    make_collection(make_mandate(MandateStatus.SUBMITTED), pence=999)
    return make_mandate(MandateStatus.PENDING_SUBMISSION)


def _token(page) -> str:
    return parse(page).select_one("input[name=csrf_token]")["value"]


def _build(client):
    page = client.get(LIST)
    assert page.status_code == 200
    return client.post(LIST, data={"csrf_token": _token(page)})


def test_a_team_leader_builds_the_next_file_and_sees_its_summary(client, leader, due, db):
    response = _build(client)
    assert response.status_code == 302
    page = parse(client.get(response.headers["Location"]))

    assert title(page).startswith("Bacs file 000001 for 18 June 2026")
    body = text(page)
    assert "File 000001 for 18 June 2026 built" in body
    rows = {
        text(r.select_one("th")): [text(td) for td in r.select("td")]
        for r in page.select("#by-code tbody tr")
    }
    assert rows["Regular collections (17)"] == ["1", "£25.00"]
    assert rows["First collections (01)"] == ["1", "£12.50"]
    assert rows["New instructions (0N)"] == ["1", "£0.00"]
    assert rows["Contra: credit to the council's account (99)"] == ["1", "£37.50"]
    assert "Held back: 1 (£9.99)" in body
    held = [text(td) for td in page.select("#held-back tbody tr td")]
    assert "£9.99" in held and any("not yet released" in cell for cell in held)
    listing = parse(client.get(LIST))
    cells = [text(td) for td in listing.select("#bacs-files tbody tr td")]
    assert cells[0] == "000001" and "Built" in cells[1] and "£37.50" in cells


def test_building_twice_builds_once_and_says_who_built_it(client, leader, due, db):
    _build(client)
    page = client.get(LIST)
    assert "is built (serial 000001)" in text(parse(page))
    response = client.post(LIST, data={"csrf_token": _token(page)})
    assert response.status_code == 302
    assert "already built on" in text(parse(client.get(response.headers["Location"])))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BacsFile)) == 1


def test_nothing_due_is_an_error_on_the_page_not_a_file(client, leader, db):
    page = parse(_build(client))
    assert title(page).startswith("Error:")
    assert "Nothing to send for 18 June 2026" in error_summary(page)[0][0]


def test_the_download_is_the_stored_file_and_is_recorded(client, leader, due, db):
    built = files.build_file(SYSTEM, PROCESSING_DAY)
    response = client.get(f"{LIST}/{built.file_id}/download")

    assert response.status_code == 200
    assert hashlib.sha256(response.data).hexdigest() == built.sha256
    assert built.file_name in response.headers["Content-Disposition"]
    audit = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "bacs_file.downloaded")
    ).one()
    assert audit.actor_id == leader.id


def test_release_needs_the_totals_confirmed_and_happens_once(client, leader, due, db):
    built = files.build_file(SYSTEM, PROCESSING_DAY)
    page = client.get(f"{LIST}/{built.file_id}")
    token = _token(page)
    url = f"{LIST}/{built.file_id}/release"

    unconfirmed = client.post(url, data={"csrf_token": token, "seen_status": "built"})
    assert unconfirmed.status_code == 400
    assert error_summary(parse(unconfirmed))[0][0] == "Confirm you have checked the totals"
    assert files.get_file(built.file_id).status == BacsFileStatus.BUILT

    data = {"csrf_token": token, "seen_status": "built", "checked": "checked"}
    first = client.post(url, data=data)
    second = client.post(url, data=data)
    assert first.status_code == second.status_code == 302
    assert "already released by Tess Leader" in text(parse(client.get(second.headers["Location"])))
    db.session.expire_all()
    assert files.get_file(built.file_id).released_by == "Tess Leader"
    assert db.session.get(Mandate, due.id).status == MandateStatus.ACTIVE
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                AuditLog.action == "bacs_file.released", AuditLog.account_id.is_(None)
            )
        )
        == 1
    )


def test_withdrawing_needs_a_reason_then_puts_everything_back(client, leader, due, db):
    built = files.build_file(SYSTEM, PROCESSING_DAY)
    url = f"{LIST}/{built.file_id}/withdraw"
    token = _token(client.get(url))

    blank = parse(client.post(url, data={"csrf_token": token, "reason": "  "}))
    assert error_summary(blank)[0][0] == "Enter why the file is being withdrawn"
    response = client.post(url, data={"csrf_token": token, "reason": "Totals wrong"})
    assert response.status_code == 302
    page = parse(client.get(response.headers["Location"]))
    assert "Withdrawn" in text(page) and "Totals wrong" in text(page)
    assert page.select_one("#release") is None
    db.session.expire_all()
    assert db.session.get(Mandate, due.id).status == MandateStatus.PENDING_SUBMISSION


def test_a_withdrawn_file_released_from_a_stale_page_is_refused(client, leader, due, db):
    built = files.build_file(SYSTEM, PROCESSING_DAY)
    token = _token(client.get(f"{LIST}/{built.file_id}"))
    files.withdraw_file(SYSTEM, built.file_id, "Wrong day")
    response = client.post(
        f"{LIST}/{built.file_id}/release",
        data={"csrf_token": token, "seen_status": "built", "checked": "checked"},
    )
    assert response.status_code == 409
    assert "cannot be released" in error_summary(parse(response))[0][0]


@pytest.mark.parametrize("path", ["", "/1", "/1/download", "/1/withdraw"])
def test_an_officer_may_not_see_or_use_the_bacs_files_pages(client, db, due, path):
    files.build_file(SYSTEM, PROCESSING_DAY)
    signed_in_session(client, make_staff(role=StaffRole.OFFICER))
    assert client.get(LIST + path).status_code == 403
    assert "Bacs files" not in text(parse(client.get("/backoffice/")))


def test_an_unknown_file_is_not_found(client, leader, db):
    assert client.get(f"{LIST}/999").status_code == 404
    assert client.get(f"{LIST}/999/download").status_code == 404
