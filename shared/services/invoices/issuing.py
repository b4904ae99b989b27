"""Issuing a draft: the one way a raised invoice reaches the ledger and the debtor.

In one transaction: the draft is locked and moved to issued (a second click, or a
second checker, finds it issued and changes nothing); the invoice takes the next
number (shared/services/numbering.py), is dated today (its tax point, so VAT is
charged at the rates in force today) and due after the department's payment terms
unless the raiser chose a date; it is posted to the ledger (ledger.post_invoice);
and the debtor's copy is written to the outbox: an email carrying the invoice PDF to
a debtor who chose email (or agreed to it), otherwise a letter for the print run.
An invoice is never sent by text message.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from shared import clock
from shared.domain.invoice_checks import (
    CheckRefused,
    DraftStatus,
    Raiser,
    check_move,
    why_unchecked_issue_refused,
)
from shared.extensions import db
from shared.models import (
    DebtorAccount,
    IncomeCode,
    Invoice,
    InvoiceDraft,
    OutboxChannel,
    ServiceDepartment,
)
from shared.money import format_gbp
from shared.services import ledger
from shared.services.actors import Actor
from shared.services.errors import Conflict, Forbidden, InvalidRequest
from shared.services.history import record_audit, record_timeline
from shared.services.invoices import drafts
from shared.services.invoices.drafts import AUDIT_OBJECT
from shared.services.notifications import Message, notify_debtor
from shared.services.numbering import next_invoice_number
from shared.services.unit_of_work import use_case

TEMPLATE = "invoice_issued"


def dedupe_key(invoice_id: int) -> str:
    """One debtor's copy per invoice, however often issuing is retried."""
    return f"invoice-issued:{invoice_id}"


def claim_for_issue(draft: InvoiceDraft, version: int | None) -> DraftStatus:
    """Move the locked draft to issued, or refuse: already issued, changed meanwhile.

    The conditional UPDATE is what makes a double click safe on SQLite too, where
    SELECT ... FOR UPDATE locks nothing: of two requests for one version, only one
    finds the row still at that version and status."""
    before = draft.status
    try:
        check_move(before, DraftStatus.ISSUED)
    except CheckRefused as exc:
        raise InvalidRequest(str(exc)) from None
    if version is not None and version != draft.version:
        raise Conflict("This invoice has changed since you opened it. Check it again and try again")
    claimed = db.session.execute(
        sa.update(InvoiceDraft)
        .where(
            InvoiceDraft.id == draft.id,
            InvoiceDraft.version == draft.version,
            InvoiceDraft.status == before,
        )
        .values(version=InvoiceDraft.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Conflict("This invoice has just been issued or changed by someone else")
    db.session.refresh(draft)
    return before


def issue(draft: InvoiceDraft, actor: Actor, *, checked: bool) -> Invoice:
    """Number, date, post and send the (claimed) draft; the caller commits."""
    today = clock.today()
    if not draft.lines:
        raise InvalidRequest("Add at least one line before issuing the invoice")
    department = db.session.get(ServiceDepartment, draft.department_id)
    code = db.session.get(IncomeCode, draft.income_code_id)
    if not code.active:
        raise InvalidRequest(
            f"Income code {code.code} is no longer in use, so this invoice cannot be issued: "
            "return it to be changed"
        )
    due = draft.due_date or today + timedelta(days=department.payment_terms_days)
    if due < today:
        raise InvalidRequest(
            "The due date chosen for this invoice has passed, so it cannot be issued: "
            "return it to be changed"
        )
    invoice = ledger.post_invoice(
        account_id=draft.account_id,
        department_id=department.id,
        number=next_invoice_number(),
        issue_date=today,
        due_date=due,
        description=draft.description,
        lines=[
            ledger.LineInput(line.description, line.quantity, line.unit_price_pence, line.vat_rate)
            for line in draft.lines
        ],
        actor=actor,
        income_code_id=code.id,
        purchase_order=draft.purchase_order,
        raised_by_staff_id=draft.raised_by_staff_id,
    )
    before = draft.status
    draft.status = DraftStatus.ISSUED
    draft.invoice_id = invoice.id
    draft.updated_at = clock.utcnow()
    if checked:
        draft.checked_by_staff_id = actor.staff_id
        draft.checked_at = clock.utcnow()
    db.session.flush()
    account = db.session.get(DebtorAccount, draft.account_id)
    sent = notify_debtor(
        account, invoice_notice(invoice, department), dedupe_key=dedupe_key(invoice.id)
    )
    how = _how_sent(sent.channel if sent is not None else None)
    record_timeline(
        draft.account_id,
        actor,
        f"Invoice {invoice.number} issued" + (" after checking" if checked else "") + f" and {how}",
    )
    record_audit(
        actor,
        "invoice_draft.issued",
        AUDIT_OBJECT,
        draft.id,
        account_id=draft.account_id,
        before={"status": before.value},
        after={
            "status": draft.status.value,
            "invoice_id": invoice.id,
            "number": invoice.number,
            "total_pence": invoice.total_pence,
            "checked_by_staff_id": draft.checked_by_staff_id,
            "outbox_message_id": sent.id if sent is not None else None,
        },
    )
    return invoice


def _how_sent(channel: OutboxChannel | None) -> str:
    if channel == OutboxChannel.EMAIL:
        return "emailed to the debtor with the invoice attached"
    if channel == OutboxChannel.LETTER:
        return "queued for the print batch, to be posted to the debtor"
    return "not sent: there is no email address or postal address on file"


def invoice_notice(invoice: Invoice, department: ServiceDepartment) -> Message:
    """The debtor's copy of a new invoice: by email with the PDF attached, or by letter
    (the print run encloses the invoice); never by text message."""
    council = current_app.config["COUNCIL_NAME"]
    phone = current_app.config["COUNCIL_PHONE"]
    lines = [
        f"Invoice {invoice.number} from {council} ({department.name})",
        "",
        invoice.description,
        "",
        f"Amount due: {format_gbp(invoice.total_pence)}",
        f"Pay by: {invoice.due_date:%-d %B %Y}",
    ]
    if invoice.purchase_order:
        lines.append(f"Your purchase order: {invoice.purchase_order}")
    lines += [
        "",
        "A copy of the invoice comes with this message. You can pay online with your "
        f"account reference, or phone us on {phone}.",
        "",
        "If you think this invoice is wrong, or you are having difficulty paying, contact us "
        "as soon as you can.",
    ]
    return Message(
        template=TEMPLATE,
        subject=f"Invoice {invoice.number} from {council}",
        body="\n".join(lines),
        sms=None,
        attachment={"document": "invoice", "id": invoice.id},
    )


@use_case
def issue_unchecked(draft_id: int, version: int, actor: Actor) -> Invoice:
    """The raiser issues their own draft, when it needs no check: they are not a
    service-department user and its total is within their invoice limit."""
    user = drafts.staff_acting(actor)
    draft = drafts.raisers_draft(draft_id, user, None)
    if draft.status == DraftStatus.DRAFT:
        total = drafts.draft_total_pence(draft, clock.today())
        refusal = why_unchecked_issue_refused(
            Raiser(user.id, user.role.value, user.invoice_limit_pence), user.id, total
        )
        if refusal:
            raise Forbidden(refusal)
    claim_for_issue(draft, version)
    invoice = issue(draft, actor, checked=False)
    db.session.commit()
    return invoice
