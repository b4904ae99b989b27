"""Money cannot be faked or moved by one person (issue 11, item 3): the three ways an
officer did it alone, and the rules that now stop each.

- credit notes go through delegated limits and a team leader's approval, like write-offs;
- a limit caps the officer's running total on an account over a period, not one request;
- every refund needs a second person, never the requester nor anyone who created the credit;
- a hand-recorded payment that creates credit is unverified until another officer (or
  a bank statement line) confirms it, and unverified credit cannot be refunded.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.models import (
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    AuditLog,
    ContactEvent,
    EntryKind,
    LedgerEntry,
    PaymentMethod,
    PaymentVerification,
    StaffRole,
    VerificationStatus,
    VerifiedVia,
)
from shared.models.base import utcnow
from shared.services import actors, approvals, balances, ledger, payment_checks
from shared.services.actors import SYSTEM
from shared.services.errors import Forbidden
from shared.services.ledger import UnverifiedCredit
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, parse, text

pytestmark = frozen_clock
QUEUE = "/backoffice/approvals"
UNVERIFIED = "/backoffice/payments/unverified"
MILLION = 100_000_000


@pytest.fixture
def officer(db):
    # A write-off (and credit-note) limit of £100, and a refund limit so high it
    # would never have stopped anything.
    return make_staff(
        StaffRole.OFFICER,
        full_name="Olive Officer",
        write_off_limit_pence=10_000,
        refund_limit_pence=MILLION,
    )


@pytest.fixture
def leader(db):
    return make_staff(
        StaffRole.TEAM_LEADER,
        full_name="Tess Leader",
        write_off_limit_pence=MILLION,
        refund_limit_pence=MILLION,
    )


@pytest.fixture
def other_leader(db):
    return make_staff(
        StaffRole.TEAM_LEADER,
        full_name="Uma Leader",
        write_off_limit_pence=MILLION,
        refund_limit_pence=MILLION,
    )


def an_invoice(account, pence: int, number: str):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number=number,
        issue_date=TODAY - timedelta(days=90),
        due_date=TODAY - timedelta(days=60),
        description="Care contribution",
        lines=[ledger.LineInput("Care", 1, pence)],
        actor=SYSTEM,
    )


def post_form(client, path: str, **fields):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **fields})


def entries(db, account, kind: EntryKind) -> list[LedgerEntry]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(LedgerEntry).where(LedgerEntry.account_id == account.id, LedgerEntry.kind == kind)
    ).all()


def requests(db, status: ApprovalStatus | None = None) -> list[ApprovalRequest]:
    db.session.expire_all()
    query = sa.select(ApprovalRequest).order_by(ApprovalRequest.id)
    if status is not None:
        query = query.where(ApprovalRequest.status == status)
    return db.session.scalars(query).all()


def approve(client, request_id: int):
    return client.post(
        f"{QUEUE}/{request_id}/decide",
        data={"csrf_token": csrf_token(client, QUEUE), "decision": "approve"},
    )


def ask_refund(client, account, entry_id: int, amount: str, route: str = "bacs"):
    return post_form(
        client,
        f"/backoffice/accounts/{account.reference}/refunds/new",
        source=str(entry_id),
        route=route,
        amount=amount,
        reason="Asked for their money back",
    )


def verify(client, entry_id: int):
    return client.post(
        f"{UNVERIFIED}/verify",
        data={"csrf_token": csrf_token(client, UNVERIFIED), "entry_id": str(entry_id)},
    )


def flashed(client) -> str:
    return text(parse(client.get("/backoffice/")).select_one("main"))


# --- 1. credit notes go through delegated limits and approval ----------------------


def test_a_13000_pound_credit_note_waits_for_a_team_leader_and_no_maker_approves_its_refund(
    client, db, officer, leader, other_leader
):
    account = make_account()
    invoice = an_invoice(account, 1_300_000, "INV00013000")
    ledger.record_payment(
        account_id=account.id,
        amount_pence=1_300_000,
        method=PaymentMethod.CARD,
        actor=SYSTEM,
        external_reference="pi_paid_in_full",
    )
    signed_in_session(client, officer)

    response = post_form(
        client,
        f"/backoffice/accounts/{account.reference}/invoices/{invoice.number}/credit-note",
        scope="whole",
        reason="Charged in error",
    )

    assert response.status_code == 302
    assert entries(db, account, EntryKind.CREDIT_NOTE) == []
    [waiting] = requests(db)
    assert (waiting.kind, waiting.status) == (ApprovalKind.CREDIT_NOTE, ApprovalStatus.PENDING)
    assert balances.unallocated_credit(account.id) == 0
    # Nothing to refund until a team leader has approved the credit note.
    refund_page = client.get(f"/backoffice/accounts/{account.reference}/refunds/new")
    assert "There is no unallocated credit on this account to refund" in refund_page.get_data(
        as_text=True
    )

    signed_in_session(client, leader)
    assert "Credit note of £13,000.00" in text(parse(client.get(QUEUE)).select_one("main"))
    approve(client, waiting.id)
    [note] = entries(db, account, EntryKind.CREDIT_NOTE)
    assert (note.amount_pence, note.created_by_staff_id) == (-1_300_000, leader.id)
    assert requests(db)[0].ledger_entry_id == note.id
    assert balances.unallocated_credit(account.id) == 1_300_000
    # £13,000 invoiced, £13,000 paid, £13,000 credited: the council owes £13,000.
    assert balances.account_balance(account.id) == -1_300_000

    # The officer who asked for the credit note asks for its refund: queued, and the
    # team leader who approved the credit note may not approve paying it out.
    signed_in_session(client, officer)
    ask_refund(client, account, note.id, "13000")
    [refund_request] = requests(db, ApprovalStatus.PENDING)
    signed_in_session(client, leader)
    approve(client, refund_request.id)
    assert entries(db, account, EntryKind.REFUND) == []
    assert "You cannot approve a refund of credit you created" in flashed(client)

    signed_in_session(client, other_leader)
    approve(client, refund_request.id)
    [refund] = entries(db, account, EntryKind.REFUND)
    assert (refund.amount_pence, refund.created_by_staff_id) == (1_300_000, other_leader.id)


def test_a_credit_note_within_the_limit_is_raised_at_once_and_recorded_against_it(db, officer):
    account = make_account()
    invoice = an_invoice(account, 50_000, "INV00013001")

    outcome = approvals.request_credit_note(
        invoice_id=invoice.id,
        amount_pence=6_000,
        reason="Two visits missed",
        actor=actors.staff(officer.id),
    )

    assert outcome.posted
    assert balances.invoice_outstanding(invoice.id) == 44_000
    [record] = requests(db)
    assert (record.kind, record.status, record.ledger_entry_id) == (
        ApprovalKind.CREDIT_NOTE,
        ApprovalStatus.APPROVED,
        outcome.entry.id,
    )


# --- 2. a limit caps the running total per officer per account over a period -------


def test_five_100_pound_write_offs_on_one_invoice_need_approval_like_one_of_500(
    client, db, officer
):
    account = make_account()
    invoice = an_invoice(account, 100_000, "INV00013002")
    signed_in_session(client, officer)
    path = f"/backoffice/accounts/{account.reference}/invoices/{invoice.number}/write-off"

    for _ in range(5):
        post_form(client, path, reason_code="uneconomical", amount="100", reason="Small debt")

    [made] = entries(db, account, EntryKind.WRITE_OFF)
    assert made.amount_pence == -10_000
    waiting = requests(db, ApprovalStatus.PENDING)
    assert [r.amount_pence for r in waiting] == [10_000] * 4
    assert [r.payload["running_total_pence"] for r in waiting] == [20_000, 30_000, 40_000, 50_000]
    assert balances.invoice_outstanding(invoice.id) == 90_000
    assert "takes your total of these on this account to £500.00, above your limit" in flashed(
        client
    )


def test_the_running_total_is_per_account_and_a_rejected_request_does_not_count(
    db, officer, leader
):
    first, second = make_account(), make_account()
    on_first = an_invoice(first, 50_000, "INV00013003")
    on_second = an_invoice(second, 50_000, "INV00013004")
    me = actors.staff(officer.id)

    def write_off(invoice, pence):
        return approvals.request_write_off(
            invoice_id=invoice.id,
            amount_pence=pence,
            reason_code="other",
            reason="Agreed",
            actor=me,
        )

    assert write_off(on_first, 10_000).posted
    assert write_off(on_second, 10_000).posted  # another account: its own total
    queued = write_off(on_first, 5_000)
    assert not queued.posted
    approvals.reject(request_id=queued.request.id, note="No", actor=actors.staff(leader.id))
    assert not write_off(on_first, 1).posted  # £100 already made there
    # Nothing further is allowed on the first account, but a rejection freed nothing up.
    assert len(requests(db, ApprovalStatus.PENDING)) == 1


def test_write_offs_before_the_configured_period_no_longer_count(app, db, officer):
    account = make_account()
    invoice = an_invoice(account, 50_000, "INV00013005")
    me = actors.staff(officer.id)

    def write_off():
        return approvals.request_write_off(
            invoice_id=invoice.id,
            amount_pence=10_000,
            reason_code="other",
            reason="Agreed",
            actor=me,
        )

    assert write_off().posted
    # Made 13 months ago: outside the default 12-month period.
    db.session.execute(
        sa.update(ApprovalRequest).values(requested_at=utcnow() - timedelta(days=400))
    )
    db.session.commit()
    assert write_off().posted

    app.config["APPROVAL_LIMIT_PERIOD_MONTHS"] = 24
    assert not write_off().posted


# --- 3. a refund always needs a second person, never one who created the credit -----


def test_a_refund_is_never_made_at_once_whatever_the_requesters_limit(db, officer):
    account = make_account()
    payment = ledger.record_payment(
        account_id=account.id,
        amount_pence=1_000,
        method=PaymentMethod.CARD,
        actor=SYSTEM,
        external_reference="pi_overpaid",
    ).entry

    outcome = approvals.request_refund(
        source_entry_id=payment.id,
        amount_pence=1,
        route="bacs",
        reason="Overpaid",
        actor=actors.staff(officer.id),
    )

    assert not outcome.posted
    assert outcome.request.status == ApprovalStatus.PENDING
    assert entries(db, account, EntryKind.REFUND) == []


def test_the_team_leader_who_recorded_a_payment_cannot_approve_refunding_its_credit(
    db, officer, leader, other_leader
):
    account = make_account()
    recorded = payment_checks.record_manual_payment(
        account_id=account.id,
        amount_pence=5_000,
        method=PaymentMethod.CHEQUE,
        actor=actors.staff(leader.id),
        external_reference="cheque:400100",
    )
    assert recorded.unverified
    payment_checks.verify_payment(entry_id=recorded.entry.id, actor=actors.staff(officer.id))
    queued = approvals.request_refund(
        source_entry_id=recorded.entry.id,
        amount_pence=5_000,
        route="cheque",
        reason="Paid the wrong council",
        actor=actors.staff(officer.id),
    )

    with pytest.raises(Forbidden, match="refund of credit you created"):
        approvals.approve(request_id=queued.request.id, actor=actors.staff(leader.id))
    assert entries(db, account, EntryKind.REFUND) == []

    approvals.approve(request_id=queued.request.id, actor=actors.staff(other_leader.id))
    assert len(entries(db, account, EntryKind.REFUND)) == 1


def test_whoever_asked_for_a_credit_note_cannot_approve_refunding_its_credit(db, officer, leader):
    account = make_account()
    invoice = an_invoice(account, 10_000, "INV00013006")
    ledger.record_payment(
        account_id=account.id,
        amount_pence=10_000,
        method=PaymentMethod.CARD,
        actor=SYSTEM,
        external_reference="pi_paid",
    )
    note = approvals.request_credit_note(
        invoice_id=invoice.id,
        amount_pence=5_000,
        reason="Overcharged",
        actor=actors.staff(leader.id),
    ).entry  # within the team leader's own limit, so raised at once
    queued = approvals.request_refund(
        source_entry_id=note.id,
        amount_pence=5_000,
        route="bacs",
        reason="Overcharge returned",
        actor=actors.staff(officer.id),
    )

    with pytest.raises(Forbidden, match="refund of credit you created"):
        approvals.approve(request_id=queued.request.id, actor=actors.staff(leader.id))
    assert approvals.credit_creators(note.id) == {leader.id}


# --- 4. hand-recorded payments that create credit are verified by someone else ------


def test_an_invented_bank_transfer_cannot_be_refunded_until_another_officer_verifies_it(
    client, db, officer, leader
):
    account = make_account()  # owes nothing
    colleague = make_staff(StaffRole.OFFICER, full_name="Pat Colleague")
    signed_in_session(client, officer)
    path = f"/backoffice/accounts/{account.reference}/payments/new"
    key = parse(client.get(path)).select_one("input[name=submission_key]")["value"]

    post_form(
        client,
        path,
        submission_key=key,
        method="bank_transfer",
        amount="500",
        reference="BGC INVENTED",
        allocation="oldest",
    )

    [payment] = entries(db, account, EntryKind.PAYMENT)
    check = db.session.scalar(sa.select(PaymentVerification))
    assert (check.ledger_entry_id, check.status) == (payment.id, VerificationStatus.UNVERIFIED)
    assert "another officer must verify it" in flashed(client)

    # The refund form and the service both refuse, saying why.
    response = ask_refund(client, account, payment.id, "500")
    assert response.status_code == 200
    [(message, anchor)] = error_summary(parse(response))
    assert anchor == "#source"
    assert message.startswith("The bank transfer payment of £500.00 received on")
    assert "has not been verified yet: another officer must confirm it" in message
    with pytest.raises(UnverifiedCredit):
        approvals.request_refund(
            source_entry_id=payment.id,
            amount_pence=50_000,
            route="bacs",
            reason="x",
            actor=actors.staff(officer.id),
        )
    with pytest.raises(UnverifiedCredit):
        ledger.transfer_credit(
            source_entry_id=payment.id,
            to_account_id=make_account().id,
            amount_pence=50_000,
            reason="Paid on the wrong account",
            actor=actors.staff(officer.id),
        )
    assert requests(db) == []
    assert entries(db, account, EntryKind.REFUND) == []

    # Not by the officer who recorded it.
    page = text(parse(client.get(UNVERIFIED)).select_one("main"))
    assert "You recorded it: another officer must verify it" in page
    verify(client, payment.id)
    assert "You recorded this payment, so another officer must verify it" in flashed(client)
    db.session.expire_all()
    assert db.session.get(PaymentVerification, check.id).status == VerificationStatus.UNVERIFIED

    # A colleague checks the bank statement and verifies it, once.
    signed_in_session(client, colleague)
    assert "£500.00" in text(parse(client.get(UNVERIFIED)).select_one("main"))
    verify(client, payment.id)
    verify(client, payment.id)
    db.session.expire_all()
    check = db.session.get(PaymentVerification, check.id)
    assert (check.status, check.verified_via, check.verified_by_staff_id) == (
        VerificationStatus.VERIFIED,
        VerifiedVia.OFFICER,
        colleague.id,
    )
    audits = db.session.scalars(
        sa.select(AuditLog.action).where(AuditLog.account_id == account.id)
    ).all()
    assert audits.count("payment.verified") == 1
    assert "payment.held_unverified" in audits
    summaries = db.session.scalars(
        sa.select(ContactEvent.summary).where(ContactEvent.account_id == account.id)
    ).all()
    assert "Payment of £500.00 by bank transfer verified by a second officer" in summaries
    assert "No payments are waiting for verification" in flashed_page(client, UNVERIFIED)

    # Now it can be asked for, and still needs a team leader.
    signed_in_session(client, officer)
    ask_refund(client, account, payment.id, "500")
    [waiting] = requests(db, ApprovalStatus.PENDING)
    assert waiting.kind == ApprovalKind.REFUND
    assert entries(db, account, EntryKind.REFUND) == []


def flashed_page(client, path: str) -> str:
    return text(parse(client.get(path)).select_one("main"))


def test_a_payment_that_only_pays_invoices_is_not_held_for_verification(db, officer):
    account = make_account()
    an_invoice(account, 20_000, "INV00013007")

    recorded = payment_checks.record_manual_payment(
        account_id=account.id,
        amount_pence=20_000,
        method=PaymentMethod.CASH,
        actor=actors.staff(officer.id),
    )

    assert not recorded.unverified
    assert db.session.scalars(sa.select(PaymentVerification)).all() == []


def test_a_bank_statement_line_verifies_a_held_payment_once(db, officer):
    account = make_account()
    recorded = payment_checks.record_manual_payment(
        account_id=account.id,
        amount_pence=7_500,
        method=PaymentMethod.BANK_TRANSFER,
        actor=actors.staff(officer.id),
        external_reference="bank_transfer:BGC 991",
    )

    first = payment_checks.verify_from_bank_statement(
        entry_id=recorded.entry.id, statement_reference="STMT 2026-03-02 L14", actor=SYSTEM
    )
    again = payment_checks.verify_from_bank_statement(
        entry_id=recorded.entry.id, statement_reference="STMT 2026-03-02 L14", actor=SYSTEM
    )

    assert (first, again) == (True, False)
    check = db.session.scalar(sa.select(PaymentVerification))
    assert (check.status, check.verified_via, check.statement_reference) == (
        VerificationStatus.VERIFIED,
        VerifiedVia.BANK_STATEMENT,
        "STMT 2026-03-02 L14",
    )
    assert not ledger.is_unverified(recorded.entry.id)
