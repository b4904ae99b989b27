"""The invoice a council sends: a VAT invoice with the council's VAT number and address,
how to pay (the portal, bank transfer with the reference, phone) and a tear-off
remittance slip, all from configuration, on one A4 page for a short invoice."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from shared import pdf
from shared.domain.vat import VatRate
from shared.extensions import db
from shared.models import IncomeCode, Invoice
from shared.services import account_view, ledger
from shared.services.actors import SYSTEM
from tests.conftest import make_config
from tests.factories import make_account, make_department, make_portal_login
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock

A4_POINTS = (595, 842)  # 210 x 297 mm


@pytest.fixture
def page(app):
    account = make_account(surname="Archer", postcode="AM1 2BB")
    department = make_department(name="Trade waste")
    invoice = ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number="INV-PDF1",
        issue_date=date(2009, 6, 1),  # the temporary 15% standard rate
        due_date=date(2009, 7, 1),
        description="Trade waste, June 2009",
        lines=[
            ledger.LineInput("Weekly bin lifts", 4, 1_250, VatRate.STANDARD),
            ledger.LineInput("Bin hire", 1, 800, VatRate.STANDARD),
            ledger.LineInput("Duty of care note", 1, 3_000, VatRate.OUTSIDE_SCOPE),
        ],
        actor=SYSTEM,
    )
    code = IncomeCode(
        department_id=department.id,
        code="TW01",
        description="Internal only: trade waste income",
        cost_centre="CC100",
        ledger_code="R4100",
    )
    db.session.add(code)
    db.session.flush()
    db.session.execute(
        sa.update(Invoice)
        .where(Invoice.id == invoice.id)
        .values(income_code_id=code.id, purchase_order="PO-7781")
    )
    db.session.commit()
    login = make_portal_login(account)
    found = account_view.invoice_page(login.id, account.reference, "INV-PDF1", TODAY)
    return found, account_view.primary_address_lines(account.id)


def read(content: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(content))
    return reader, " ".join(" ".join(p.extract_text().split()) for p in reader.pages)


def test_a_three_line_invoice_is_one_a4_page_with_the_vat_number_and_how_to_pay(page):
    reader, content = read(pdf.invoice_pdf(*page))

    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == A4_POINTS
    assert "VAT registration number GB999999973" in content
    assert "Invoice date (tax point) 1 June 2009" in content
    assert "Your purchase order PO-7781" in content
    # Each line with the rate it was charged on the tax point: 15% in 2009.
    assert "Weekly bin lifts 4 £12.50 £50.00 15% £7.50 £57.50" in content
    assert "Bin hire 1 £8.00 £8.00 15% £1.20 £9.20" in content
    assert "Duty of care note 1 £30.00 £30.00 No VAT £0.00 £30.00" in content
    assert "Total before VAT £88.00" in content and "Invoice total £96.70" in content
    # How to pay, with the reference to quote, from configuration.
    assert "payment reference INV-PDF1" in content
    assert "127.0.0.1:5000/pay" in content
    assert (
        "to Borsetshire CC Income, sort code 00-00-00, account number 00000000, "
        "reference INV-PDF1" in content
    )
    assert "0300 123 4567" in content
    # The income code is the council's business, not the debtor's.
    assert "Internal only" not in content and "TW01" not in content


def test_the_remittance_slip_names_the_account_invoice_amount_due_and_where_to_send_it(page):
    _, content = read(pdf.invoice_pdf(*page))

    slip = content[content.index("Tear off and return this slip") :]
    assert "Account reference " + page[0].account.reference in slip
    assert "Invoice number INV-PDF1" in slip
    assert "Amount due £96.70" in slip
    assert "Amount enclosed" in slip
    assert (
        "Return to Borsetshire County Council Income Recovery Team County Hall Borchester BC1 1AA"
        in slip
    )


def test_the_council_address_vat_number_and_bank_details_come_from_configuration(database_url):
    from shared.app import create_app

    app = create_app(
        make_config(
            database_url,
            COUNCIL_ADDRESS="Civic Centre|Felpersham|FE1 1AA",
            COUNCIL_VAT_NUMBER="GB 123 4567 89",
            COUNCIL_BANK_ACCOUNT_NAME="Felpersham Council",
            COUNCIL_BANK_SORT_CODE="20 00 00",
            COUNCIL_BANK_ACCOUNT_NUMBER="12345678",
        )
    )
    with app.app_context():
        account = make_account()
        ledger.raise_invoice(
            account_id=account.id,
            department_id=make_department().id,
            number="INV-PDF2",
            issue_date=TODAY,
            due_date=TODAY,
            description="Licence",
            lines=[ledger.LineInput("Licence", 1, 10_000, VatRate.STANDARD)],
            actor=SYSTEM,
        )
        login = make_portal_login(account)
        found = account_view.invoice_page(login.id, account.reference, "INV-PDF2", TODAY)
        _, content = read(pdf.invoice_pdf(found, []))
        db.session.remove()
        db.engine.dispose()

    assert "VAT registration number GB123456789" in content
    assert "sort code 20-00-00, account number 12345678" in content
    assert "Civic Centre Felpersham FE1 1AA" in content
    assert "20% £20.00" in content


def test_a_draft_is_marked_and_has_no_reference_to_quote_nor_a_remittance_slip(page):
    found, address = page

    _, content = read(
        pdf.render_pdf("pdf/invoice.html", page=found, address_lines=address, draft=True)
    )

    assert "DRAFT - not an invoice" in content
    assert "Remittance slip" not in content and "Amount enclosed" not in content
    assert "payment reference" not in content
    assert "Weekly bin lifts" in content
