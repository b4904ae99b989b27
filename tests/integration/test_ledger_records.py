"""What each ledger change writes down (the entry, the timeline, the audit row) and where
its limits fall to the penny.

Found by mutation testing (docs/mutation-testing.md): the example tests in
test_ledger_services.py check balances, so a credit note that lost its reason, a
write-off audited under the wrong action or a limit off by a penny still passed them.
An auditor reads these rows; an officer reads the refusals.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from shared.models import AuditLog, ContactEvent, EntryKind, LedgerEntry, PaymentMethod
from shared.reports.reconciliation import ledger_discrepancies
from shared.services import balances, ledger, payment_checks
from shared.services.actors import SYSTEM, staff
from shared.services.errors import InvalidRequest, NotFound
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock


@pytest.fixture
def officer(app):
    return make_staff()


@pytest.fixture
def account(app):
    return make_account()


def _invoice(account, number: str, pence: int, due=date(2026, 1, 31)):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number=number,
        issue_date=date(2026, 1, 1),
        due_date=due,
        description="Service",
        lines=[ledger.LineInput("Service", 1, pence)],
        actor=SYSTEM,
    )


def _pay(account, pence: int, **kw) -> LedgerEntry:
    kw.setdefault("method", PaymentMethod.CARD)
    return ledger.record_payment(
        account_id=account.id, amount_pence=pence, actor=SYSTEM, **kw
    ).entry


def _last_event(db, account) -> ContactEvent:
    return db.session.scalars(
        sa.select(ContactEvent)
        .where(ContactEvent.account_id == account.id)
        .order_by(ContactEvent.id.desc())
    ).first()


def _audit(db, action: str) -> AuditLog:
    return db.session.scalars(sa.select(AuditLog).where(AuditLog.action == action)).one()


def _allocations(entry: LedgerEntry) -> list[tuple[int, int]]:
    return sorted((a.invoice_id, a.amount_pence) for a in entry.allocations)


# --- credit notes -----------------------------------------------------------------------


def test_a_credit_note_records_its_reason_the_officer_and_the_audit(account, officer, db):
    invoice = _invoice(account, "A1", 1_000)
    note = ledger.raise_credit_note(
        invoice_id=invoice.id, amount_pence=250, reason=" Overcharged ", actor=staff(officer.id)
    )
    assert (note.kind, note.amount_pence, note.invoice_id) == (
        EntryKind.CREDIT_NOTE,
        -250,
        invoice.id,
    )
    assert (note.reason, note.created_by_staff_id, note.effective_date) == (
        "Overcharged",
        officer.id,
        TODAY,
    )
    assert _allocations(note) == [(invoice.id, 250)]
    event = _last_event(db, account)
    assert (event.summary, event.detail) == (
        "Credit note of £2.50 against invoice A1",
        "Overcharged",
    )
    audit = _audit(db, "credit_note.raised")
    assert (audit.object_type, audit.object_id, audit.account_id) == (
        "ledger_entry",
        str(note.id),
        account.id,
    )
    assert audit.after == {"invoice_id": invoice.id, "amount_pence": 250, "reason": "Overcharged"}


def test_a_credit_note_may_take_an_invoice_to_exactly_nothing_but_not_a_penny_below(account):
    invoice = _invoice(account, "A1", 1_000)
    ledger.raise_credit_note(invoice_id=invoice.id, amount_pence=999, reason="x", actor=SYSTEM)
    with pytest.raises(InvalidRequest, match="^Invoice A1 can be credited by at most £0.01$"):
        ledger.raise_credit_note(invoice_id=invoice.id, amount_pence=2, reason="x", actor=SYSTEM)
    ledger.raise_credit_note(invoice_id=invoice.id, amount_pence=1, reason="x", actor=SYSTEM)
    assert balances.invoice_outstanding(invoice.id) == 0


def test_a_credit_note_on_an_invoice_owing_one_penny_settles_that_penny(account):
    invoice = _invoice(account, "A1", 1_000)
    _pay(account, 999)
    note = ledger.raise_credit_note(invoice_id=invoice.id, amount_pence=5, reason="x", actor=SYSTEM)
    assert _allocations(note) == [(invoice.id, 1)]
    assert balances.unallocated_credit(account.id) == 4


def test_a_reversed_credit_note_can_be_credited_again(account):
    invoice = _invoice(account, "A1", 1_000)
    note = ledger.raise_credit_note(
        invoice_id=invoice.id, amount_pence=1_000, reason="In error", actor=SYSTEM
    )
    ledger.reverse(entry_id=note.id, reason="Credited in error", actor=SYSTEM)
    assert ledger.creditable_pence(invoice) == 1_000


def test_what_one_invoice_may_be_credited_ignores_credit_on_another(account):
    first = _invoice(account, "A1", 1_000)
    second = _invoice(account, "A2", 1_000)
    ledger.raise_credit_note(invoice_id=first.id, amount_pence=600, reason="x", actor=SYSTEM)
    assert ledger.creditable_pence(second) == 1_000
    assert ledger.creditable_pence(first) == 400


@pytest.mark.parametrize(
    ("action", "word"),
    [("credit", "credit note"), ("write_off", "write-off"), ("refund", "refund")],
)
def test_each_reduction_needs_a_reason_and_names_itself_when_one_is_missing(account, action, word):
    invoice = _invoice(account, "A1", 1_000)
    payment = _pay(account, 1_500)
    calls = {
        "credit": lambda reason: ledger.raise_credit_note(
            invoice_id=invoice.id, amount_pence=100, reason=reason, actor=SYSTEM
        ),
        "write_off": lambda reason: ledger.write_off(
            invoice_id=invoice.id, amount_pence=100, reason=reason, actor=SYSTEM
        ),
        "refund": lambda reason: ledger.refund(
            source_entry_id=payment.id, amount_pence=100, reason=reason, actor=SYSTEM
        ),
    }
    for blank in (None, "", "   "):
        with pytest.raises(InvalidRequest, match=f"^Give a reason for the {word}$"):
            calls[action](blank)


def test_reductions_of_a_missing_invoice_say_which(app):
    with pytest.raises(NotFound, match="^No invoice 987654$"):
        ledger.raise_credit_note(invoice_id=987_654, amount_pence=1, reason="x", actor=SYSTEM)
    with pytest.raises(NotFound, match="^No invoice 987654$"):
        ledger.write_off(invoice_id=987_654, amount_pence=1, reason="x", actor=SYSTEM)


# --- write-offs -------------------------------------------------------------------------


def test_a_write_off_records_its_reason_the_officer_and_the_audit(account, officer, db):
    invoice = _invoice(account, "A1", 1_000)
    entry = ledger.write_off(
        invoice_id=invoice.id, amount_pence=1_000, reason="Uneconomical", actor=staff(officer.id)
    )
    assert (entry.kind, entry.amount_pence, entry.invoice_id, entry.reason) == (
        EntryKind.WRITE_OFF,
        -1_000,
        invoice.id,
        "Uneconomical",
    )
    assert entry.created_by_staff_id == officer.id
    assert _allocations(entry) == [(invoice.id, 1_000)]
    event = _last_event(db, account)
    assert (event.summary, event.detail) == ("£10.00 written off invoice A1", "Uneconomical")
    audit = _audit(db, "write_off.made")
    assert (audit.object_id, audit.account_id) == (str(entry.id), account.id)
    assert audit.after == {
        "invoice_id": invoice.id,
        "amount_pence": 1_000,
        "reason": "Uneconomical",
    }
    assert balances.invoice_outstanding(invoice.id) == 0


def test_a_write_off_may_take_exactly_what_is_owed_and_not_a_penny_more(account):
    invoice = _invoice(account, "A1", 1_000)
    _pay(account, 400)
    with pytest.raises(
        InvalidRequest, match="^Invoice A1 has only £6.00 outstanding to write off$"
    ):
        ledger.write_off(invoice_id=invoice.id, amount_pence=601, reason="x", actor=SYSTEM)
    ledger.write_off(invoice_id=invoice.id, amount_pence=600, reason="x", actor=SYSTEM)
    assert balances.account_balance(account.id) == 0


# --- refunds ----------------------------------------------------------------------------


def test_a_refund_records_the_payments_method_its_reference_and_reason(account, officer, db):
    payment = _pay(account, 1_200, method=PaymentMethod.BANK_TRANSFER)
    entry = ledger.refund(
        source_entry_id=payment.id,
        amount_pence=1_200,
        reason="Paid twice",
        actor=staff(officer.id),
        external_reference="BACS-REF-1",
    )
    assert (entry.kind, entry.amount_pence, entry.source_entry_id) == (
        EntryKind.REFUND,
        1_200,
        payment.id,
    )
    assert (entry.method, entry.external_reference, entry.reason) == (
        PaymentMethod.BANK_TRANSFER,
        "BACS-REF-1",
        "Paid twice",
    )
    event = _last_event(db, account)
    assert (event.summary, event.detail) == ("Refund of £12.00", "Paid twice")
    audit = _audit(db, "refund.made")
    assert (audit.object_id, audit.account_id) == (str(entry.id), account.id)
    assert audit.after == {"source_entry_id": payment.id, "amount_pence": 1_200}


def test_a_refund_may_pay_back_exactly_what_is_unallocated(account):
    _invoice(account, "A1", 1_000)
    payment = _pay(account, 1_300)
    with pytest.raises(InvalidRequest, match="^Only £3.00 of that credit is unallocated and"):
        ledger.refund(source_entry_id=payment.id, amount_pence=301, reason="x", actor=SYSTEM)
    ledger.refund(source_entry_id=payment.id, amount_pence=300, reason="x", actor=SYSTEM)
    assert balances.account_balance(account.id) == 0


def test_only_credit_can_be_refunded_and_a_missing_entry_is_named(account, db):
    invoice = _invoice(account, "A1", 1_000)
    invoice_entry = db.session.scalar(
        sa.select(LedgerEntry).where(LedgerEntry.invoice_id == invoice.id)
    )
    with pytest.raises(
        InvalidRequest,
        match="^Only a payment, credit note or credit adjustment can be refunded$",
    ):
        ledger.refund(source_entry_id=invoice_entry.id, amount_pence=1, reason="x", actor=SYSTEM)
    with pytest.raises(NotFound, match="^No ledger entry 987654$"):
        ledger.refund(source_entry_id=987_654, amount_pence=1, reason="x", actor=SYSTEM)


def test_credit_moved_in_from_another_account_can_be_refunded(account):
    other = make_account(surname="Jones")
    payment = _pay(other, 800)
    _, moved_in = ledger.transfer_credit(
        source_entry_id=payment.id,
        to_account_id=account.id,
        amount_pence=800,
        reason="Wrong account",
        actor=SYSTEM,
    )
    ledger.refund(source_entry_id=moved_in.id, amount_pence=800, reason="x", actor=SYSTEM)
    assert balances.account_balance(account.id) == 0


def test_an_unverified_hand_payment_cannot_be_refunded_or_moved_saying_why(account, officer):
    recorded = payment_checks.record_manual_payment(
        account_id=account.id,
        amount_pence=5_000,
        method=PaymentMethod.CASH,
        actor=staff(officer.id),
        effective_date=date(2026, 6, 3),
    )
    assert recorded.unverified
    waiting = (
        "The cash payment of £50.00 received on 3 June 2026 has not been verified yet: "
        "another officer must confirm it on the Unverified payments page before its "
        "credit can be "
    )
    with pytest.raises(ledger.UnverifiedCredit) as refused:
        ledger.refund(source_entry_id=recorded.entry.id, amount_pence=1, reason="x", actor=SYSTEM)
    assert str(refused.value) == waiting + "refunded"
    with pytest.raises(ledger.UnverifiedCredit) as refused:
        ledger.transfer_credit(
            source_entry_id=recorded.entry.id,
            to_account_id=make_account().id,
            amount_pence=1,
            reason="x",
            actor=SYSTEM,
        )
    assert str(refused.value) == waiting + "moved to another account"


# --- payments ---------------------------------------------------------------------------


def test_a_payment_records_its_method_reference_date_and_note(account, db):
    invoice = _invoice(account, "A1", 1_000)
    result = ledger.record_payment(
        account_id=account.id,
        amount_pence=1_250,
        method=PaymentMethod.DIRECT_DEBIT,
        actor=SYSTEM,
        external_reference="  DD-77 ",
        effective_date=date(2026, 6, 1),
        note="First collection",
    )
    entry = result.entry
    assert result.created is True
    assert (entry.method, entry.external_reference, entry.effective_date, entry.reason) == (
        PaymentMethod.DIRECT_DEBIT,
        "DD-77",
        date(2026, 6, 1),
        "First collection",
    )
    assert _last_event(db, account).summary == (
        "Payment of £12.50 received by direct debit (£2.50 held as credit)"
    )
    audit = _audit(db, "payment.recorded")
    assert audit.after == {
        "amount_pence": 1_250,
        "method": "direct_debit",
        "external_reference": "DD-77",
        "allocations": [[invoice.id, 1_000]],
    }
    again = ledger.record_payment(
        account_id=account.id,
        amount_pence=1_250,
        method=PaymentMethod.DIRECT_DEBIT,
        actor=SYSTEM,
        external_reference="DD-77",
    )
    assert again.created is False and again.entry.id == entry.id


def test_a_payment_that_settles_everything_says_nothing_about_credit(account, db):
    _invoice(account, "A1", 1_000)
    entry = _pay(account, 1_000)
    assert entry.effective_date == TODAY
    assert entry.external_reference is None
    assert _last_event(db, account).summary == "Payment of £10.00 received by card"


# --- reversals and transfers ------------------------------------------------------------


def test_a_reversal_takes_back_what_remains_after_a_refund_and_records_why(account, db):
    invoice = _invoice(account, "A1", 1_000)
    payment = _pay(account, 1_500)
    ledger.refund(source_entry_id=payment.id, amount_pence=200, reason="x", actor=SYSTEM)
    reversal = ledger.reverse(entry_id=payment.id, reason="Chargeback", actor=SYSTEM)
    assert (reversal.kind, reversal.amount_pence, reversal.reason) == (
        EntryKind.REVERSAL,
        1_300,
        "Chargeback",
    )
    assert balances.invoice_outstanding(invoice.id) == 1_000
    assert _last_event(db, account).summary == "Payment of £15.00 reversed"
    audit = _audit(db, "entry.reversed")
    assert audit.after == {
        "reversal_entry_id": reversal.id,
        "amount_pence": 1_300,
        "reason": "Chargeback",
    }
    assert ledger_discrepancies([account.id]) == []


def test_a_credit_note_reversed_is_named_in_words(account, db):
    invoice = _invoice(account, "A1", 1_000)
    note = ledger.raise_credit_note(
        invoice_id=invoice.id, amount_pence=300, reason="x", actor=SYSTEM
    )
    ledger.reverse(entry_id=note.id, reason="In error", actor=SYSTEM)
    assert _last_event(db, account).summary == "Credit note of £3.00 reversed"
    assert balances.invoice_outstanding(invoice.id) == 1_000


def test_a_fully_refunded_payment_has_nothing_to_reverse(account):
    payment = _pay(account, 500)
    ledger.refund(source_entry_id=payment.id, amount_pence=500, reason="x", actor=SYSTEM)
    with pytest.raises(InvalidRequest, match="fully refunded or transferred; there is nothing"):
        ledger.reverse(entry_id=payment.id, reason="Chargeback", actor=SYSTEM)


def test_a_transfer_is_on_both_timelines_and_audited_once(account, db):
    other = make_account(surname="Jones", reference="T99000001")
    payment = _pay(account, 900)
    out_entry, in_entry = ledger.transfer_credit(
        source_entry_id=payment.id,
        to_account_id=other.id,
        amount_pence=600,
        reason="Wrong account",
        actor=SYSTEM,
    )
    assert (out_entry.amount_pence, out_entry.source_entry_id, out_entry.reason) == (
        600,
        payment.id,
        "Wrong account",
    )
    assert (in_entry.account_id, in_entry.amount_pence, in_entry.reason) == (
        other.id,
        -600,
        "Wrong account",
    )
    assert _last_event(db, account).summary == "Credit of £6.00 transferred to account T99000001"
    assert _last_event(db, other).summary == (
        f"Credit of £6.00 transferred from account {account.reference}"
    )
    audit = _audit(db, "credit.transferred")
    assert audit.after == {
        "to_account_id": other.id,
        "amount_pence": 600,
        "out_entry_id": out_entry.id,
        "in_entry_id": in_entry.id,
    }
    with pytest.raises(InvalidRequest, match="^Only £3.00 of that credit is unallocated$"):
        ledger.transfer_credit(
            source_entry_id=payment.id,
            to_account_id=other.id,
            amount_pence=301,
            reason="x",
            actor=SYSTEM,
        )


# --- amounts, accounts and who allocated ------------------------------------------------


def test_an_amount_that_is_not_whole_pence_or_not_above_nothing_is_refused_in_words(account):
    for amount, message in (
        (0, "^Amount must be more than £0$"),
        (1.5, "^Amount must be whole pence$"),
    ):
        with pytest.raises(InvalidRequest, match=message):
            _pay(account, amount)


def test_a_payment_to_a_missing_account_says_which(app):
    with pytest.raises(NotFound, match="^No debtor account 987654$"):
        ledger.record_payment(
            account_id=987_654, amount_pence=100, method=PaymentMethod.CARD, actor=SYSTEM
        )


def test_an_officers_allocation_records_who_made_it_and_the_payment_is_audited_by_entry(
    account, officer, db
):
    invoice = _invoice(account, "A1", 1_000)
    payment = _pay(account, 300, allocations=[])
    rows = ledger.allocate(
        credit_entry_id=payment.id, allocations=[(invoice.id, 300)], actor=staff(officer.id)
    )
    assert [(r.invoice_id, r.amount_pence, r.created_by_staff_id) for r in rows] == [
        (invoice.id, 300, officer.id)
    ]
    assert _audit(db, "payment.recorded").object_id == str(payment.id)
