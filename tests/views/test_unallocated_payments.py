"""The unallocated payments queue lists money that paid no invoice, oldest first; officers
allocate it by hand (chosen amounts or oldest first), once however often the form is
sent; auditors may look but not allocate."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.models import Allocation, AuditLog, ContactEvent, PaymentMethod, StaffRole
from shared.reports.reconciliation import ledger_discrepancies
from shared.services import balances, ledger, unallocated
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, parse, text, title

pytestmark = frozen_clock
QUEUE = "/backoffice/unallocated"


@pytest.fixture
def officer(client, db):
    person = make_staff(role=StaffRole.OFFICER, full_name="Priya Officer")
    signed_in_session(client, person)
    return person


@pytest.fixture
def book(db):
    """An account owing two invoices with a £50 bank transfer that paid neither, and
    another account whose payment was allocated in full."""
    account = make_account(surname="Archer")
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
            ("INV00000301", TODAY - timedelta(days=30), 10_000),
            ("INV00000302", TODAY - timedelta(days=5), 6_000),
        )
    ]
    transfer = ledger.record_payment(
        account_id=account.id,
        amount_pence=5_000,
        method=PaymentMethod.BANK_TRANSFER,
        actor=SYSTEM,
        external_reference="BGC ARCHER 77",
        effective_date=TODAY - timedelta(days=9),
        allocations=[],  # matched no invoice
    ).entry
    other = make_account(surname="Grundy")
    ledger.raise_invoice(
        account_id=other.id,
        department_id=department.id,
        number="INV00000303",
        issue_date=TODAY - timedelta(days=40),
        due_date=TODAY - timedelta(days=10),
        description="Licence",
        lines=[ledger.LineInput("Licence", 1, 2_500)],
        actor=SYSTEM,
    )
    settled = ledger.record_payment(
        account_id=other.id,
        amount_pence=2_500,
        method=PaymentMethod.CHEQUE,
        actor=SYSTEM,
        external_reference="cheque:555",
    ).entry
    return account, invoices, transfer, other, settled


def allocate_path(account, **query) -> str:
    path = f"/backoffice/accounts/{account.reference}/allocate"
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return path


def form_fields(client, path) -> dict:
    """The form as the officer opened it: CSRF token and the payment already chosen."""
    page = parse(client.get(path))
    chosen = page.select_one("input[name=credit][checked]")
    return {
        "csrf_token": page.select_one("input[name=csrf_token]")["value"],
        "credit": chosen["value"],
    }


def allocated(db, credit) -> int:
    db.session.expire_all()
    return int(
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0)).where(
                Allocation.credit_entry_id == credit.id
            )
        )
    )


def test_the_queue_lists_an_unallocated_payment_and_not_a_fully_allocated_one(
    client, officer, book
):
    account, _, transfer, other, settled = book

    page = parse(client.get(QUEUE))

    assert title(page).startswith("Unallocated payments")
    row = page.select_one(f"#credit-{transfer.id}")
    cells = [text(td) for td in row.select("td")]
    assert cells[:7] == [
        (TODAY - timedelta(days=9)).strftime("%-d %B %Y"),
        "9 days",
        f"{account.reference} Alex Archer",
        "Bank transfer",
        "BGC ARCHER 77",
        "£50.00",
        "£50.00",
    ]
    assert page.select_one(f"#credit-{settled.id}") is None
    assert other.reference not in text(page.select_one("table"))
    link = row.select_one("a[href*=allocate]")["href"]
    assert link == allocate_path(account, credit=transfer.id, **{"from": "queue"})


def test_the_queue_is_oldest_first_and_pages_on_from_where_it_left_off(
    client, officer, db, monkeypatch
):
    monkeypatch.setattr(unallocated, "PAGE_SIZE", 2)
    account = make_account()
    # Recorded in one order, received in another: the queue follows the money's age.
    days_ago = [3, 20, 11]
    entries = [
        ledger.record_payment(
            account_id=account.id,
            amount_pence=1_000 + n,
            method=PaymentMethod.CASH,
            actor=SYSTEM,
            effective_date=TODAY - timedelta(days=d),
        ).entry
        for n, d in enumerate(days_ago)
    ]

    first = parse(client.get(QUEUE))
    ids = [tr["id"] for tr in first.select("tbody tr")]
    assert ids == [f"credit-{entries[1].id}", f"credit-{entries[2].id}"]
    assert "3 payments and credits, £30.03 unallocated in all" in text(first)

    after = parse(client.get(first.select_one(".govuk-pagination__next a")["href"]))
    assert [tr["id"] for tr in after.select("tbody tr")] == [f"credit-{entries[0].id}"]
    assert after.select_one(".govuk-pagination__next") is None


def test_allocating_by_hand_moves_the_invoices_outstanding_and_the_books_reconcile(
    client, db, officer, book
):
    account, (old, new), transfer, _, _ = book
    path = allocate_path(account, credit=transfer.id)
    data = form_fields(client, path) | {"allocation": "chosen", f"invoice_{new.id}": "30"}

    response = client.post(path, data=data)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/backoffice/accounts/{account.reference}"
    assert balances.invoice_outstanding(new.id) == 3_000
    assert balances.invoice_outstanding(old.id) == 10_000
    assert balances.unallocated_credit(account.id) == 2_000
    # Balance = what the invoices owe less the credit not yet applied, still.
    assert balances.account_balance(account.id) == 10_000 + 3_000 - 2_000
    assert ledger_discrepancies([account.id]) == []
    assert unallocated.account_total(account.id) == 2_000
    event = db.session.scalars(
        sa.select(ContactEvent).where(ContactEvent.account_id == account.id)
    ).all()[-1]
    assert (event.summary, event.detail, event.staff_id) == (
        "£30.00 of unallocated credit allocated",
        "INV00000302: £30.00",
        officer.id,
    )
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "credit.allocated"))
    assert (audit.actor_id, audit.object_id) == (officer.id, str(transfer.id))
    assert audit.after["allocations"] == [[new.id, 3_000]]
    assert (audit.before["unallocated_pence"], audit.after["unallocated_pence"]) == (5_000, 2_000)


def test_oldest_first_pays_the_oldest_invoice_and_returns_to_the_queue(client, officer, book):
    account, (old, new), transfer, _, _ = book
    path = allocate_path(account, credit=transfer.id, **{"from": "queue"})

    response = client.post(path, data=form_fields(client, path) | {"allocation": "oldest"})

    assert response.headers["Location"] == QUEUE
    assert balances.invoice_outstanding(old.id) == 5_000
    assert balances.invoice_outstanding(new.id) == 6_000
    assert transfer.id not in {i.credit_entry_id for i in unallocated.queue_page(TODAY).items}
    assert "£50.00 allocated" in text(parse(client.get(QUEUE)))


@pytest.mark.parametrize(
    ("typed", "message", "anchor"),
    [
        (
            {"new": "55", "old": "5.01"},
            "The amounts add up to £60.01, but only £50.00 of this payment is unallocated",
            "#allocation",
        ),
        ({"new": "60.01"}, "Amount must be £60.00 or less", "#invoice_{new}"),
        ({"new": "0"}, "Enter an amount for at least one invoice", "#allocation"),
        ({}, "Enter an amount for at least one invoice", "#allocation"),
        ({"new": "1.234"}, None, "#invoice_{new}"),
        ({"new": "-5"}, None, "#invoice_{new}"),
    ],
)
def test_over_allocation_and_bad_amounts_are_refused_with_nothing_changed(
    client, db, officer, book, typed, message, anchor
):
    account, (old, new), transfer, _, _ = book
    ids = {"old": old.id, "new": new.id}
    path = allocate_path(account, credit=transfer.id)
    data = form_fields(client, path) | {"allocation": "chosen"}
    data |= {f"invoice_{ids[k]}": v for k, v in typed.items()}

    response = client.post(path, data=data)

    assert response.status_code == 200
    page = parse(response)
    found = {a: m for m, a in error_summary(page)}
    anchor = anchor.format(new=new.id)
    assert anchor in found
    if message:
        assert found[anchor] == message
    assert allocated(db, transfer) == 0
    assert balances.invoice_outstanding(new.id) == 6_000
    assert unallocated.account_total(account.id) == 5_000
    # What the officer typed is still there to correct.
    for key, value in typed.items():
        assert page.select_one(f"#invoice_{ids[key]}")["value"] == value


def test_the_same_form_sent_twice_allocates_once(client, db, officer, book):
    account, (_, new), transfer, _, _ = book
    path = allocate_path(account, credit=transfer.id)
    data = form_fields(client, path) | {"allocation": "chosen", f"invoice_{new.id}": "20"}

    first = client.post(path, data=data)
    again = client.post(path, data=data)

    assert first.status_code == again.status_code == 302
    assert allocated(db, transfer) == 2_000
    assert balances.invoice_outstanding(new.id) == 4_000
    assert "Nothing was allocated" in text(parse(client.get(again.headers["Location"])))


def test_a_form_for_money_allocated_in_full_since_allocates_nothing(client, db, officer, book):
    account, _, transfer, _, _ = book
    path = allocate_path(account, credit=transfer.id)
    data = form_fields(client, path) | {"allocation": "oldest"}
    ledger.allocate(credit_entry_id=transfer.id, actor=SYSTEM)  # someone else got there first

    response = client.post(path, data=data)

    assert response.status_code == 302
    assert allocated(db, transfer) == 5_000
    assert "Nothing was allocated" in text(parse(client.get(response.headers["Location"])))


def test_the_case_view_offers_to_allocate_the_accounts_unallocated_money(client, officer, book):
    account, *_ = book

    page = parse(client.get(f"/backoffice/accounts/{account.reference}"))

    link = next(a for a in page.select("a") if text(a).startswith("Allocate unallocated money"))
    assert text(link) == "Allocate unallocated money (£50.00)"
    assert link["href"] == allocate_path(account)


def test_an_auditor_sees_the_queue_but_cannot_allocate(client, db, book):
    account, _, transfer, _, _ = book
    signed_in_session(client, make_staff(role=StaffRole.AUDITOR))

    page = parse(client.get(QUEUE))

    assert page.select_one(f"#credit-{transfer.id}") is not None
    assert page.select("a[href*='/allocate']") == []
    path = allocate_path(account, credit=transfer.id)
    assert client.get(path).status_code == 403
    # A valid token (the sign-out form's), so the refusal is about permission.
    token = csrf_token(client, QUEUE)
    response = client.post(
        path, data={"csrf_token": token, "credit": f"{transfer.id}:5000", "allocation": "oldest"}
    )
    assert response.status_code == 403
    assert allocated(db, transfer) == 0


def test_the_queue_pages_oldest_first_with_next_and_first_page_links(
    client, officer, book, monkeypatch
):
    account = book[0]
    monkeypatch.setattr(unallocated, "PAGE_SIZE", 1)
    ledger.record_payment(
        account_id=account.id,
        amount_pence=1_200,
        method=PaymentMethod.BANK_TRANSFER,
        actor=SYSTEM,
        external_reference="BGC ARCHER 78",
        effective_date=TODAY - timedelta(days=2),
        allocations=[],
    )

    first = parse(client.get(QUEUE))
    assert "£50.00" in text(first.select_one("table"))
    assert first.select_one(".govuk-pagination__prev") is None
    next_link = first.select_one(".govuk-pagination__next a")["href"]
    assert next_link == f"{QUEUE}?after={(TODAY - timedelta(days=9)).isoformat()}.{book[2].id}"

    second = parse(client.get(next_link))
    assert "£12.00" in text(second.select_one("table"))
    assert second.select_one(".govuk-pagination__next") is None
    assert second.select_one(".govuk-pagination__prev a")["href"] == QUEUE
