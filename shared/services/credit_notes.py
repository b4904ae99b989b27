"""Credit-note documents: which invoice lines a credit note takes off, with their VAT,
the numbered note itself, and sending it to the debtor.

The approval workflow (shared/services/approvals.py) decides who may credit how much;
it calls `plan` to work out the lines and `post` to post the ledger entry and write
the document in its transaction. The document is created in the same transaction as
the ledger entry, with the outbox row that emails it (or posts it) to the debtor,
the PDF attached: the outbox worker renders it when it sends (shared/documents.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app

from shared import clock, documents, pdf
from shared.domain import credit_notes as rules
from shared.domain.credit_notes import LineCredit, LineLeft
from shared.domain.names import display_name
from shared.domain.vat import rate_words
from shared.extensions import db
from shared.models import (
    Allocation,
    CreditNote,
    CreditNoteLine,
    DebtorAccount,
    Invoice,
    InvoiceLine,
    LedgerEntry,
)
from shared.money import format_gbp
from shared.services import account_view, balances, ledger
from shared.services.actors import Actor
from shared.services.errors import InvalidRequest, NotFound
from shared.services.notifications import Message, notify_debtor
from shared.services.numbering import next_number

DOCUMENT = "credit_note"


class CreditNoteRefused(InvalidRequest):
    """The lines or amounts chosen will not do; `line_id` names the line at fault."""

    def __init__(self, message: str, line_id: int | None = None):
        super().__init__(message)
        self.line_id = line_id


# --- what is left to credit --------------------------------------------------------------


def _reversed(entry_id_column):
    reversal = sa.orm.aliased(LedgerEntry)
    return sa.exists().where(reversal.reverses_entry_id == entry_id_column)


def lines_left(invoice_id: int) -> list[LineLeft]:
    """Each line of the invoice with what credit notes (not reversed) have taken off it:
    two indexed queries whatever the invoice's history."""
    credited = {
        line_id: (int(net), int(vat))
        for line_id, net, vat in db.session.execute(
            sa.select(
                CreditNoteLine.invoice_line_id,
                sa.func.sum(CreditNoteLine.net_pence),
                sa.func.sum(CreditNoteLine.vat_pence),
            )
            .join(CreditNote, CreditNote.id == CreditNoteLine.credit_note_id)
            .where(CreditNote.invoice_id == invoice_id, ~_reversed(CreditNote.ledger_entry_id))
            .group_by(CreditNoteLine.invoice_line_id)
        )
    }
    lines = db.session.scalars(
        sa.select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice_id)
        .order_by(InvoiceLine.line_no)
    )
    return [
        LineLeft(
            line_id=line.id,
            line_no=line.line_no,
            description=line.description,
            net_pence=line.net_pence,
            vat_pence=line.vat_pence,
            credited_net_pence=credited.get(line.id, (0, 0))[0],
            credited_vat_pence=credited.get(line.id, (0, 0))[1],
        )
        for line in lines
    ]


@dataclass(frozen=True)
class LineChoice:
    """One invoice line on the credit-note form."""

    id: int
    line_no: int
    description: str
    quantity: int
    net_pence: int
    vat_pence: int
    vat_rate: str  # as charged: "20%", "Exempt"
    net_left_pence: int
    vat_left_pence: int


def line_choices(invoice_id: int) -> list[LineChoice]:
    """The invoice's lines with what is left of each to credit, for the form."""
    left = {line.line_id: line for line in lines_left(invoice_id)}
    rows = db.session.scalars(
        sa.select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice_id)
        .order_by(InvoiceLine.line_no)
    )
    return [
        LineChoice(
            id=row.id,
            line_no=row.line_no,
            description=row.description,
            quantity=row.quantity,
            net_pence=row.net_pence,
            vat_pence=row.vat_pence,
            vat_rate=rate_words(row.vat_rate, row.vat_basis_points),
            net_left_pence=left[row.id].net_left,
            vat_left_pence=left[row.id].vat_left,
        )
        for row in rows
    ]


def plan(
    invoice: Invoice,
    *,
    lines: Mapping[int, int] | None = None,
    whole_invoice: bool = False,
    amount_pence: int | None = None,
) -> list[LineCredit]:
    """The credit line by line: everything left on the invoice (`whole_invoice`), the
    net chosen for each line (`lines`: line id -> net pence, VAT follows by the rule in
    shared/domain/credit_notes.py), or one sum spread over the lines (`amount_pence`,
    VAT included). Never more than the invoice may still be credited."""
    left = lines_left(invoice.id)
    creditable = ledger.creditable_pence(invoice)
    try:
        if whole_invoice:
            if sum(line.left_pence for line in left) <= creditable:
                return rules.credit_lines(left, rules.whole_invoice(left), creditable)
            # Part written off, or credited before notes named lines: what may still go.
            return rules.spread(left, creditable)
        if lines is not None:
            return rules.credit_lines(left, lines, creditable)
        if amount_pence is None:
            raise rules.CreditRefused("Choose the lines to credit")
        if amount_pence > creditable:
            raise rules.CreditRefused(
                f"Invoice {invoice.number} can be credited by at most {format_gbp(creditable)}"
            )
        return rules.spread(left, amount_pence)
    except rules.CreditRefused as exc:
        raise CreditNoteRefused(str(exc), exc.line_id) from None


def as_payload(credits: Sequence[LineCredit]) -> list[list[int]]:
    """The credits as an approval request carries them: [line id, net, VAT] each."""
    return [[c.line_id, c.net_pence, c.vat_pence] for c in credits]


def from_payload(invoice: Invoice, saved: Sequence[Sequence[int]], amount_pence: int):
    """The credits a request carried, checked again now (a credit note posted since it
    was asked for may have taken part of a line): refused unless they still add up to
    the amount approved."""
    credits = plan(invoice, lines={int(line_id): int(net) for line_id, net, _ in saved})
    if sum(c.total_pence for c in credits) != amount_pence:
        raise InvalidRequest(
            f"Invoice {invoice.number} has been credited since this was asked for, so these "
            "lines no longer come to the amount asked: reject it and ask again"
        )
    return credits


# --- posting the note ---------------------------------------------------------------------


def post(
    *,
    invoice: Invoice,
    credits: Sequence[LineCredit],
    reason: str,
    actor: Actor,
    audit: dict | None = None,
) -> tuple[LedgerEntry, CreditNote]:
    """Post the credit note to the ledger and write its document and the outbox row that
    sends it, without the commit (the approval workflow commits once)."""
    if not credits:
        raise CreditNoteRefused("Enter an amount to credit on at least one line")
    net = sum(c.net_pence for c in credits)
    vat = sum(c.vat_pence for c in credits)
    number = next_number("credit_note", "CN", CreditNote.number)
    entry = ledger.post_credit_note(
        invoice_id=invoice.id,
        amount_pence=net + vat,
        reason=reason,
        actor=actor,
        number=number,
        audit={
            **(audit or {}),
            "credit_note_number": number,
            "net_pence": net,
            "vat_pence": vat,
            "lines": as_payload(credits),
        },
    )
    note = CreditNote(
        number=number,
        invoice_id=invoice.id,
        account_id=entry.account_id,
        ledger_entry_id=entry.id,
        net_pence=net,
        vat_pence=vat,
        total_pence=net + vat,
        reason=entry.reason or reason,
        invoice_outstanding_pence=balances.invoice_outstanding(invoice.id),
        created_by_staff_id=actor.staff_id,
        lines=[
            CreditNoteLine(invoice_line_id=c.line_id, net_pence=c.net_pence, vat_pence=c.vat_pence)
            for c in credits
        ],
    )
    db.session.add(note)
    db.session.flush()
    _send(note, invoice)
    return entry, note


def _send(note: CreditNote, invoice: Invoice) -> None:
    account = db.session.get(DebtorAccount, note.account_id)
    left = note.invoice_outstanding_pence
    owing = (
        f"You now owe {format_gbp(left)} on that invoice."
        if left > 0
        else "Nothing is left to pay on that invoice."
    )
    body = (
        f"We have issued credit note {note.number} for {format_gbp(note.total_pence)} "
        f"against invoice {invoice.number}. {owing}\n\n"
        "The credit note is attached. It shows the lines credited and the VAT.\n\n"
        f"Reason: {note.reason}\n\n"
        f"If you have a question, call us on {current_app.config['COUNCIL_PHONE']}."
    )
    notify_debtor(
        account,
        Message(
            template=DOCUMENT,
            subject=f"Credit note {note.number} for invoice {invoice.number}",
            body=body,
            # A credit note is a document: sent by email or post, never by text.
            sms=None,
            attachment={"document": DOCUMENT, "id": note.id},
        ),
        dedupe_key=f"credit-note:{note.id}",
    )


# --- reading a note -----------------------------------------------------------------------


@dataclass(frozen=True)
class CreditedLine:
    line_no: int
    description: str
    net_pence: int
    vat_rate: str
    vat_pence: int

    @property
    def total_pence(self) -> int:
        return self.net_pence + self.vat_pence


@dataclass(frozen=True)
class CreditNoteView:
    id: int
    number: str
    date: date
    account_id: int
    account_reference: str
    account_name: str
    address_lines: list[str]
    invoice_number: str
    invoice_date: date
    invoice_total_pence: int
    reason: str
    lines: list[CreditedLine]
    net_pence: int
    vat_pence: int
    total_pence: int
    # Left to pay on the invoice once the note was applied, and the part of the note
    # that became credit on the account (the invoice had been paid).
    invoice_outstanding_pence: int
    to_account_pence: int
    reversed: bool


def credit_note(credit_note_id: int) -> CreditNoteView:
    """One credit note as its document shows it (as it was issued)."""
    found = db.session.execute(
        sa.select(CreditNote, Invoice, DebtorAccount)
        .join(Invoice, Invoice.id == CreditNote.invoice_id)
        .join(DebtorAccount, DebtorAccount.id == CreditNote.account_id)
        .where(CreditNote.id == credit_note_id)
    ).one_or_none()
    if found is None:
        raise NotFound(f"No credit note {credit_note_id}")
    note, invoice, account = found
    rows = db.session.execute(
        sa.select(CreditNoteLine, InvoiceLine)
        .join(InvoiceLine, InvoiceLine.id == CreditNoteLine.invoice_line_id)
        .where(CreditNoteLine.credit_note_id == note.id)
        .order_by(InvoiceLine.line_no)
    ).all()
    # What the note paid off the invoice when it was posted (its first allocation); any
    # more of it was credit on the account.
    applied = (
        db.session.scalar(
            sa.select(Allocation.amount_pence)
            .where(
                Allocation.credit_entry_id == note.ledger_entry_id,
                Allocation.invoice_id == note.invoice_id,
            )
            .order_by(Allocation.id)
            .limit(1)
        )
        or 0
    )
    return CreditNoteView(
        id=note.id,
        number=note.number,
        date=clock.london_day(note.created_at),
        account_id=account.id,
        account_reference=account.reference,
        account_name=display_name(
            account.kind,
            account.title,
            account.forename,
            account.surname,
            account.organisation_name,
        ),
        address_lines=account_view.primary_address_lines(account.id),
        invoice_number=invoice.number,
        invoice_date=invoice.issue_date,
        invoice_total_pence=invoice.total_pence,
        reason=note.reason,
        lines=[
            CreditedLine(
                line_no=line.line_no,
                description=line.description,
                net_pence=credited.net_pence,
                vat_rate=rate_words(line.vat_rate, line.vat_basis_points),
                vat_pence=credited.vat_pence,
            )
            for credited, line in rows
        ],
        net_pence=note.net_pence,
        vat_pence=note.vat_pence,
        total_pence=note.total_pence,
        invoice_outstanding_pence=note.invoice_outstanding_pence,
        to_account_pence=max(note.total_pence - applied, 0),
        reversed=bool(db.session.scalar(sa.select(_reversed(note.ledger_entry_id)))),
    )


@dataclass(frozen=True)
class CreditNoteRow:
    id: int
    number: str
    date: date
    invoice_number: str
    total_pence: int


def credit_notes_of(account_id: int) -> list[CreditNoteRow]:
    """The account's credit notes, newest first."""
    rows = db.session.execute(
        sa.select(
            CreditNote.id,
            CreditNote.number,
            CreditNote.created_at,
            Invoice.number,
            CreditNote.total_pence,
        )
        .join(Invoice, Invoice.id == CreditNote.invoice_id)
        .where(CreditNote.account_id == account_id)
        .order_by(CreditNote.id.desc())
    ).all()
    return [CreditNoteRow(r[0], r[1], clock.london_day(r[2]), r[3], int(r[4])) for r in rows]


def credit_note_pdf(credit_note_id: int) -> bytes:
    return pdf.credit_note_pdf(credit_note(credit_note_id))


def _attachment(credit_note_id: int) -> documents.Attachment:
    view = credit_note(credit_note_id)
    return documents.Attachment(
        filename=f"credit-note-{view.number}.pdf",
        content_type="application/pdf",
        content=pdf.credit_note_pdf(view),
    )


# The outbox worker attaches the PDF when it sends the email (shared/documents.py);
# this module is imported wherever credit notes are raised or sent (the back office
# blueprint, so every process that builds the app).
documents.register(DOCUMENT, _attachment)
