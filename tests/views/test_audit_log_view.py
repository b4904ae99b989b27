"""Auditors and administrators read the audit log: filtered, newest first, paged by id."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from shared.models import ActorType, AuditLog, StaffRole
from shared.services import audit_view
from shared.services.actors import SYSTEM, Actor
from shared.services.history import record_audit
from tests.factories import make_account, make_staff
from tests.views.conftest import signed_in_session
from tests.views.pages import error_summary, parse, text


@pytest.fixture
def auditor(client, db):
    person = make_staff(role=StaffRole.AUDITOR, email="audrey.auditor@borsetshire.example")
    signed_in_session(client, person)
    return person


def audit(db, actor, action, *, account_id=None, at=None, **after):
    row = record_audit(actor, action, "thing", 1, account_id=account_id, after=after or None)
    if at is not None:
        row.occurred_at = at
    db.session.commit()
    return row


def listed_actions(response) -> list[str]:
    return [text(code) for code in parse(response).select("tbody code")]


def test_the_log_lists_entries_newest_first_with_who_did_what(client, db, auditor):
    officer = make_staff(role=StaffRole.OFFICER, full_name="Olly Officer")
    account = make_account()
    audit(db, SYSTEM, "outbox.sent")
    audit(
        db,
        Actor(ActorType.STAFF, officer.id, "10.0.0.7"),
        "case.note_added",
        account_id=account.id,
        note="rang back",
    )

    page = parse(client.get("/backoffice/audit"))

    rows = [[text(td) for td in tr.select("td")] for tr in page.select("tbody tr")]
    assert rows[0][1] == "Olly Officer from 10.0.0.7"
    assert rows[0][2] == "case.note_added"
    assert rows[0][4] == account.reference
    assert '"note": "rang back"' in rows[0][5]
    assert rows[1][1:3] == ["System", "outbox.sent"]


def test_filters_narrow_the_log_by_action_person_account_and_dates(client, db, auditor):
    officer = make_staff(role=StaffRole.OFFICER, email="olly@borsetshire.example")
    mine, other = make_account(), make_account()
    as_officer = Actor(ActorType.STAFF, officer.id, None)
    audit(db, as_officer, "case.note_added", account_id=mine.id)
    audit(db, as_officer, "case.hold_placed", account_id=other.id)
    audit(db, SYSTEM, "case.hold_lifted", account_id=mine.id, at=datetime(2026, 1, 5, 12))

    # Newest first means last written first (the log is append-only, ids only grow).
    assert listed_actions(client.get("/backoffice/audit?action=case.hold")) == [
        "case.hold_lifted",
        "case.hold_placed",
    ]
    assert listed_actions(
        client.get("/backoffice/audit?staff_email=OLLY@borsetshire.example&action=case.")
    ) == ["case.hold_placed", "case.note_added"]
    assert listed_actions(
        client.get(f"/backoffice/audit?account_reference={mine.reference.lower()}&action=case.")
    ) == ["case.hold_lifted", "case.note_added"]
    assert listed_actions(
        client.get("/backoffice/audit?on_or_after=1/1/2026&on_or_before=2026-01-31")
    ) == ["case.hold_lifted"]


def test_an_action_filter_with_like_wildcards_matches_them_literally(client, db, auditor):
    audit(db, SYSTEM, "portal.signed_in")

    assert listed_actions(client.get("/backoffice/audit?action=portal%25")) == []
    assert listed_actions(client.get("/backoffice/audit?action=portal_")) == []


def test_bad_filters_are_explained_and_nothing_is_listed(client, db, auditor):
    response = client.get("/backoffice/audit?on_or_after=31/2/2026&staff_email=nobody@example.com")

    page = parse(response)
    assert ("From must be a real date, like 27/3/2026", "#on_or_after") in error_summary(page)
    assert page.select("tbody tr") == []

    page = parse(client.get("/backoffice/audit?staff_email=nobody@example.com"))
    assert error_summary(page) == [
        ("There is no member of staff with that email address", "#staff_email")
    ]
    page = parse(client.get("/backoffice/audit?account_reference=Z99999999"))
    assert error_summary(page) == [
        ("There is no account with that reference", "#account_reference")
    ]


def test_long_logs_page_back_by_id_keeping_the_filter(client, db, auditor):
    start = datetime(2026, 11, 1)
    for n in range(audit_view.PAGE_SIZE + 5):
        audit(db, SYSTEM, f"bulk.{n:03d}", at=start + timedelta(minutes=n))

    first = parse(client.get("/backoffice/audit?action=bulk."))
    assert len(first.select("tbody tr")) == audit_view.PAGE_SIZE
    older = first.select_one(".govuk-pagination__next a")["href"]
    assert "action=bulk." in older

    second = client.get(older)
    assert listed_actions(second) == [f"bulk.{n:03d}" for n in range(4, -1, -1)]
    assert parse(second).select_one(".govuk-pagination__next") is None


def test_viewing_the_log_changes_nothing(client, db, auditor):
    audit(db, SYSTEM, "outbox.sent")
    before = db.session.query(AuditLog).count()

    client.get("/backoffice/audit?action=outbox")

    assert db.session.query(AuditLog).count() == before
