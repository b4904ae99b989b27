"""Officers record calls, letters, visits and notes with an outcome and a follow-up
date; the diary lists follow-ups due until something further is recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.models import AuditLog, ContactEvent, ContactKind, StaffRole
from shared.services import actors, contacts
from tests.factories import make_account, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, parse, text

pytestmark = frozen_clock


@pytest.fixture
def officer(client, db):
    person = make_staff(role=StaffRole.OFFICER, full_name="Olly Officer")
    signed_in_session(client, person)
    return person


@pytest.fixture
def account(db):
    return make_account(surname="Archer")


def post_contact(client, reference, **fields):
    path = f"/backoffice/accounts/{reference}/contacts/new"
    data = {"csrf_token": csrf_token(client, path), **fields}
    return client.post(path, data=data)


def events(db, account_id) -> list[ContactEvent]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(ContactEvent).where(ContactEvent.account_id == account_id)
    ).all()


def test_a_call_with_an_outcome_and_follow_up_goes_on_the_timeline_and_audit(
    client, db, officer, account
):
    follow_up = TODAY + timedelta(days=7)
    response = post_contact(
        client,
        account.reference.lower(),
        kind="call_in",
        summary="Rang about the garden waste invoice",
        detail="Will pay £50 on Friday",
        outcome="Promise to pay",
        follow_up_date=follow_up.strftime("%d/%m/%Y"),
    )

    assert response.status_code == 302
    [event] = events(db, account.id)
    assert event.kind == ContactKind.CALL_IN
    assert event.summary == "Rang about the garden waste invoice"
    assert event.detail == "Will pay £50 on Friday"
    assert event.outcome == "Promise to pay"
    assert event.follow_up_date == follow_up
    assert event.staff_id == officer.id
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "case.contact_recorded"))
    assert audit.actor_id == officer.id and audit.account_id == account.id
    assert audit.after["follow_up_date"] == follow_up.isoformat()


@pytest.mark.parametrize(
    ("fields", "message", "field"),
    [
        ({"summary": "x"}, "Select what kind of contact it was", "#kind"),
        ({"kind": "sms", "summary": "x"}, "Select what kind of contact it was", "#kind"),
        ({"kind": "note"}, "Enter a summary of the contact", "#summary"),
        (
            {"kind": "note", "summary": "x" * 301},
            "Summary must be 300 characters or fewer",
            "#summary",
        ),
        (
            {"kind": "note", "summary": "x", "outcome": "Paid in gold"},
            "Select an outcome from the list",
            "#outcome",
        ),
        (
            {"kind": "note", "summary": "x", "follow_up_date": "31/2/2030"},
            "Follow-up date must be a real date, like 27/3/2026",
            "#follow_up_date",
        ),
        (
            {"kind": "note", "summary": "x", "follow_up_date": "1/1/2020"},
            "Follow-up date must be today or in the future",
            "#follow_up_date",
        ),
    ],
)
def test_bad_input_is_explained_and_nothing_is_recorded(
    client, db, officer, account, fields, message, field
):
    response = post_contact(client, account.reference, **fields)

    assert response.status_code == 200
    assert (message, field) in error_summary(parse(response))
    assert events(db, account.id) == []


def test_an_unknown_account_is_not_found(client, officer):
    assert client.get("/backoffice/accounts/Z99999999/contacts/new").status_code == 404


def test_the_diary_lists_due_and_overdue_follow_ups_until_something_further_is_recorded(
    client, db, officer, account
):
    other = make_account(surname="Grundy")
    colleague = make_staff(role=StaffRole.OFFICER)
    me = actors.staff(officer.id)

    def note(acct, follow_up, who=me, summary="Chase payment"):
        contacts.record_contact(
            acct.id,
            contacts.ContactRecord(ContactKind.NOTE, summary, follow_up_date=follow_up),
            who,
            today=follow_up or TODAY,
        )

    note(account, TODAY - timedelta(days=3), summary="Check the promise was kept")
    note(other, TODAY, summary="Ring back")
    note(other, TODAY + timedelta(days=1), who=actors.staff(colleague.id))  # not mine
    note(make_account(), TODAY + timedelta(days=2))  # not due yet

    page = parse(client.get("/backoffice/diary"))
    tables = {
        text(t.caption): [text(td) for td in t.select("tbody td:nth-child(2)")]
        for t in page.select("table")
    }
    assert tables == {"Overdue": ["Check the promise was kept"], "Due today": ["Ring back"]}
    assert "3 days overdue" in text(page.main)

    # Ringing back is recorded: that follow-up leaves the diary.
    note(other, None, summary="Rang back, will pay tomorrow")
    page = parse(client.get("/backoffice/diary"))
    assert [text(t.caption) for t in page.select("table")] == ["Overdue"]


def test_an_auditor_cannot_record_a_contact(client, db, account):
    signed_in_session(client, make_staff(role=StaffRole.AUDITOR))

    response = post_contact(client, account.reference, kind="note", summary="x")

    assert response.status_code == 403
    assert events(db, account.id) == []
