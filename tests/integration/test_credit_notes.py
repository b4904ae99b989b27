"""Credit-note documents: a credit note names the invoice lines it credits with their
VAT, is numbered, is posted with its ledger entry in one transaction, and is sent to
the debtor with its PDF; one waiting for approval carries the lines chosen."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from shared import documents
from shared.domain.vat import VatRate
from shared.extensions import db
from shared.models import (
    ApprovalStatus,
    Channel,
    ContactEvent,
    CreditNote,
    EntryKind,
    LedgerEntry,
    OutboxMessage,
    PaymentMethod,
    StaffRole,
)
from shared.services import actors, approvals, balances, credit_notes, ledger
from shared.services.actors import SYSTEM
from shared.services.errors import InvalidRequest
from tests.append_only import assert_refuses_change_and_removal
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import frozen_clock

pytestmark = frozen_clock


@pytest.fixture
def world(app):
    account = make_account(
        email="debtor@example.com", preferred_channel=Channel.EMAIL, consent_email=True
    )
    invoice = ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number="INV-CN1",
        issue_date=date(2026, 5, 1),
        due_date=date(2026, 5, 31),
        description="Trade waste",
        lines=[
            # £100.00 + £20.00 VAT, and £30.00 with none: £150.00 in all.
            ledger.LineInput("Bin lifts", 2, 5_000, VatRate.STANDARD),
            ledger.LineInput("Duty of care note", 1, 3_000, VatRate.OUTSIDE_SCOPE),
        ],
        actor=SYSTEM,
    )
    officer = make_staff(StaffRole.OFFICER, write_off_limit_pence=100_000)
    leader = make_staff(StaffRole.TEAM_LEADER, write_off_limit_pence=1_000_000)
    lifts, note_line = invoice.lines
    return account, invoice, lifts, note_line, officer, leader


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def the_notes() -> list[CreditNote]:
    db.session.expire_all()
    return db.session.scalars(sa.select(CreditNote).order_by(CreditNote.id)).all()


def test_a_credit_note_of_chosen_lines_posts_once_with_its_document_and_goes_to_the_debtor(
    world,
):
    account, invoice, lifts, _, officer, _ = world

    outcome = approvals.request_credit_note(
        invoice_id=invoice.id,
        lines={lifts.id: 5_000},
        reason="One lift missed",
        actor=actors.staff(officer.id),
    )

    assert outcome.posted
    assert outcome.entry.amount_pence == -6_000  # £50.00 and its £10.00 VAT
    [note] = the_notes()
    assert re.fullmatch(r"CN\d{8}", note.number)
    assert (note.ledger_entry_id, note.invoice_id, note.account_id) == (
        outcome.entry.id,
        invoice.id,
        account.id,
    )
    assert (note.net_pence, note.vat_pence, note.total_pence) == (5_000, 1_000, 6_000)
    assert [(li.invoice_line_id, li.net_pence, li.vat_pence) for li in note.lines] == [
        (lifts.id, 5_000, 1_000)
    ]
    assert note.invoice_outstanding_pence == balances.invoice_outstanding(invoice.id) == 9_000
    assert note.reason == "One lift missed"
    # Once in the ledger, named on the timeline by its number.
    assert (
        len(
            db.session.scalars(
                sa.select(LedgerEntry).where(LedgerEntry.kind == EntryKind.CREDIT_NOTE)
            ).all()
        )
        == 1
    )
    summaries = db.session.scalars(sa.select(ContactEvent.summary)).all()
    assert f"Credit note {note.number} of £60.00 against invoice INV-CN1" in summaries
    # Sent by email with its PDF named, not rendered, in the row.
    [sent] = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.template == "credit_note")
    ).all()
    assert (sent.recipient, sent.subject) == (
        "debtor@example.com",
        f"Credit note {note.number} for invoice INV-CN1",
    )
    assert sent.payload == {"attachment": {"document": "credit_note", "id": note.id}}
    attachment = documents.render_attachment(sent.payload["attachment"])
    assert attachment.filename == f"credit-note-{note.number}.pdf"
    assert attachment.content_type == "application/pdf"
    content = pdf_text(attachment.content)
    assert f"Credit note {note.number}" in content
    assert "Credits invoice INV-CN1" in content
    assert "1. Bin lifts £50.00 20% £10.00 £60.00" in content
    assert "Total credited £60.00" in content
    assert "One lift missed" in content
    assert "Left to pay on invoice INV-CN1: £90.00" in content
    assert "GB999999973" in content


def test_the_whole_invoice_credits_what_is_left_of_every_line(world):
    _, invoice, lifts, note_line, officer, _ = world
    approvals.request_credit_note(
        invoice_id=invoice.id,
        lines={lifts.id: 2_500},
        reason="First",
        actor=actors.staff(officer.id),
    )

    approvals.request_credit_note(
        invoice_id=invoice.id,
        whole_invoice=True,
        reason="Cancelled",
        actor=actors.staff(officer.id),
    )

    first, rest = the_notes()
    assert [(li.invoice_line_id, li.net_pence, li.vat_pence) for li in rest.lines] == [
        (lifts.id, 7_500, 1_500),
        (note_line.id, 3_000, 0),
    ]
    assert first.vat_pence + rest.vat_pence == 2_000  # exactly the VAT charged
    assert balances.invoice_outstanding(invoice.id) == 0


def test_a_line_cannot_be_credited_beyond_what_earlier_notes_left_and_nothing_is_posted(world):
    _, invoice, lifts, _, officer, _ = world
    approvals.request_credit_note(
        invoice_id=invoice.id, lines={lifts.id: 8_000}, reason="x", actor=actors.staff(officer.id)
    )

    with pytest.raises(credit_notes.CreditNoteRefused, match="£20.00 .before VAT. left") as refused:
        approvals.request_credit_note(
            invoice_id=invoice.id,
            lines={lifts.id: 2_001},
            reason="y",
            actor=actors.staff(officer.id),
        )

    assert refused.value.line_id == lifts.id
    assert len(the_notes()) == 1


def test_a_credit_note_above_the_limit_waits_and_the_approved_note_has_the_lines_chosen(world):
    _, invoice, lifts, note_line, _, leader = world
    officer = make_staff(StaffRole.OFFICER, write_off_limit_pence=0)

    outcome = approvals.request_credit_note(
        invoice_id=invoice.id,
        lines={lifts.id: 10_000, note_line.id: 1_000},
        reason="Service not delivered",
        actor=actors.staff(officer.id),
    )

    assert not outcome.posted and the_notes() == []
    assert outcome.request.amount_pence == 13_000
    assert outcome.request.payload["lines"] == [[lifts.id, 10_000, 2_000], [note_line.id, 1_000, 0]]

    decision = approvals.approve(request_id=outcome.request.id, actor=actors.staff(leader.id))

    assert decision.request.status == ApprovalStatus.APPROVED
    [note] = the_notes()
    assert note.created_by_staff_id == leader.id
    assert note.ledger_entry_id == decision.request.ledger_entry_id
    assert [(li.invoice_line_id, li.net_pence, li.vat_pence) for li in note.lines] == [
        (lifts.id, 10_000, 2_000),
        (note_line.id, 1_000, 0),
    ]


def test_approval_is_refused_when_the_lines_were_credited_in_the_meantime(world):
    _, invoice, lifts, _, officer, leader = world
    slow = make_staff(StaffRole.OFFICER, write_off_limit_pence=0)
    waiting = approvals.request_credit_note(
        invoice_id=invoice.id, lines={lifts.id: 10_000}, reason="All", actor=actors.staff(slow.id)
    ).request
    approvals.request_credit_note(
        invoice_id=invoice.id,
        lines={lifts.id: 1_000},
        reason="Some",
        actor=actors.staff(officer.id),
    )

    with pytest.raises(InvalidRequest, match="£90.00 .before VAT. left"):
        approvals.approve(request_id=waiting.id, actor=actors.staff(leader.id))

    assert len(the_notes()) == 1
    db.session.expire_all()
    assert db.session.get(type(waiting), waiting.id).status == ApprovalStatus.PENDING


def test_a_credit_note_asked_for_as_one_sum_is_spread_over_the_lines(world):
    _, invoice, lifts, note_line, officer, _ = world

    approvals.request_credit_note(
        invoice_id=invoice.id, amount_pence=7_500, reason="Half", actor=actors.staff(officer.id)
    )

    [note] = the_notes()
    # Half of each line's £120.00 and £30.00: £60.00 (£50.00 + £10.00 VAT) and £15.00.
    assert [(li.invoice_line_id, li.net_pence, li.vat_pence) for li in note.lines] == [
        (lifts.id, 5_000, 1_000),
        (note_line.id, 1_500, 0),
    ]


def test_reversing_a_credit_note_frees_its_lines_to_be_credited_again(world):
    _, invoice, lifts, _, officer, _ = world
    entry = approvals.request_credit_note(
        invoice_id=invoice.id, lines={lifts.id: 10_000}, reason="x", actor=actors.staff(officer.id)
    ).entry

    ledger.reverse(entry_id=entry.id, reason="Given in error", actor=SYSTEM)

    left = {
        line.line_id: (line.net_left, line.vat_left) for line in credit_notes.lines_left(invoice.id)
    }
    assert left[lifts.id] == (10_000, 2_000)


def test_a_note_on_a_paid_invoice_says_how_much_became_credit_on_the_account(world):
    account, invoice, lifts, _, officer, _ = world
    ledger.record_payment(
        account_id=account.id,
        amount_pence=15_000,
        method=PaymentMethod.CHEQUE,
        actor=SYSTEM,
        external_reference="CHQ1",
    )
    approvals.request_credit_note(
        invoice_id=invoice.id, lines={lifts.id: 5_000}, reason="x", actor=actors.staff(officer.id)
    )

    [note] = the_notes()
    view = credit_notes.credit_note(note.id)
    assert (view.invoice_outstanding_pence, view.to_account_pence) == (0, 6_000)
    content = pdf_text(credit_notes.credit_note_pdf(note.id))
    assert "Nothing is left to pay on invoice INV-CN1" in content
    assert "£60.00 of this credit note is credit on your account" in content


@pytest.mark.parametrize(
    "table, assignment",
    [("credit_notes", "reason = 'edited'"), ("credit_note_lines", "net_pence = 1")],
)
def test_the_database_refuses_to_change_or_remove_a_credit_note(world, app, table, assignment):
    _, invoice, lifts, _, officer, _ = world
    approvals.request_credit_note(
        invoice_id=invoice.id, lines={lifts.id: 1_000}, reason="x", actor=actors.staff(officer.id)
    )

    assert_refuses_change_and_removal(app, table, assignment)
