"""Invoices and statements as PDF, rendered by WeasyPrint from templates/pdf/.

The HTML is ours and every value in it is escaped by Jinja; even so the
renderer is given a URL fetcher that fetches nothing, so no template or
debtor-supplied text can make the server request a URL or read a file.
"""

from __future__ import annotations

from datetime import date

from flask import current_app, render_template

from shared.services.account_view import InvoicePage, Statement


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
            # No address setting yet: a placeholder a council replaces in its own template.
            "address_lines": config.get("COUNCIL_ADDRESS_LINES")
            or ["Income Recovery Team", "County Hall"],
        },
        **context,
    )
    return HTML(string=html, url_fetcher=_no_fetching).write_pdf()


def invoice_pdf(page: InvoicePage, address_lines: list[str]) -> bytes:
    """One invoice: lines, VAT, totals, what has been paid and what is outstanding."""
    return render_pdf("pdf/invoice.html", page=page, address_lines=address_lines)


def statement_pdf(statement: Statement, *, today: date) -> bytes:
    """Every entry on the account with a running balance."""
    return render_pdf("pdf/statement.html", statement=statement, today=today)
