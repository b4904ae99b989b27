"""Deciding a request on the approvals queue (issue 16): the GOV.UK pattern of one
decision per request, a radio (Approve or Reject) with the reason revealed for Reject
(always shown without JavaScript) and one Continue button; a rejection without a
reason, or no choice at all, is a field error and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.models import ApprovalRequest, ApprovalStatus, EntryKind, LedgerEntry, StaffRole
from shared.services import approvals, ledger
from shared.services.actors import SYSTEM, staff
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, inline_errors, parse, text

pytestmark = frozen_clock
QUEUE = "/backoffice/approvals"


@pytest.fixture
def officer(db):
    return make_staff(StaffRole.OFFICER, full_name="Olive Officer", write_off_limit_pence=1_000)


@pytest.fixture
def leader(db):
    return make_staff(StaffRole.TEAM_LEADER, full_name="Tess Leader", write_off_limit_pence=90_000)


@pytest.fixture
def waiting(db, officer) -> ApprovalRequest:
    """A £150 write-off Olive asked for, above her £10 limit."""
    account = make_account(surname="Archer")
    invoice = ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number="INV00000401",
        issue_date=TODAY - timedelta(days=90),
        due_date=TODAY - timedelta(days=60),
        description="Trade waste",
        lines=[ledger.LineInput("Bin lifts", 1, 20_000)],
        actor=SYSTEM,
    )
    outcome = approvals.request_write_off(
        invoice_id=invoice.id,
        amount_pence=15_000,
        reason_code="uneconomical",
        reason="Not worth chasing",
        actor=staff(officer.id),
    )
    return outcome.request


def status(db, request) -> ApprovalStatus:
    db.session.expire_all()
    return db.session.get(ApprovalRequest, request.id).status


def decide(client, request, **fields):
    return client.post(
        f"{QUEUE}/{request.id}/decide", data={"csrf_token": csrf_token(client, QUEUE), **fields}
    )


def test_each_request_has_one_form_with_a_decision_radio_a_reason_for_reject_and_continue(
    client, leader, waiting
):
    signed_in_session(client, leader)

    card = parse(client.get(QUEUE)).select_one(f"#approval-{waiting.id}")

    [form] = card.select("form")
    assert form["action"] == f"{QUEUE}/{waiting.id}/decide"
    # The radios sit in a fieldset whose legend names the request for a screen reader.
    fieldset = form.select_one("fieldset")
    assert text(fieldset.legend) == "Your decision on the write-off of £150.00 for Alex Archer"
    radios = form.select("input[type=radio][name=decision]")
    assert [(r["value"], text(form.select_one(f"label[for='{r['id']}']"))) for r in radios] == [
        ("approve", "Approve"),
        ("reject", "Reject"),
    ]
    assert not any(r.has_attr("checked") for r in radios)
    # The reason is the conditional content of Reject only (shown without JavaScript).
    reject = radios[1]
    conditional = form.select_one(f"#{reject['data-aria-controls']}")
    assert "govuk-radios__conditional" in conditional["class"]
    assert conditional.select_one(f"textarea#note-{waiting.id}[name=note]")
    assert not radios[0].has_attr("data-aria-controls")
    # One button, after the decision: no Approve button against the summary list.
    assert [text(b) for b in form.select("button")] == ["Continue"]
    assert not card.select("button.govuk-button--warning")


def test_approving_through_the_decision_form_posts_the_write_off(client, db, leader, waiting):
    signed_in_session(client, leader)

    response = decide(client, waiting, decision="approve", note="")

    assert response.headers["Location"] == QUEUE
    assert status(db, waiting) == ApprovalStatus.APPROVED
    assert db.session.scalars(
        sa.select(LedgerEntry.amount_pence).where(LedgerEntry.kind == EntryKind.WRITE_OFF)
    ).all() == [-15_000]
    assert f"Request {waiting.id} approved and posted" in text(parse(client.get(QUEUE)))


def test_a_reason_typed_and_then_approve_chosen_approves_without_a_note(
    client, db, leader, waiting
):
    signed_in_session(client, leader)

    decide(client, waiting, decision="approve", note="Changed my mind")

    db.session.expire_all()
    request = db.session.get(ApprovalRequest, waiting.id)
    assert (request.status, request.decision_note) == (ApprovalStatus.APPROVED, None)


def test_rejecting_with_a_reason_records_it_and_posts_nothing(client, db, leader, waiting):
    signed_in_session(client, leader)

    response = decide(client, waiting, decision="reject", note="  Try a plan first  ")

    assert response.headers["Location"] == QUEUE
    db.session.expire_all()
    request = db.session.get(ApprovalRequest, waiting.id)
    assert (request.status, request.decision_note) == (ApprovalStatus.REJECTED, "Try a plan first")
    assert not db.session.scalars(
        sa.select(LedgerEntry).where(LedgerEntry.kind == EntryKind.WRITE_OFF)
    ).all()


def test_reject_without_a_reason_is_an_error_on_the_reason_with_reject_still_chosen(
    client, db, leader, waiting
):
    signed_in_session(client, leader)

    response = decide(client, waiting, decision="reject", note="   ")

    assert response.status_code == 200
    page = parse(response)
    assert error_summary(page) == [("Enter why the request is rejected", f"#note-{waiting.id}")]
    assert inline_errors(page) == {f"note-{waiting.id}": "Enter why the request is rejected"}
    # The choice is kept, so the reason box stays open under Reject.
    assert page.select_one(f"#approval-{waiting.id} input[value=reject]").has_attr("checked")
    assert status(db, waiting) == ApprovalStatus.PENDING


@pytest.mark.parametrize("decision", ["", "maybe"])
def test_continuing_without_a_decision_is_an_error_on_the_radios(
    client, db, leader, waiting, decision
):
    signed_in_session(client, leader)

    response = decide(client, waiting, decision=decision)

    assert response.status_code == 200
    assert error_summary(parse(response)) == [
        ("Select whether to approve or reject the request", f"#decision-{waiting.id}")
    ]
    assert parse(response).select_one(f"#decision-{waiting.id}[type=radio]")
    assert status(db, waiting) == ApprovalStatus.PENDING


def test_a_too_long_reason_is_an_error_and_nothing_is_rejected(client, db, leader, waiting):
    signed_in_session(client, leader)

    response = decide(client, waiting, decision="reject", note="x" * 2001)

    assert error_summary(parse(response)) == [
        ("Reason must be 2,000 characters or fewer", f"#note-{waiting.id}")
    ]
    assert status(db, waiting) == ApprovalStatus.PENDING


def test_the_requester_gets_no_decision_form_and_cannot_decide_by_posting(
    client, db, officer, leader, waiting
):
    officer.role = StaffRole.TEAM_LEADER
    db.session.commit()
    signed_in_session(client, officer)

    card = parse(client.get(QUEUE)).select_one(f"#approval-{waiting.id}")
    assert card.select("form") == []
    assert "another team leader must decide it" in text(card)

    decide(client, waiting, decision="reject", note="Mine")
    decide(client, waiting, decision="approve")

    assert status(db, waiting) == ApprovalStatus.PENDING
    assert "You cannot" in text(parse(client.get(QUEUE)))
