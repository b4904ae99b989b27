"""Officers record payments taken outside the portal, allocated as they choose or
oldest first, once however often the form is sent; and raise credit notes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.models import AuditLog, EntryKind, LedgerEntry, PaymentMethod, StaffRole
from shared.services import balances, ledger
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, parse, text

pytestmark = frozen_clock


@pytest.fixture
def officer(client, db):
    person = make_staff(role=StaffRole.OFFICER)
    signed_in_session(client, person)
    return person


@pytest.fixture
def debts(db):
    account = make_account()
    department = make_department()
    invoices = [
        ledger.raise_invoice(
            account_id=account.id,
            department_id=department.id,
            number=number,
            issue_date=TODAY - timedelta(days=60),
            due_date=due,
            description="Trade waste",
            lines=[ledger.LineInput("Bin lifts", 1, pence)],
            actor=SYSTEM,
        )
        for number, due, pence in (
            ("INV00000201", TODAY - timedelta(days=30), 10_000),
            ("INV00000202", TODAY - timedelta(days=5), 6_000),
        )
    ]
    return account, invoices


def form_page(client, account):
    path = f"/backoffice/accounts/{account.reference}/payments/new"
    page = parse(client.get(path))
    return path, page.select_one("input[name=submission_key]")["value"]


def post(client, account, **fields):
    path, key = form_page(client, account)
    data = {"csrf_token": csrf_token(client, path), "submission_key": key, **fields}
    return client.post(path, data=data), data, path


def payments(db, account):
    db.session.expire_all()
    return db.session.scalars(
        sa.select(LedgerEntry).where(
            LedgerEntry.account_id == account.id, LedgerEntry.kind == EntryKind.PAYMENT
        )
    ).all()


def test_a_cheque_pays_the_oldest_debt_first(client, db, officer, debts):
    account, (old, new) = debts

    response, _, _ = post(
        client, account, method="cheque", amount="120", reference="100234", allocation="oldest"
    )

    assert response.headers["Location"] == f"/backoffice/accounts/{account.reference}"
    [payment] = payments(db, account)
    assert payment.amount_pence == -12_000
    assert payment.method == PaymentMethod.CHEQUE
    assert payment.external_reference == "cheque:100234"
    assert balances.invoice_outstanding(old.id) == 0
    assert balances.invoice_outstanding(new.id) == 4_000
    assert db.session.scalar(sa.select(AuditLog).where(AuditLog.actor_id == officer.id))


def test_a_payment_goes_where_the_officer_chooses(client, db, officer, debts):
    account, (old, new) = debts

    post(
        client,
        account,
        method="bank_transfer",
        amount="50",
        reference="BGC 77",
        allocation="chosen",
        **{f"invoice_{new.id}": "50"},
    )

    assert balances.invoice_outstanding(old.id) == 10_000
    assert balances.invoice_outstanding(new.id) == 1_000


def test_cash_sent_twice_from_one_form_is_one_payment(client, db, officer, debts):
    account, _ = debts
    response, data, path = post(client, account, method="cash", amount="20", allocation="oldest")
    again = client.post(path, data=data)

    assert response.status_code == again.status_code == 302
    assert len(payments(db, account)) == 1


@pytest.mark.parametrize(
    ("fields", "message", "anchor"),
    [
        ({"amount": "10", "reference": "1"}, "Select how it was paid", "#method"),
        (
            {"method": "cheque", "amount": "10"},
            "Enter the reference (not needed for cash)",
            "#reference",
        ),
        ({"method": "cash", "amount": "0"}, "Amount received must be more than £0", "#amount"),
        ({"method": "cash", "amount": "-5"}, None, "#amount"),
        ({"method": "cash", "amount": "ten"}, None, "#amount"),
        ({"method": "cash", "amount": "1.234"}, None, "#amount"),
        (
            {"method": "cash", "amount": "10", "received_on": "1/1/2099"},
            "Date received must be today or in the past",
            "#received_on",
        ),
        (
            {"method": "cash", "amount": "10", "allocation": "chosen"},
            "The amounts for each invoice must add up to £10.00",
            "#allocation",
        ),
    ],
)
def test_bad_input_is_explained_and_nothing_is_recorded(
    client, db, officer, debts, fields, message, anchor
):
    account, _ = debts
    fields.setdefault("allocation", "oldest")

    response, _, _ = post(client, account, **fields)

    assert response.status_code == 200
    found = {a: m for m, a in error_summary(parse(response))}
    assert anchor in found
    if message:
        assert found[anchor] == message
    assert payments(db, account) == []


def test_more_than_an_invoice_owes_is_refused_against_that_invoice(client, db, officer, debts):
    account, (old, _) = debts

    response, _, _ = post(
        client,
        account,
        method="cash",
        amount="200",
        allocation="chosen",
        **{f"invoice_{old.id}": "200"},
    )

    assert ("Amount must be £100.00 or less", f"#invoice_{old.id}") in error_summary(
        parse(response)
    )
    assert payments(db, account) == []


def test_a_credit_note_within_the_officers_limit_reduces_the_invoice_with_its_reason(
    client, db, officer, debts
):
    account, (old, _) = debts
    officer.write_off_limit_pence = 2_500
    db.session.commit()
    path = f"/backoffice/accounts/{account.reference}/invoices/{old.number}/credit-note"

    [line] = old.lines
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "scope": "lines",
            f"line_{line.id}": "25",
            "reason": "Two lifts missed",
        },
    )

    assert response.status_code == 302
    assert balances.invoice_outstanding(old.id) == 7_500
    note = db.session.scalar(
        sa.select(LedgerEntry).where(LedgerEntry.kind == EntryKind.CREDIT_NOTE)
    )
    assert note.amount_pence == -2_500
    # £100 + £60 invoiced, less the £25 credit note: the ledger and the case page agree.
    assert balances.account_balance(account.id) == 13_500
    case_page = parse(client.get(f"/backoffice/accounts/{account.reference}"))
    assert "Balance £135.00" in text(case_page.select_one("main"))


def test_a_credit_note_larger_than_the_line_is_refused_beside_the_line(client, db, officer, debts):
    account, (old, _) = debts
    path = f"/backoffice/accounts/{account.reference}/invoices/{old.number}/credit-note"
    [line] = old.lines

    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "scope": "lines",
            f"line_{line.id}": "101",
            "reason": "Too much",
        },
    )

    assert response.status_code == 200
    assert error_summary(parse(response)) == [
        ("Line 1: amount must be £100.00 or less", f"#line_{line.id}")
    ]
    assert balances.invoice_outstanding(old.id) == 10_000


def test_an_auditor_can_record_nothing(client, db, debts):
    account, _ = debts
    signed_in_session(client, make_staff(role=StaffRole.AUDITOR))

    assert client.get(f"/backoffice/accounts/{account.reference}/payments/new").status_code == 403
