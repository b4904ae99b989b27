"""Invoices as PDFs: the draft's preview and the issued invoice sent to the debtor.

Both are the page object the portal's invoice PDF renders (account_view.InvoicePage),
so a preview is what the debtor will get, marked as a draft. The issued invoice is
registered with shared/documents.py as "invoice": the outbox worker renders it when it
sends the email, from the invoice as stored (immutable once issued).
"""

from __future__ import annotations

import sqlalchemy as sa

from shared import clock
from shared.documents import Attachment, register
from shared.domain.names import display_name
from shared.domain.vat import rate_words
from shared.extensions import db
from shared.models import (
    Allocation,
    Channel,
    DebtorAccount,
    Invoice,
    RecoveryStage,
    ServiceDepartment,
)
from shared.pdf import draft_invoice_pdf, invoice_pdf
from shared.services import account_view, balances
from shared.services.account_view import (
    RECOVERY_STAGE_WORDS,
    AccountSummary,
    InvoicePage,
    InvoiceRow,
    LineRow,
    invoice_status,
)
from shared.services.invoices.reads import DraftView

PDF = "application/pdf"


def _summary(account: DebtorAccount) -> AccountSummary:
    return AccountSummary(
        id=account.id,
        reference=account.reference,
        name=display_name(
            account.kind,
            account.title,
            account.forename,
            account.surname,
            account.organisation_name,
        ),
        balance_pence=balances.account_balance(account.id),
        email=account.email,
        mobile_phone=account.mobile_phone,
        other_phone=account.other_phone,
        preferred_channel=Channel(account.preferred_channel),
        consent_email=bool(account.consent_email),
        consent_sms=bool(account.consent_sms),
    )


def draft_preview_pdf(view: DraftView) -> bytes:
    """The draft as the debtor would receive it if issued today, marked DRAFT."""
    account = db.session.get(DebtorAccount, view.account_id)
    today = clock.today()
    page = InvoicePage(
        account=_summary(account),
        invoice=InvoiceRow(
            id=0,
            number="DRAFT",
            description=view.description,
            issue_date=today,
            due_date=view.due_if_issued_today,
            total_pence=view.total_pence,
            paid_pence=0,
            outstanding_pence=view.total_pence,
            recovery_stage=RECOVERY_STAGE_WORDS[RecoveryStage.NONE],
            status=invoice_status(view.due_if_issued_today, 0, view.total_pence, today),
        ),
        net_pence=view.net_pence,
        vat_pence=view.vat_pence,
        department=view.department_name,
        lines=[
            LineRow(
                description=line.description,
                quantity=line.quantity,
                unit_price_pence=line.unit_price_pence,
                net_pence=line.net_pence,
                vat_rate=line.vat_words,
                vat_pence=line.vat_pence,
            )
            for line in view.lines
        ],
        allocations=[],
    )
    return draft_invoice_pdf(page, account_view.primary_address_lines(account.id))


def issued_invoice_page(invoice_id: int) -> InvoicePage | None:
    """An issued invoice as it is printed, whoever asks (the outbox worker, an officer)."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        return None
    account = db.session.get(DebtorAccount, invoice.account_id)
    department = db.session.get(ServiceDepartment, invoice.department_id)
    paid = int(
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0)).where(
                Allocation.invoice_id == invoice.id
            )
        )
    )
    outstanding = invoice.total_pence - paid
    today = clock.today()
    return InvoicePage(
        account=_summary(account),
        invoice=InvoiceRow(
            id=invoice.id,
            number=invoice.number,
            description=invoice.description,
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            total_pence=invoice.total_pence,
            paid_pence=paid,
            outstanding_pence=outstanding,
            recovery_stage=RECOVERY_STAGE_WORDS[invoice.recovery_stage],
            status=invoice_status(invoice.due_date, paid, outstanding, today),
        ),
        net_pence=invoice.net_pence,
        vat_pence=invoice.vat_pence,
        department=department.name,
        lines=[
            LineRow(
                description=line.description,
                quantity=line.quantity,
                unit_price_pence=line.unit_price_pence,
                net_pence=line.net_pence,
                vat_rate=rate_words(line.vat_rate, line.vat_basis_points),
                vat_pence=line.vat_pence,
            )
            for line in invoice.lines
        ],
        allocations=[],
    )


def invoice_attachment(invoice_id: int) -> Attachment:
    """The issued invoice as the PDF attached to its email (shared/documents.py)."""
    page = issued_invoice_page(invoice_id)
    if page is None:
        raise LookupError(f"No invoice {invoice_id} to attach")
    content = invoice_pdf(page, account_view.primary_address_lines(page.account.id))
    return Attachment(f"{page.invoice.number}.pdf", PDF, content)


register("invoice", invoice_attachment)
