"""Refunds and write-offs: a write-off is made at once within the requester's delegated
limit, otherwise queued for a different team leader, who approves within their own
limit; every refund is queued; rejected with a note, or withdrawn by the requester."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.models import (
    ApprovalRequest,
    ApprovalStatus,
    AuditLog,
    ContactEvent,
    EntryKind,
    LedgerEntry,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
    PaymentMethod,
    StaffRole,
)
from shared.services import balances, ledger
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, parse, text

pytestmark = frozen_clock
QUEUE = "/backoffice/approvals"


@pytest.fixture
def officer(db):
    return make_staff(
        StaffRole.OFFICER,
        full_name="Olive Officer",
        write_off_limit_pence=5_000,
        refund_limit_pence=2_000,
    )


@pytest.fixture
def leader(db):
    return make_staff(
        StaffRole.TEAM_LEADER,
        full_name="Tess Leader",
        write_off_limit_pence=100_000,
        refund_limit_pence=100_000,
    )


@pytest.fixture
def debt(db):
    account = make_account()
    invoice = ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number="INV00000301",
        issue_date=TODAY - timedelta(days=90),
        due_date=TODAY - timedelta(days=60),
        description="Trade waste",
        lines=[ledger.LineInput("Bin lifts", 1, 20_000)],
        actor=SYSTEM,
    )
    return account, invoice


@pytest.fixture
def overpaid(db):
    account = make_account()
    payment = ledger.record_payment(
        account_id=account.id,
        amount_pence=10_000,
        method=PaymentMethod.BANK_TRANSFER,
        actor=SYSTEM,
        external_reference="BGC 1",
    ).entry
    return account, payment


def as_(client, person):
    signed_in_session(client, person)


def write_off_path(account, invoice):
    return f"/backoffice/accounts/{account.reference}/invoices/{invoice.number}/write-off"


def ask_write_off(client, account, invoice, **fields):
    path = write_off_path(account, invoice)
    data = {"csrf_token": csrf_token(client, path), "reason_code": "uneconomical"}
    data.update({"amount": "20", "reason": "Costs more to chase than it is worth", **fields})
    return client.post(path, data=data)


def ask_refund(client, account, entry, **fields):
    path = f"/backoffice/accounts/{account.reference}/refunds/new"
    data = {"csrf_token": csrf_token(client, path), "source": str(entry.id), "route": "bacs"}
    data.update({"amount": "10", "reason": "Paid twice", **fields})
    return client.post(path, data=data)


def decide(client, request_id, verb, **fields):
    """Choose Approve or Reject on the request's one decision form, and Continue."""
    return client.post(
        f"{QUEUE}/{request_id}/decide",
        data={"csrf_token": csrf_token(client, QUEUE), "decision": verb, **fields},
    )


def entries(db, account, kind):
    db.session.expire_all()
    return db.session.scalars(
        sa.select(LedgerEntry).where(LedgerEntry.account_id == account.id, LedgerEntry.kind == kind)
    ).all()


def the_request(db) -> ApprovalRequest:
    db.session.expire_all()
    return db.session.scalars(sa.select(ApprovalRequest)).one()


def audit_actions(db, account):
    return [
        a.action
        for a in db.session.scalars(
            sa.select(AuditLog).where(AuditLog.account_id == account.id).order_by(AuditLog.id)
        )
    ]


def timeline(db, account):
    return [
        e.summary
        for e in db.session.scalars(
            sa.select(ContactEvent).where(ContactEvent.account_id == account.id)
        )
    ]


def queue_a_write_off(client, db, officer, debt, amount="150"):
    account, invoice = debt
    as_(client, officer)
    ask_write_off(client, account, invoice, amount=amount)
    return the_request(db)


def test_a_write_off_within_the_limit_is_made_at_once(client, db, officer, debt):
    account, invoice = debt
    as_(client, officer)

    response = ask_write_off(client, account, invoice, amount="50")

    assert response.headers["Location"] == f"/backoffice/accounts/{account.reference}"
    [entry] = entries(db, account, EntryKind.WRITE_OFF)
    assert entry.amount_pence == -5_000
    assert entry.reason.startswith("Uneconomical to pursue: ")
    assert balances.invoice_outstanding(invoice.id) == 15_000
    # Recorded as decided within the limit (it counts in the running total), never pending.
    request = the_request(db)
    assert (request.status, request.ledger_entry_id) == (ApprovalStatus.APPROVED, entry.id)
    assert "write_off.made" in audit_actions(db, account)


def test_a_write_off_over_the_limit_waits_for_approval_and_posts_nothing(client, db, officer, debt):
    account, invoice = debt

    request = queue_a_write_off(client, db, officer, debt)

    assert request.status == ApprovalStatus.PENDING
    assert request.amount_pence == 15_000
    assert entries(db, account, EntryKind.WRITE_OFF) == []
    assert balances.invoice_outstanding(invoice.id) == 20_000
    assert "approval.requested" in audit_actions(db, account)
    assert any("sent for approval" in s for s in timeline(db, account))


def test_the_queue_shows_the_request_to_a_team_leader(client, db, officer, leader, debt):
    account, _ = debt
    request = queue_a_write_off(client, db, officer, debt)
    as_(client, leader)

    page = parse(client.get(QUEUE))

    body = text(page.select_one("main"))
    assert "Write-off of £150.00" in body
    assert "Olive Officer" in body
    assert "Uneconomical to pursue" in body
    assert "0 days" in body
    assert page.select_one(f"form[action='{QUEUE}/{request.id}/decide']")


def test_a_team_leader_approves_and_the_write_off_is_posted(client, db, officer, leader, debt):
    account, invoice = debt
    request = queue_a_write_off(client, db, officer, debt)
    as_(client, leader)

    response = decide(client, request.id, "approve")

    assert response.headers["Location"] == QUEUE
    request = the_request(db)
    assert request.status == ApprovalStatus.APPROVED
    assert request.decided_by_staff_id == leader.id
    [entry] = entries(db, account, EntryKind.WRITE_OFF)
    assert entry.amount_pence == -15_000
    assert entry.created_by_staff_id == leader.id
    assert balances.invoice_outstanding(invoice.id) == 5_000
    assert {"write_off.made", "approval.approved"} <= set(audit_actions(db, account))
    assert any(s.endswith("approved") for s in timeline(db, account))


def test_approving_twice_posts_once(client, db, officer, leader, debt):
    account, _ = debt
    request = queue_a_write_off(client, db, officer, debt)
    as_(client, leader)

    decide(client, request.id, "approve")
    again = decide(client, request.id, "approve")

    assert again.headers["Location"] == QUEUE
    assert len(entries(db, account, EntryKind.WRITE_OFF)) == 1
    assert "already approved" in client.get(QUEUE).get_data(as_text=True)


def test_a_team_leader_cannot_approve_their_own_request(client, db, leader, debt):
    account, invoice = debt
    leader.write_off_limit_pence = 1_000
    db.session.commit()
    request = queue_a_write_off(client, db, leader, debt)

    decide(client, request.id, "approve")

    assert the_request(db).status == ApprovalStatus.PENDING
    assert entries(db, account, EntryKind.WRITE_OFF) == []
    body = client.get(QUEUE).get_data(as_text=True)
    assert "You cannot approve your own request: another team leader must" in body


def test_an_approver_cannot_approve_above_their_own_limit(client, db, officer, debt):
    account, _ = debt
    request = queue_a_write_off(client, db, officer, debt)
    small = make_staff(StaffRole.TEAM_LEADER, write_off_limit_pence=10_000)
    as_(client, small)

    decide(client, request.id, "approve")

    assert the_request(db).status == ApprovalStatus.PENDING
    assert entries(db, account, EntryKind.WRITE_OFF) == []
    assert "needs a team leader with a higher limit" in client.get(QUEUE).get_data(as_text=True)


def test_a_team_leader_rejects_with_a_note(client, db, officer, leader, debt):
    account, _ = debt
    request = queue_a_write_off(client, db, officer, debt)
    as_(client, leader)

    decide(client, request.id, "reject", note="Try an arrangement first")

    request = the_request(db)
    assert request.status == ApprovalStatus.REJECTED
    assert request.decision_note == "Try an arrangement first"
    assert entries(db, account, EntryKind.WRITE_OFF) == []
    assert "approval.rejected" in audit_actions(db, account)
    # Once decided it can no longer be approved.
    decide(client, request.id, "approve")
    assert entries(db, account, EntryKind.WRITE_OFF) == []


def test_rejecting_without_a_note_is_explained(client, db, officer, leader, debt):
    request = queue_a_write_off(client, db, officer, debt)
    as_(client, leader)

    response = decide(client, request.id, "reject", note=" ")

    assert response.status_code == 200
    assert error_summary(parse(response)) == [
        ("Enter why the request is rejected", f"#note-{request.id}")
    ]
    assert the_request(db).status == ApprovalStatus.PENDING


def test_the_requester_withdraws_their_request(client, db, officer, leader, debt):
    account, _ = debt
    request = queue_a_write_off(client, db, officer, debt)
    page = parse(client.get("/backoffice/approvals/mine"))
    assert page.select_one(f"form[action='{QUEUE}/{request.id}/withdraw']")

    client.post(
        f"{QUEUE}/{request.id}/withdraw",
        data={"csrf_token": csrf_token(client, "/backoffice/approvals/mine")},
    )

    assert the_request(db).status == ApprovalStatus.WITHDRAWN
    as_(client, leader)
    decide(client, request.id, "approve")
    assert entries(db, account, EntryKind.WRITE_OFF) == []


def test_someone_else_cannot_withdraw_a_request(client, db, officer, debt):
    request = queue_a_write_off(client, db, officer, debt)
    as_(client, make_staff(StaffRole.OFFICER))

    client.post(
        f"{QUEUE}/{request.id}/withdraw",
        data={"csrf_token": csrf_token(client, "/backoffice/approvals/mine")},
    )

    assert the_request(db).status == ApprovalStatus.PENDING


def test_an_officer_cannot_see_the_queue(client, db, officer):
    as_(client, officer)

    assert client.get(QUEUE).status_code == 403


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "250"}, "Invoice INV00000301 has only £200.00 outstanding to write off"),
        ({"amount": "0"}, "Amount to write off must be more than £0"),
        ({"amount": "lots"}, None),
        ({"amount": ""}, "Enter the amount to write off"),
        ({"reason": ""}, "Enter why the debt is being written off"),
        ({"reason_code": ""}, "Select why the debt is being written off"),
        ({"reason_code": "bored"}, "Select why the debt is being written off"),
    ],
)
def test_bad_write_off_input_is_explained_and_nothing_happens(
    client, db, officer, debt, fields, message
):
    account, invoice = debt
    as_(client, officer)

    response = ask_write_off(client, account, invoice, **fields)

    assert response.status_code == 200
    messages = [m for m, _ in error_summary(parse(response))]
    assert messages
    if message:
        assert message in messages
    assert entries(db, account, EntryKind.WRITE_OFF) == []
    assert db.session.scalars(sa.select(ApprovalRequest)).all() == []


def test_a_refund_within_the_limit_still_waits_for_a_team_leader(
    client, db, officer, leader, overpaid
):
    account, payment = overpaid
    as_(client, officer)
    page = parse(client.get(f"/backoffice/accounts/{account.reference}/refunds/new"))
    assert page.select_one(f"input[name=source][value='{payment.id}']")

    response = ask_refund(client, account, payment, amount="15")

    assert response.headers["Location"] == f"/backoffice/accounts/{account.reference}"
    assert entries(db, account, EntryKind.REFUND) == []
    assert the_request(db).status == ApprovalStatus.PENDING
    assert "every refund needs a second person" in client.get(
        f"/backoffice/accounts/{account.reference}"
    ).get_data(as_text=True)

    as_(client, leader)
    decide(client, the_request(db).id, "approve")

    [refund] = entries(db, account, EntryKind.REFUND)
    assert refund.amount_pence == 1_500
    assert refund.source_entry_id == payment.id
    assert "BACS" in refund.reason
    assert "refund.made" in audit_actions(db, account)


def test_a_refund_to_a_card_through_the_form_writes_the_ledger_refund_and_its_outbox_row(
    client, db, officer, leader
):
    account = make_account()
    payment = ledger.record_payment(
        account_id=account.id,
        amount_pence=5_000,
        method=PaymentMethod.CARD,
        actor=SYSTEM,
        external_reference="pi_card_paid_twice",
    ).entry
    as_(client, officer)

    response = ask_refund(client, account, payment, amount="15", route="card")
    assert response.status_code == 302
    as_(client, leader)
    decide(client, the_request(db).id, "approve")

    [refund] = entries(db, account, EntryKind.REFUND)
    [row] = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.channel == OutboxChannel.REFUND)
    ).all()
    assert (row.recipient, row.status) == ("pi_card_paid_twice", OutboxStatus.PENDING)
    assert row.payload == {
        "refund_entry_id": refund.id,
        "source_entry_id": payment.id,
        "amount_pence": 1_500,
    }


def test_a_refund_over_the_limit_is_approved_by_a_team_leader(
    client, db, officer, leader, overpaid
):
    account, payment = overpaid
    as_(client, officer)
    ask_refund(client, account, payment, amount="80", route="cheque")
    request = the_request(db)
    assert entries(db, account, EntryKind.REFUND) == []

    as_(client, leader)
    decide(client, request.id, "approve")

    [refund] = entries(db, account, EntryKind.REFUND)
    assert refund.amount_pence == 8_000
    assert the_request(db).status == ApprovalStatus.APPROVED


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "101"}, "Only £100.00 of that credit is unallocated and refundable"),
        ({"amount": "0"}, "Amount to refund must be more than £0"),
        ({"amount": "ten"}, None),
        ({"reason": ""}, "Enter why the refund is needed"),
        ({"route": ""}, "Select how the money goes back"),
        ({"source": "999999"}, "Select the payment or credit to refund"),
        (
            {"route": "card"},
            "Only an online card payment can go back to a card: "
            "refund this one by BACS credit or cheque",
        ),
    ],
)
def test_bad_refund_input_is_explained_and_nothing_happens(
    client, db, officer, overpaid, fields, message
):
    account, payment = overpaid
    as_(client, officer)

    response = ask_refund(client, account, payment, **fields)

    assert response.status_code == 200
    messages = [m for m, _ in error_summary(parse(response))]
    assert messages
    if message:
        assert message in messages
    assert entries(db, account, EntryKind.REFUND) == []
    assert db.session.scalars(sa.select(ApprovalRequest)).all() == []
