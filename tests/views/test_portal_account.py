"""'Your account': a signed-in debtor sees what they owe, their invoices and
payments, downloads PDFs, updates contact details and pays by card."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from shared.domain.vat import VatRate
from shared.models import (
    Arrangement,
    ArrangementDebt,
    ArrangementStatus,
    AuditLog,
    CardCheckout,
    Channel,
    CheckoutStatus,
    ContactEvent,
    ContactKind,
    DebtorAccount,
    DunningMove,
    Frequency,
    Instalment,
    Mandate,
    MandateSource,
    MandateStatus,
    ModulusOutcome,
    PaymentRoute,
)
from shared.services import ledger
from shared.services.actors import SYSTEM
from shared.services.card_payments import CheckoutRequest, begin_checkout
from shared.services.directdebit.bank_details import BankDetails, seal
from tests.factories import make_account, make_department, make_portal_login
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.pages import (
    count_queries,
    error_summary,
    inline_errors,
    parse,
    sign_in_portal,
    text,
    title,
)

pytestmark = frozen_clock
LONG_AGO = TODAY - timedelta(days=90)


# --- fixtures and helpers --------------------------------------------------------------


def raise_invoice(account, department, number, lines, *, due, issued=None, description=None):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number=number,
        issue_date=issued or min(due, TODAY) - timedelta(days=30),
        due_date=due,
        description=description or f"Charges on {number}",
        lines=lines,
        actor=SYSTEM,
    )


def one_line(pence):
    return [ledger.LineInput("Collections", 1, pence)]


@pytest.fixture
def department(app):
    return make_department(name="Trade waste")


@pytest.fixture
def debtor(app, department):
    """Alex Smith, owing on three invoices (one overdue, one part paid, one due) with one paid."""
    account = make_account(surname="Smith", postcode="SW1A 1AA")
    overdue = raise_invoice(account, department, "INV-A1", one_line(10_000), due=LONG_AGO)
    part = raise_invoice(
        account,
        department,
        "INV-A2",
        [
            ledger.LineInput("Bin lifts", 4, 1_250, VatRate.STANDARD),
            ledger.LineInput("Bin hire", 1, 2_000, VatRate.ZERO),
        ],
        due=TODAY + timedelta(days=20),
        description="Trade waste, March",
    )
    due = raise_invoice(account, department, "INV-A3", one_line(3_000), due=TODAY + timedelta(30))
    paid = raise_invoice(account, department, "INV-A4", one_line(2_000), due=LONG_AGO)
    ledger.record_payment(
        account_id=account.id,
        amount_pence=2_000,
        method="cheque",
        external_reference="CHQ-100200",
        allocations=[(paid.id, 2_000)],
        actor=SYSTEM,
    )
    ledger.record_payment(
        account_id=account.id,
        amount_pence=1_500,
        method="bank_transfer",
        allocations=[(part.id, 1_500)],
        actor=SYSTEM,
    )
    return {"account": account, "overdue": overdue, "part": part, "due": due, "paid": paid}


@pytest.fixture
def stranger(app, department):
    """Someone else's account and invoice."""
    account = make_account(surname="Jones", postcode="AB1 2CD")
    invoice = raise_invoice(account, department, "INV-B1", one_line(7_000), due=LONG_AGO)
    return account, invoice


@pytest.fixture
def signed_in(client, debtor):
    user = make_portal_login(debtor["account"])
    sign_in_portal(client, user)
    return user


def rows(table) -> list[list[str]]:
    return [[text(c) for c in row.select("th, td")] for row in table.select("tbody tr")]


# --- signing in and choosing an account ------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/account",
        "/account/T1",
        "/account/T1/invoices/INV-A1",
        "/account/T1/statement.pdf",
        "/account/T1/invoices/INV-A1.pdf",
        "/account/T1/contact",
        "/account/T1/pay",
    ],
)
def test_someone_not_signed_in_is_sent_to_sign_in_and_brought_back(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_a_login_with_one_account_goes_straight_to_its_page(client, debtor, signed_in):
    response = client.get("/account")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/account/{debtor['account'].reference}"


def test_a_login_managing_several_accounts_chooses_one_from_a_list_with_balances(
    client, db, debtor, department
):
    mother = make_account(surname="Archer", forename="Peggy")
    raise_invoice(mother, department, "INV-M1", one_line(4_500), due=LONG_AGO)
    sign_in_portal(client, make_portal_login(debtor["account"], mother))

    response = client.get("/account")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = parse(response)
    assert title(page).startswith("Your accounts – ")
    listed = rows(page.select_one("main table"))
    # Alex owes £195.00 (see the account page test); Peggy's one invoice is £45.00.
    expected = sorted(
        [
            [debtor["account"].reference, "Alex Smith", "£195.00"],
            [mother.reference, "Peggy Archer", "£45.00"],
        ]
    )
    assert listed == expected
    link = page.select_one(f'main a[href="/account/{mother.reference}"]')
    assert text(link) == mother.reference


# --- the account page ------------------------------------------------------------------


def test_the_account_page_shows_the_balance_and_open_invoices_as_the_ledger_has_them(
    client, debtor, signed_in
):
    account = debtor["account"]
    response = client.get(f"/account/{account.reference}")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = parse(response)
    assert title(page).startswith(f"Account {account.reference} – ")
    # INV-A1 £100 + INV-A2 £80 (4 x £12.50 + 20% VAT, + £20 zero-rated) less £15 paid
    # + INV-A3 £30; INV-A4 (£20) was paid in full by the £20 cheque.
    assert text(page.select_one("#balance")) == "You owe £195.00"

    open_table = page.select("main table")[0]
    assert text(open_table.caption) == "Invoices to pay"
    assert rows(open_table) == [
        [
            "INV-A1",
            "Charges on INV-A1",
            f"{LONG_AGO.day} {LONG_AGO:%B %Y}",
            "£100.00",
            "Overdue",
            "None",
        ],
        [
            "INV-A2",
            "Trade waste, March",
            f"{debtor['part'].due_date.day} {debtor['part'].due_date:%B %Y}",
            "£65.00",  # £80.00 less the £15.00 bank transfer
            "Part paid",
            "None",
        ],
        [
            "INV-A3",
            "Charges on INV-A3",
            f"{debtor['due'].due_date.day} {debtor['due'].due_date:%B %Y}",
            "£30.00",
            "Due",
            "None",
        ],
    ]
    link = open_table.select_one("a")
    assert link["href"] == f"/account/{account.reference}/invoices/INV-A1"
    assert open_table.select_one(".govuk-tag--red").get_text(strip=True) == "Overdue"


def test_paid_invoices_are_tucked_away_in_a_details_element(client, debtor, signed_in):
    page = parse(client.get(f"/account/{debtor['account'].reference}"))

    details = page.select_one("main details.govuk-details")
    assert text(details.summary) == "Paid invoices (1)"
    assert [r[0] for r in rows(details.select_one("table"))] == ["INV-A4"]


def test_payments_are_listed_newest_first_with_the_method_in_words(client, debtor, signed_in):
    page = parse(client.get(f"/account/{debtor['account'].reference}"))

    payments = rows(page.select_one("#payments"))
    methods = sorted((r[1], r[2], r[3]) for r in payments)
    assert methods == [
        ("Bank transfer", "£15.00", methods[0][2]),
        ("Cheque", "£20.00", "CHQ-100200"),
    ]


def test_the_recovery_stage_is_said_in_plain_words(client, db, debtor, signed_in):
    invoice = debtor["overdue"]
    invoice.recovery_stage = "final_demand"
    # Shown because a run recorded it (a stage with no record is not: test_portal_account_reads).
    db.session.add(
        DunningMove(
            invoice_id=invoice.id,
            account_id=invoice.account_id,
            from_stage="reminder",
            to_stage="final_demand",
            outstanding_pence=10_000,
        )
    )
    db.session.commit()

    page = parse(client.get(f"/account/{debtor['account'].reference}"))

    assert rows(page.select("main table")[0])[0][-1] == "Final demand sent"


def test_without_a_plan_or_direct_debit_the_page_says_so(client, debtor, signed_in):
    page = parse(client.get(f"/account/{debtor['account'].reference}"))

    main = text(page.main)
    assert "You have no payment plan." in main
    assert "You have no Direct Debit set up." in main
    links = {text(a): a["href"] for a in page.select("main ul.govuk-list a")}
    reference = debtor["account"].reference
    assert links == {
        "Pay now": f"/account/{reference}/pay",
        "Download a statement (PDF)": f"/account/{reference}/statement.pdf",
        "Update your contact details": f"/account/{reference}/contact",
        "Add another account to your login": "/account/link",
    }


def test_an_active_plan_and_direct_debit_are_shown_read_only(client, db, debtor, signed_in):
    account = debtor["account"]
    plan = Arrangement(
        account_id=account.id,
        status=ArrangementStatus.ACTIVE,
        frequency=Frequency.MONTHLY,
        total_pence=10_000,
        start_date=LONG_AGO,
        payment_route=PaymentRoute.DIRECT_DEBIT,
    )
    db.session.add(plan)
    db.session.flush()
    next_due = TODAY + timedelta(days=5)
    db.session.add_all(
        [
            # A plan covers invoices (plans.propose needs them); the page reads plans
            # through the invoices they cover.
            ArrangementDebt(
                arrangement_id=plan.id, invoice_id=debtor["overdue"].id, amount_pence=10_000
            ),
            Instalment(arrangement_id=plan.id, sequence=1, due_date=LONG_AGO, amount_pence=2_500),
            Instalment(arrangement_id=plan.id, sequence=2, due_date=next_due, amount_pence=2_500),
            Mandate(
                account_id=account.id,
                reference="DDREF000123",
                account_holder_name="A SMITH",
                bank_details_encrypted=seal(BankDetails("200000", "55779911")),
                account_ending="11",
                modulus_outcome=ModulusOutcome.VALID,
                source=MandateSource.PORTAL,
                status=MandateStatus.ACTIVE,
            ),
        ]
    )
    db.session.commit()

    page = parse(client.get(f"/account/{account.reference}"))

    lists = page.select("main .govuk-summary-list")
    plan_rows = {
        text(r.select_one(".govuk-summary-list__key")): text(
            r.select_one(".govuk-summary-list__value")
        )
        for r in lists[0].select(".govuk-summary-list__row")
    }
    assert plan_rows["How often"] == "Every month"
    # The plan names the Direct Debit that pays it (tests/views/test_portal_account_reads.py).
    assert plan_rows["Paid by"] == "Direct Debit from the bank account ending 11"
    assert plan_rows["Next payment"] == f"£25.00 on {next_due.day} {next_due:%B %Y}"
    assert "Ending 11" in text(lists[1])
    assert page.select_one("main form") is None  # read-only


def test_an_account_in_credit_says_so(client, db, department):
    account = make_account()
    ledger.record_payment(account_id=account.id, amount_pence=2_500, method="cash", actor=SYSTEM)
    sign_in_portal(client, make_portal_login(account))

    page = parse(client.get(f"/account/{account.reference}"))

    assert text(page.select_one("#balance")) == "Your account is £25.00 in credit"
    assert "You have no invoices to pay." in text(page.main)


# --- nobody sees anyone else's account --------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/account/{ref}",
        "/account/{ref}/invoices/{number}",
        "/account/{ref}/statement.pdf",
        "/account/{ref}/invoices/{number}.pdf",
        "/account/{ref}/contact",
        "/account/{ref}/pay",
        # Someone else's invoice under your own account reference.
        "/account/{mine}/invoices/{number}",
        "/account/{mine}/invoices/{number}.pdf",
        # Nobody's.
        "/account/X99999999",
        "/account/{mine}/invoices/INV-NOPE",
    ],
)
def test_another_persons_account_or_invoice_is_not_found(client, debtor, stranger, signed_in, path):
    account, invoice = stranger
    url = path.format(
        ref=account.reference, number=invoice.number, mine=debtor["account"].reference
    )

    response = client.get(url)

    assert response.status_code == 404
    assert account.surname not in response.get_data(as_text=True)


def test_a_payment_return_page_for_another_accounts_checkout_is_not_found(
    client, debtor, stranger, signed_in
):
    account, invoice = stranger
    theirs = begin_checkout(CheckoutRequest(account.id, [(invoice.id, 500)], "k" * 20), SYSTEM)

    mine = debtor["account"].reference
    assert client.get(f"/account/{mine}/pay/return/{theirs.reference}").status_code == 404
    assert (
        client.get(f"/account/{account.reference}/pay/return/{theirs.reference}").status_code == 404
    )


# --- an invoice ------------------------------------------------------------------------


def test_the_invoice_page_shows_lines_with_vat_totals_and_what_was_paid(client, debtor, signed_in):
    reference = debtor["account"].reference
    response = client.get(f"/account/{reference}/invoices/inv-a2")  # typed in lower case

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = parse(response)
    assert title(page).startswith("Invoice INV-A2 – ")
    assert rows(page.select_one("#lines")) == [
        ["Bin lifts", "4", "£12.50", "20%", "£10.00", "£60.00"],
        ["Bin hire", "1", "£20.00", "0%", "£0.00", "£20.00"],
    ]
    totals = [[text(c) for c in r.select("th, td")] for r in page.select("#lines tfoot tr")]
    assert totals == [["Net", "£70.00"], ["VAT", "£10.00"], ["Invoice total", "£80.00"]]
    allocations = rows(page.select_one("#allocations"))
    assert [a[1:] for a in allocations] == [["Payment: Bank transfer", "£15.00"]]
    summary = text(page.select_one("main .govuk-summary-list"))
    assert "Left to pay £65.00" in summary  # £80.00 less the £15.00 bank transfer
    assert "Status Part paid" in summary
    pdf_link = page.select_one(f'main a[href="/account/{reference}/invoices/INV-A2.pdf"]')
    assert text(pdf_link) == "Download this invoice (PDF)"


# --- PDFs ------------------------------------------------------------------------------


def pdf_text(response) -> str:
    reader = PdfReader(io.BytesIO(response.data))
    return " ".join(" ".join(p.extract_text().split()) for p in reader.pages)


def test_the_invoice_pdf_is_a_real_pdf_download_with_its_lines_and_the_council(
    client, debtor, signed_in
):
    reference = debtor["account"].reference
    response = client.get(f"/account/{reference}/invoices/INV-A2.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="invoice-INV-A2.pdf"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"%PDF")
    content = pdf_text(response)
    assert "Invoice INV-A2" in content
    assert "Borsetshire County Council" in content
    assert "0300 123 4567" in content
    assert "Alex Smith" in content
    assert "SW1A 1AA" in content
    assert "Bin lifts" in content
    assert "£80.00" in content
    assert "Left to pay: £65.00" in content


def test_the_statement_pdf_lists_every_entry_with_a_running_balance(client, debtor, signed_in):
    account = debtor["account"]
    response = client.get(f"/account/{account.reference}/statement.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="statement-{account.reference}.pdf"'
    )
    assert response.data.startswith(b"%PDF")
    content = pdf_text(response)
    assert f"Account reference {account.reference}" in content
    for number in ("INV-A1", "INV-A2", "INV-A3", "INV-A4"):
        assert f"Invoice {number}" in content
    assert "Payment: Cheque" in content
    assert "You owe £195.00" in content  # as on the account page


# --- contact details -------------------------------------------------------------------


def contact_form(client, reference) -> dict[str, str]:
    page = parse(client.get(f"/account/{reference}/contact"))
    return {"csrf_token": page.select_one("input[name=csrf_token]")["value"]}


def test_the_contact_page_shows_what_we_hold_now(client, db, debtor, signed_in):
    account = debtor["account"]
    account.email = "alex@example.com"
    account.preferred_channel = Channel.EMAIL
    account.consent_email = True
    db.session.commit()

    page = parse(client.get(f"/account/{account.reference}/contact"))

    assert title(page).startswith("Your contact details – ")
    assert page.select_one("input#email")["value"] == "alex@example.com"
    assert page.select_one("input[name=preferred_channel][value=email]").has_attr("checked")
    assert page.select_one("input[name=consents][value=email]").has_attr("checked")
    assert not page.select_one("input[name=consents][value=sms]").has_attr("checked")
    assert page.select_one("main form")["action"] == f"/account/{account.reference}/contact"


def test_updating_contact_details_saves_them_normalised_with_a_timeline_entry_and_audit(
    client, db, debtor, signed_in
):
    account = debtor["account"]
    response = client.post(
        f"/account/{account.reference}/contact",
        data={
            **contact_form(client, account.reference),
            "email": " alex@example.com ",
            "mobile_phone": "+44 (0)7700-900123",
            "other_phone": "",
            "preferred_channel": "sms",
            "consents": ["sms"],
        },
        environ_base={"REMOTE_ADDR": "192.0.2.44"},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/account/{account.reference}"
    db.session.expire_all()
    saved = db.session.get(DebtorAccount, account.id)
    assert (saved.email, saved.mobile_phone, saved.preferred_channel) == (
        "alex@example.com",
        "07700 900123",
        Channel.SMS,
    )
    assert (saved.consent_email, saved.consent_sms) == (False, True)
    assert saved.consent_updated_at is not None
    [event] = db.session.scalars(
        sa.select(ContactEvent).where(
            ContactEvent.account_id == account.id, ContactEvent.kind == ContactKind.PORTAL
        )
    ).all()
    assert event.summary == (
        "Contact details updated in the portal: "
        "email, mobile, preferred contact method, text message consent"
    )
    assert event.portal_user_id == signed_in.id
    [audit] = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "account.contact_details_updated")
    ).all()
    assert (audit.actor_type, audit.actor_id, audit.source_ip) == (
        "portal_user",
        signed_in.id,
        "192.0.2.44",
    )
    assert audit.before == {
        "email": None,
        "mobile_phone": None,
        "preferred_channel": "post",
        "consent_sms": False,
    }
    assert audit.after == {
        "email": "alex@example.com",
        "mobile_phone": "07700 900123",
        "preferred_channel": "sms",
        "consent_sms": True,
    }
    banner = parse(client.get(f"/account/{account.reference}"))
    assert "Your contact details have been updated" in text(
        banner.select_one(".govuk-notification-banner")
    )


@pytest.mark.parametrize(
    "fields, field, message",
    [
        (
            {"email": "", "preferred_channel": "email"},
            "email",
            "Enter an email address if you want us to contact you by email",
        ),
        (
            {"mobile_phone": "", "preferred_channel": "sms"},
            "mobile_phone",
            "Enter a mobile phone number if you want us to contact you by text message",
        ),
        (
            {"email": "alex.example.com", "preferred_channel": "post"},
            "email",
            "Enter an email address in the correct format, like name@example.com",
        ),
        (
            {"mobile_phone": "020 7946 0123", "preferred_channel": "post"},
            "mobile_phone",
            "Enter a UK mobile phone number, like 07700 900 982",
        ),
        (
            {"other_phone": "12345", "preferred_channel": "post"},
            "other_phone",
            "Enter a UK phone number, like 01632 960 001",
        ),
        ({}, "preferred_channel", "Select how you would like us to contact you"),
    ],
)
def test_contact_details_that_cannot_be_used_are_explained_and_nothing_is_saved(
    client, db, debtor, signed_in, fields, field, message
):
    account = debtor["account"]
    response = client.post(
        f"/account/{account.reference}/contact",
        data={**contact_form(client, account.reference), **fields},
    )

    assert response.status_code == 200
    page = parse(response)
    assert title(page).startswith("Error: Your contact details")
    assert error_summary(page) == [(message, f"#{field}")]
    assert inline_errors(page) == {field: message}
    assert (
        db.session.scalars(sa.select(AuditLog.id).where(AuditLog.action.like("account.%"))).all()
        == []
    )


def test_saving_contact_details_unchanged_records_nothing(client, db, debtor, signed_in):
    account = debtor["account"]
    response = client.post(
        f"/account/{account.reference}/contact",
        data={**contact_form(client, account.reference), "preferred_channel": "post"},
    )

    assert response.status_code == 302
    assert (
        db.session.scalars(sa.select(AuditLog.id).where(AuditLog.action.like("account.%"))).all()
        == []
    )


# --- paying when signed in -------------------------------------------------------------


@pytest.fixture
def gateway(app, gateway):
    app.extensions["payment_gateway"] = gateway
    return gateway


def pay_form(client, reference) -> dict[str, str]:
    page = parse(client.get(f"/account/{reference}/pay"))
    return {
        field["name"]: field["value"]
        for field in page.select("main form input[type=hidden]")
        if field.get("value")
    }


def test_paying_two_invoices_in_part_makes_one_checkout_and_goes_to_the_provider(
    client, db, debtor, signed_in, gateway, base_url
):
    account = debtor["account"]
    overdue, part = debtor["overdue"], debtor["part"]
    page = parse(client.get(f"/account/{account.reference}/pay"))
    assert title(page).startswith("Pay your bill – ")
    assert [r[0] for r in rows(page.select_one("main table"))] == ["INV-A1", "INV-A2", "INV-A3"]
    assert "We will send a receipt to debtor@example.com" in text(page.main)

    response = client.post(
        f"/account/{account.reference}/pay",
        data={
            **pay_form(client, account.reference),
            f"amount_{overdue.id}": "40",
            f"amount_{part.id}": "10.50",
        },
    )

    assert response.status_code == 303
    [checkout] = db.session.scalars(sa.select(CardCheckout)).all()
    assert checkout.allocations == [[overdue.id, 4_000], [part.id, 1_050]]
    assert checkout.amount_pence == 5_050
    assert checkout.status == CheckoutStatus.OPEN
    assert checkout.portal_user_id == signed_in.id
    assert checkout.receipt_email == "debtor@example.com"
    assert response.headers["Location"] == checkout.provider_session_url
    assert checkout.provider_session_url.startswith(f"{base_url}/checkout/")

    back = client.get(f"/account/{account.reference}/pay/return/{checkout.reference}")
    assert back.status_code == 200
    assert text(parse(back).h1) == "We are confirming your payment"


def test_an_amount_over_what_is_owed_is_explained(client, db, debtor, signed_in):
    account, overdue = debtor["account"], debtor["overdue"]
    response = client.post(
        f"/account/{account.reference}/pay",
        data={**pay_form(client, account.reference), f"amount_{overdue.id}": "100.01"},
    )

    page = parse(response)
    assert error_summary(page) == [("Amount must be £100.00 or less", f"#amount_{overdue.id}")]
    assert db.session.scalars(sa.select(CardCheckout)).all() == []


# --- cost ------------------------------------------------------------------------------


def test_the_account_and_invoice_pages_cost_the_same_queries_however_many_invoices(
    client, db, debtor, signed_in, department
):
    account = debtor["account"]
    paths = [f"/account/{account.reference}", f"/account/{account.reference}/invoices/INV-A2"]
    before = [count_queries(db, lambda p=p: client.get(p)) for p in paths]
    for n in range(15):
        invoice = raise_invoice(account, department, f"INV-X{n}", one_line(1_000), due=LONG_AGO)
        ledger.record_payment(
            account_id=account.id,
            amount_pence=400,
            method="cash",
            allocations=[(invoice.id, 400)],
            actor=SYSTEM,
        )

    after = [count_queries(db, lambda p=p: client.get(p)) for p in paths]

    assert after == before
    assert before[0] <= 10
