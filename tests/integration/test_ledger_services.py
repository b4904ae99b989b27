"""Ledger services, example by example: what each records and what it refuses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shared.models import (
    Allocation,
    AuditLog,
    ContactEvent,
    EntryKind,
    LedgerEntry,
    PaymentMethod,
)
from shared.reports.reconciliation import ledger_discrepancies
from shared.services import balances, ledger
from shared.services.actors import SYSTEM, staff
from shared.services.errors import Conflict, InvalidRequest
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock


@pytest.fixture
def book(app):
    account = make_account()
    department = make_department()
    officer = make_staff()

    def invoice(number, pence, due, vat=ledger.VatRate.OUTSIDE_SCOPE):
        return ledger.raise_invoice(
            account_id=account.id,
            department_id=department.id,
            number=number,
            issue_date=date(2026, 1, 1),
            due_date=due,
            description="Service",
            lines=[ledger.LineInput("Service", 1, pence, vat)],
            actor=staff(officer.id, "10.0.0.9"),
        )

    return account, officer, invoice


def count(db, model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_raising_an_invoice_debits_the_account_with_vat_and_records_history(book, db):
    account, officer, invoice = book
    inv = ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number="INV1",
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
        description="Trade waste",
        lines=[
            ledger.LineInput("Bin lifts", 12, 1_250, ledger.VatRate.STANDARD),
            ledger.LineInput("Bin rental", 1, 999, ledger.VatRate.STANDARD),
        ],
        actor=staff(officer.id, "10.0.0.9"),
    )
    assert (inv.net_pence, inv.vat_pence, inv.total_pence) == (15_999, 3_000 + 200, 19_199)
    assert balances.account_balance(account.id) == 19_199
    audit = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "invoice.raised")).one()
    assert (audit.actor_id, audit.source_ip, audit.account_id) == (
        officer.id,
        "10.0.0.9",
        account.id,
    )
    assert "Invoice INV1 raised for £191.99" in [
        e.summary for e in db.session.scalars(sa.select(ContactEvent))
    ]


def test_a_payment_settles_the_oldest_due_invoice_first(book):
    account, _, invoice = book
    newer = invoice("N1", 5_000, date(2026, 3, 1))
    older = invoice("O1", 3_000, date(2026, 2, 1))
    ledger.record_payment(
        account_id=account.id, amount_pence=4_000, method=PaymentMethod.CHEQUE, actor=SYSTEM
    )
    assert balances.invoice_outstanding(older.id) == 0
    assert balances.invoice_outstanding(newer.id) == 4_000
    assert balances.account_balance(account.id) == 4_000


def test_the_same_payment_reference_twice_is_one_payment(book, db):
    account, _, invoice = book
    invoice("A1", 5_000, date(2026, 2, 1))
    first = ledger.record_payment(
        account_id=account.id,
        amount_pence=2_000,
        method=PaymentMethod.CARD,
        external_reference="pi_123",
        actor=SYSTEM,
    )
    second = ledger.record_payment(
        account_id=account.id,
        amount_pence=2_000,
        method=PaymentMethod.CARD,
        external_reference="pi_123",
        actor=SYSTEM,
    )
    assert first.created and not second.created
    assert second.entry.id == first.entry.id
    assert count(db, LedgerEntry) == 2  # the invoice and one payment
    assert balances.account_balance(account.id) == 3_000


def test_a_reference_reused_for_a_different_amount_is_refused_and_changes_nothing(book, db):
    account, _, invoice = book
    ledger.record_payment(
        account_id=account.id,
        amount_pence=2_000,
        method=PaymentMethod.CARD,
        external_reference="pi_9",
        actor=SYSTEM,
    )
    with pytest.raises(Conflict, match="already used"):
        ledger.record_payment(
            account_id=account.id,
            amount_pence=2_500,
            method=PaymentMethod.CARD,
            external_reference="pi_9",
            actor=SYSTEM,
        )
    assert balances.account_balance(account.id) == -2_000


def test_an_overpayment_stays_on_the_account_as_unallocated_credit(book):
    account, _, invoice = book
    inv = invoice("A1", 1_000, date(2026, 2, 1))
    ledger.record_payment(
        account_id=account.id, amount_pence=1_500, method=PaymentMethod.BANK_TRANSFER, actor=SYSTEM
    )
    assert balances.invoice_outstanding(inv.id) == 0
    assert balances.unallocated_credit(account.id) == 500
    assert balances.account_balance(account.id) == -500


def test_spare_credit_is_applied_to_a_later_invoice_when_allocated(book):
    account, _, invoice = book
    payment = ledger.record_payment(
        account_id=account.id, amount_pence=700, method=PaymentMethod.CASH, actor=SYSTEM
    ).entry
    inv = invoice("A1", 1_000, date(2026, 2, 1))
    ledger.allocate(credit_entry_id=payment.id, actor=SYSTEM)
    assert balances.invoice_outstanding(inv.id) == 300
    assert balances.unallocated_credit(account.id) == 0


def test_the_payer_may_split_a_payment_across_chosen_invoices(book):
    account, _, invoice = book
    a = invoice("A1", 1_000, date(2026, 2, 1))
    b = invoice("B1", 2_000, date(2026, 3, 1))
    ledger.record_payment(
        account_id=account.id,
        amount_pence=1_500,
        method=PaymentMethod.CARD,
        allocations=[(b.id, 1_200), (a.id, 300)],
        actor=SYSTEM,
    )
    assert balances.invoice_outstanding(a.id) == 700
    assert balances.invoice_outstanding(b.id) == 800


def test_a_chosen_amount_above_what_is_owed_is_refused_and_nothing_is_recorded(book, db):
    account, _, invoice = book
    a = invoice("A1", 1_000, date(2026, 2, 1))
    before = count(db, LedgerEntry), count(db, Allocation), count(db, AuditLog)
    with pytest.raises(InvalidRequest, match="only 1000p outstanding"):
        ledger.record_payment(
            account_id=account.id,
            amount_pence=1_100,
            method=PaymentMethod.CARD,
            allocations=[(a.id, 1_100)],
            actor=SYSTEM,
        )
    assert (count(db, LedgerEntry), count(db, Allocation), count(db, AuditLog)) == before


@pytest.mark.parametrize("amount", [0, -100, 12.5, True])
def test_payments_must_be_positive_whole_pence(book, amount):
    account, _, _ = book
    with pytest.raises(InvalidRequest):
        ledger.record_payment(
            account_id=account.id, amount_pence=amount, method=PaymentMethod.CASH, actor=SYSTEM
        )


def test_a_credit_note_on_a_paid_invoice_becomes_refundable_credit(book):
    account, _, invoice = book
    inv = invoice("A1", 1_000, date(2026, 2, 1))
    ledger.record_payment(
        account_id=account.id, amount_pence=1_000, method=PaymentMethod.CARD, actor=SYSTEM
    )
    note = ledger.raise_credit_note(
        invoice_id=inv.id, amount_pence=400, reason="Overcharged", actor=SYSTEM
    )
    assert balances.unallocated_credit(account.id) == 400
    ledger.refund(
        source_entry_id=note.id, amount_pence=400, reason="Overcharge returned", actor=SYSTEM
    )
    assert balances.account_balance(account.id) == 0
    assert ledger_discrepancies([account.id]) == []


def test_an_invoice_cannot_be_credited_or_written_off_beyond_what_remains(book):
    account, _, invoice = book
    inv = invoice("A1", 1_000, date(2026, 2, 1))
    ledger.write_off(invoice_id=inv.id, amount_pence=600, reason="Uneconomical", actor=SYSTEM)
    with pytest.raises(InvalidRequest, match="at most £4.00"):
        ledger.raise_credit_note(invoice_id=inv.id, amount_pence=500, reason="x", actor=SYSTEM)
    with pytest.raises(InvalidRequest, match="only £4.00 outstanding"):
        ledger.write_off(invoice_id=inv.id, amount_pence=401, reason="x", actor=SYSTEM)


def test_a_refund_cannot_exceed_the_unallocated_part_of_its_payment(book):
    account, _, invoice = book
    invoice("A1", 1_000, date(2026, 2, 1))
    payment = ledger.record_payment(
        account_id=account.id, amount_pence=1_200, method=PaymentMethod.CARD, actor=SYSTEM
    ).entry
    with pytest.raises(InvalidRequest, match="Only £2.00"):
        ledger.refund(source_entry_id=payment.id, amount_pence=201, reason="x", actor=SYSTEM)


def test_a_returned_direct_debit_reverses_the_payment_and_the_invoice_owes_again(book, db):
    account, _, invoice = book
    inv = invoice("A1", 1_000, date(2026, 2, 1))
    payment = ledger.record_payment(
        account_id=account.id, amount_pence=1_000, method=PaymentMethod.DIRECT_DEBIT, actor=SYSTEM
    ).entry
    reversal = ledger.reverse(entry_id=payment.id, reason="ARUDD 0 refer to payer", actor=SYSTEM)
    again = ledger.reverse(entry_id=payment.id, reason="ARUDD 0 refer to payer", actor=SYSTEM)
    assert again.id == reversal.id
    assert reversal.kind == EntryKind.REVERSAL and reversal.amount_pence == 1_000
    assert balances.invoice_outstanding(inv.id) == 1_000
    assert balances.account_balance(account.id) == 1_000
    with pytest.raises(InvalidRequest, match="nothing left to allocate"):
        ledger.allocate(credit_entry_id=payment.id, actor=SYSTEM)
    assert ledger_discrepancies() == []


def test_credit_paid_to_the_wrong_account_can_be_transferred(book):
    account, _, invoice = book
    other = make_account(surname="Jones")
    payment = ledger.record_payment(
        account_id=account.id, amount_pence=900, method=PaymentMethod.BANK_TRANSFER, actor=SYSTEM
    ).entry
    ledger.transfer_credit(
        source_entry_id=payment.id,
        to_account_id=other.id,
        amount_pence=900,
        reason="Paid against the wrong reference",
        actor=SYSTEM,
    )
    assert balances.account_balance(account.id) == 0
    assert balances.account_balance(other.id) == -900
    assert balances.unallocated_credit(other.id) == 900
    assert ledger_discrepancies() == []


# --- default allocation: holds and payment plans (issue 11, item 11) ---------------------


def _hold(account, officer, kind, invoice_id, today):
    from shared.domain.holds import HoldTerms
    from shared.services import holds

    return holds.place_hold(
        account.id,
        HoldTerms(kind, today, today + timedelta(days=28)),
        "Says the service was not provided",
        staff(officer.id),
        today=today,
        invoice_id=invoice_id,
    )


def test_a_payment_nobody_allocated_leaves_a_disputed_invoice_alone(book):
    account, officer, invoice = book
    disputed = invoice("D1", 3_000, date(2026, 2, 1))  # the oldest
    queried = invoice("Q1", 1_000, date(2026, 2, 15))
    newer = invoice("N1", 5_000, date(2026, 3, 1))
    today = TODAY
    _hold(account, officer, "dispute", disputed.id, today)
    _hold(account, officer, "query", queried.id, today)

    ledger.record_payment(
        account_id=account.id, amount_pence=4_000, method=PaymentMethod.CHEQUE, actor=SYSTEM
    )

    assert balances.invoice_outstanding(disputed.id) == 3_000
    assert balances.invoice_outstanding(queried.id) == 1_000
    assert balances.invoice_outstanding(newer.id) == 1_000


def test_money_left_when_every_unheld_invoice_is_paid_stays_as_unallocated_credit(book):
    account, officer, invoice = book
    disputed = invoice("D1", 3_000, date(2026, 2, 1))
    other = invoice("N1", 1_000, date(2026, 3, 1))
    _hold(account, officer, "dispute", disputed.id, TODAY)

    ledger.record_payment(
        account_id=account.id, amount_pence=2_500, method=PaymentMethod.CHEQUE, actor=SYSTEM
    )

    assert balances.invoice_outstanding(other.id) == 0
    assert balances.invoice_outstanding(disputed.id) == 3_000
    assert balances.unallocated_credit(account.id) == 1_500


def test_an_officer_may_still_allocate_to_a_disputed_invoice_by_choosing_it(book):
    account, officer, invoice = book
    disputed = invoice("D1", 3_000, date(2026, 2, 1))
    _hold(account, officer, "dispute", disputed.id, TODAY)

    ledger.record_payment(
        account_id=account.id,
        amount_pence=1_000,
        method=PaymentMethod.CHEQUE,
        allocations=[(disputed.id, 1_000)],
        actor=staff(officer.id),
    )

    assert balances.invoice_outstanding(disputed.id) == 2_000


def test_a_promise_to_pay_does_not_hold_money_back_from_its_invoice(book):
    account, officer, invoice = book
    promised = invoice("P1", 3_000, date(2026, 2, 1))
    from shared.domain.holds import HoldTerms
    from shared.services import holds

    today = TODAY
    holds.place_hold(
        account.id,
        HoldTerms(
            "promise_to_pay",
            today,
            promise_date=today + timedelta(days=7),
            promise_amount_pence=3_000,
        ),
        "Will pay on Friday",
        staff(officer.id),
        today=today,
        invoice_id=promised.id,
    )

    ledger.record_payment(
        account_id=account.id, amount_pence=3_000, method=PaymentMethod.CHEQUE, actor=SYSTEM
    )

    assert balances.invoice_outstanding(promised.id) == 0


def test_a_payment_from_a_debtor_in_a_plan_goes_to_the_plans_invoices_first(book):
    from shared.models import Frequency, PaymentRoute
    from shared.services import plans

    account, _, invoice = book
    older = invoice("O1", 2_000, date(2026, 1, 15))  # oldest, not in the plan
    planned = invoice("P1", 3_000, date(2026, 3, 1))
    newest = invoice("N1", 1_000, date(2026, 4, 1))
    plans.propose(
        account_id=account.id,
        invoice_ids=[planned.id],
        terms=plans.Terms(Frequency.MONTHLY, TODAY + timedelta(days=7), count=3),
        payment_route=PaymentRoute.CARD,
        actor=SYSTEM,
    )

    ledger.record_payment(
        account_id=account.id, amount_pence=4_000, method=PaymentMethod.CARD, actor=SYSTEM
    )

    # The plan's invoice first, then oldest first among the rest.
    assert balances.invoice_outstanding(planned.id) == 0
    assert balances.invoice_outstanding(older.id) == 1_000
    assert balances.invoice_outstanding(newest.id) == 1_000
