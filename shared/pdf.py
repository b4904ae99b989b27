"""Invoices and statements as PDF, rendered by WeasyPrint from templates/pdf/.

The HTML is ours and every value in it is escaped by Jinja; even so the
renderer is given a URL fetcher that fetches nothing, so no template or
debtor-supplied text can make the server request a URL or read a file.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from flask import current_app, render_template

from shared.services.account_view import InvoicePage, Statement

if TYPE_CHECKING:
    from shared.services.credit_notes import CreditNoteView


def _no_fetching(url: str, *args, **kwargs):
    raise ValueError(f"PDFs fetch nothing ({url!r} refused)")


def render_pdf(template: str, **context) -> bytes:
    """Render a templates/pdf/ page with the council's branding to PDF bytes."""
    # Imported here: WeasyPrint loads Pango at import, which the rest of the app never needs.
    from weasyprint import HTML

    config = current_app.config
    html = render_template(
        template,
        council={
            "name": config["COUNCIL_NAME"],
            "phone": config["COUNCIL_PHONE"],
            "email": config["COUNCIL_EMAIL"],
            "address_lines": config.get("COUNCIL_ADDRESS_LINES") or [],
            "vat_number": config.get("COUNCIL_VAT_NUMBER", ""),
            "bank_account_name": config.get("COUNCIL_BANK_ACCOUNT_NAME", ""),
            "bank_sort_code": config.get("COUNCIL_BANK_SORT_CODE", ""),
            "bank_account_number": config.get("COUNCIL_BANK_ACCOUNT_NUMBER", ""),
            # Where debtors pay online; shown without the scheme, as people type it.
            "portal": str(config.get("PUBLIC_BASE_URL", "")).split("://", 1)[-1] + "/pay",
        },
        **context,
    )
    return HTML(string=html, url_fetcher=_no_fetching).write_pdf()


def invoice_pdf(page: InvoicePage, address_lines: list[str]) -> bytes:
    """One invoice: lines, VAT, totals, what has been paid and what is outstanding."""
    return render_pdf("pdf/invoice.html", page=page, address_lines=address_lines)


def credit_note_pdf(note: CreditNoteView) -> bytes:
    """One credit note: the invoice it credits, the lines with their VAT, the reason,
    and what is left to pay on the invoice."""
    return render_pdf("pdf/credit_note.html", note=note)


def statement_pdf(statement: Statement, *, today: date) -> bytes:
    """Every entry on the account with a running balance."""
    return render_pdf("pdf/statement.html", statement=statement, today=today)


def draft_invoice_pdf(page: InvoicePage, address_lines: list[str]) -> bytes:
    """An invoice not yet issued, as it will look: the invoice template itself with a
    "DRAFT - not an invoice" marker on every page, no number and no remittance slip."""
    return render_pdf("pdf/invoice.html", page=page, address_lines=address_lines, draft=True)
