"""Refunds at their edges: what is refundable, a refund the card provider returned,
and the wording an officer sees when a refund is refused.

Found by mutation testing (docs/mutation-testing.md): each test pins a boundary or a
refusal that a small change to shared/services/ledger/ would otherwise get past.
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
def account(app):
    return make_account()


def _invoice(account, number: str, pence: int):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number=number,
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
        description="Service",
        lines=[ledger.LineInput("Service", 1, pence)],
        actor=SYSTEM,
    )


def _pay(account, pence: int, method=PaymentMethod.CARD, **kw) -> LedgerEntry:
    return ledger.record_payment(
        account_id=account.id, amount_pence=pence, method=method, actor=SYSTEM, **kw
    ).entry


def _refund(source: LedgerEntry, pence: int) -> LedgerEntry:
    return ledger.refund(
        source_entry_id=source.id, amount_pence=pence, reason="Overpaid", actor=SYSTEM
    )


def _summaries(db, account) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(ContactEvent.summary)
            .where(ContactEvent.account_id == account.id)
            .order_by(ContactEvent.id)
        )
    )


# --- refundable_available: the figure the refund approval form offers ----------------------


def test_only_the_unallocated_part_of_a_payment_is_refundable(account):
    _invoice(account, "A1", 1_000)
    payment = _pay(account, 1_250)
    assert ledger.refundable_available(payment.id) == 250


def test_what_was_already_refunded_is_not_refundable_again(account):
    payment = _pay(account, 900)
    _refund(payment, 400)
    assert ledger.refundable_available(payment.id) == 500


def test_a_spare_credit_note_is_refundable_in_full(account):
    invoice = _invoice(account, "A1", 1_000)
    _pay(account, 1_000)
    note = ledger.raise_credit_note(
        invoice_id=invoice.id, amount_pence=300, reason="Overcharged", actor=SYSTEM
    )
    assert ledger.refundable_available(note.id) == 300


def test_an_invoice_is_a_debt_not_credit_and_is_never_offered_as_refundable(account, db):
    invoice = _invoice(account, "A1", 1_000)
    entry_id = db.session.scalar(
        sa.select(LedgerEntry.id).where(LedgerEntry.invoice_id == invoice.id)
    )
    with pytest.raises(InvalidRequest, match="Only a payment, credit note or credit adjustment"):
        ledger.refundable_available(entry_id)


def test_a_refund_cannot_itself_be_refunded(account):
    refund = _refund(_pay(account, 500), 500)
    with pytest.raises(InvalidRequest, match="Only a payment, credit note or credit adjustment"):
        ledger.refundable_available(refund.id)


def test_a_write_off_is_not_money_and_cannot_be_refunded(account):
    invoice = _invoice(account, "A1", 1_000)
    write_off = ledger.write_off(
        invoice_id=invoice.id, amount_pence=1_000, reason="Uneconomical", actor=SYSTEM
    )
    with pytest.raises(InvalidRequest, match="Only a payment, credit note or credit adjustment"):
        ledger.refundable_available(write_off.id)


def test_the_refundable_figure_for_a_missing_entry_says_which(app):
    with pytest.raises(NotFound, match="No ledger entry 987654"):
        ledger.refundable_available(987_654)


# --- post_refund_returned: the card provider refused the refund for good -----------------


def _returned(db, refund: LedgerEntry, reason="Card refund refused: card expired"):
    entry = ledger.post_refund_returned(refund_entry_id=refund.id, reason=reason, actor=SYSTEM)
    db.session.commit()
    return entry


def test_a_returned_refund_puts_its_money_back_on_the_account_as_credit(account, db):
    payment = _pay(account, 1_500)
    refund = _refund(payment, 1_500)
    assert balances.account_balance(account.id) == 0

    returned = _returned(db, refund)

    assert returned.kind == EntryKind.ADJUSTMENT
    assert returned.amount_pence == -1_500
    assert returned.reverses_entry_id == refund.id
    assert returned.effective_date == TODAY
    assert returned.reason == "Card refund refused: card expired"
    assert balances.account_balance(account.id) == -1_500
    assert balances.unallocated_credit(account.id) == 1_500
    # The payment's refunded amount stays drawn: the new credit is what can be spent.
    assert ledger.refundable_available(payment.id) == 0
    assert ledger.refundable_available(returned.id) == 1_500
    assert ledger_discrepancies([account.id]) == []


def test_a_returned_refund_is_on_the_timeline_and_in_the_audit(account, db):
    refund = _refund(_pay(account, 2_050), 2_050)

    returned = _returned(db, refund)

    assert _summaries(db, account)[-1] == (
        "Refund of £20.50 not made: the money is credit on the account again"
    )
    event = db.session.scalars(
        sa.select(ContactEvent).where(ContactEvent.account_id == account.id)
    ).all()[-1]
    assert event.detail == "Card refund refused: card expired"
    audit = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "refund.returned")
    ).one()
    assert (audit.object_type, audit.object_id) == ("ledger_entry", str(returned.id))
    assert audit.account_id == account.id
    assert audit.after == {"refund_entry_id": refund.id, "amount_pence": 2_050}


def test_a_refund_returned_twice_is_put_back_once(account, db):
    refund = _refund(_pay(account, 700), 700)
    first = _returned(db, refund)
    second = _returned(db, refund, reason="the provider's second notice")
    assert second.id == first.id
    assert balances.account_balance(account.id) == -700
    kinds = db.session.scalars(
        sa.select(LedgerEntry.kind).where(LedgerEntry.reverses_entry_id == refund.id)
    ).all()
    assert kinds == [EntryKind.ADJUSTMENT]


def test_only_a_refund_can_be_returned(account, db):
    payment = _pay(account, 700)
    with pytest.raises(NotFound, match=f"No refund entry {payment.id}"):
        ledger.post_refund_returned(refund_entry_id=payment.id, reason="x", actor=SYSTEM)
    with pytest.raises(NotFound, match="No refund entry 987654"):
        ledger.post_refund_returned(refund_entry_id=987_654, reason="x", actor=SYSTEM)


def test_a_returned_refund_needs_a_reason_and_keeps_at_most_300_characters(account, db):
    refund = _refund(_pay(account, 700), 700)
    with pytest.raises(InvalidRequest, match="Give a reason for the returned refund"):
        ledger.post_refund_returned(refund_entry_id=refund.id, reason="  ", actor=SYSTEM)
    db.session.rollback()
    long_reason = "provider said no; " * 30
    returned = _returned(db, refund, reason=long_reason)
    assert returned.reason == long_reason.strip()[:300]
    assert len(returned.reason) == 300


def test_an_officers_returned_refund_names_the_officer(account, db):
    officer = make_staff()
    refund = _refund(_pay(account, 700), 700)
    entry = ledger.post_refund_returned(
        refund_entry_id=refund.id, reason="Bank closed", actor=staff(officer.id)
    )
    db.session.commit()
    assert entry.created_by_staff_id == officer.id


# --- which credit may be refunded, moved or allocated -------------------------------------
# A write-off, a verified hand payment and another account's unverified one tell apart
# variants of these checks that an invoice's entry (refused by every variant) does not.

ONLY_CREDIT = "^Only a payment, credit note or credit adjustment can be refunded$"


@pytest.fixture
def officer(app):
    return make_staff()


def _by_hand(account, officer, pence: int, method=PaymentMethod.CASH):
    return payment_checks.record_manual_payment(
        account_id=account.id,
        amount_pence=pence,
        method=method,
        actor=staff(officer.id),
        effective_date=date(2026, 6, 3),
    )


def test_a_write_off_is_credit_on_the_ledger_but_can_never_be_refunded(account):
    invoice = _invoice(account, "A1", 1_000)
    written_off = ledger.write_off(
        invoice_id=invoice.id, amount_pence=400, reason="Uneconomical", actor=SYSTEM
    )
    with pytest.raises(InvalidRequest, match=ONLY_CREDIT):
        ledger.refundable_available(written_off.id)
    with pytest.raises(InvalidRequest, match=ONLY_CREDIT):
        ledger.refund(source_entry_id=written_off.id, amount_pence=1, reason="x", actor=SYSTEM)
    assert balances.account_balance(account.id) == 600


def test_an_invoice_entry_cannot_be_allocated_as_if_it_were_credit(account, db):
    invoice = _invoice(account, "A1", 1_000)
    debit = db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.invoice_id == invoice.id))
    with pytest.raises(InvalidRequest, match="^That entry is not a credit$"):
        ledger.allocate(credit_entry_id=debit.id, actor=SYSTEM)


def test_a_verified_hand_payment_can_be_refunded(account, officer):
    recorded = _by_hand(account, officer, 2_000, method=PaymentMethod.BANK_TRANSFER)
    payment_checks.verify_payment(entry_id=recorded.entry.id, actor=staff(make_staff().id))

    refund = ledger.refund(
        source_entry_id=recorded.entry.id, amount_pence=2_000, reason="Paid twice", actor=SYSTEM
    )

    assert refund.amount_pence == 2_000
    assert balances.unallocated_credit(account.id) == 0


def test_another_accounts_unverified_payment_does_not_stop_this_refund(account, officer):
    neighbour = make_account(surname="Jones")
    assert _by_hand(neighbour, officer, 5_000).unverified
    paid = ledger.record_payment(
        account_id=account.id, amount_pence=700, method=PaymentMethod.CARD, actor=SYSTEM
    ).entry

    ledger.refund(source_entry_id=paid.id, amount_pence=700, reason="x", actor=SYSTEM)

    assert balances.unallocated_credit(account.id) == 0
    assert balances.unallocated_credit(neighbour.id) == 5_000


def test_an_unverified_bank_transfer_is_named_in_words_when_its_refund_is_refused(account, officer):
    recorded = _by_hand(account, officer, 1_500, method=PaymentMethod.BANK_TRANSFER)
    with pytest.raises(ledger.UnverifiedCredit) as refused:
        ledger.refund(source_entry_id=recorded.entry.id, amount_pence=1, reason="x", actor=SYSTEM)
    assert str(refused.value).startswith(
        "The bank transfer payment of £15.00 received on 3 June 2026 has not been verified"
    )


def test_a_new_account_owes_nothing_and_has_no_credit(account):
    assert balances.account_balance(account.id) == 0
    assert balances.unallocated_credit(account.id) == 0


def test_credit_on_another_account_is_not_this_accounts_credit(account):
    neighbour = make_account(surname="Jones")
    ledger.record_payment(
        account_id=neighbour.id, amount_pence=900, method=PaymentMethod.CARD, actor=SYSTEM
    )
    assert balances.unallocated_credit(account.id) == 0
    assert balances.unallocated_credit(neighbour.id) == 900


def test_what_a_missing_invoice_owes_is_refused_naming_it(app):
    with pytest.raises(LookupError, match="^no invoice 987654$"):
        balances.invoice_outstanding(987_654)


def test_credit_moved_to_another_account_leaves_only_what_remains_as_credit_here(account):
    neighbour = make_account(surname="Jones")
    payment = _pay(account, 900)
    ledger.transfer_credit(
        source_entry_id=payment.id,
        to_account_id=neighbour.id,
        amount_pence=600,
        reason="Wrong account",
        actor=SYSTEM,
    )
    assert balances.unallocated_credit(account.id) == 300
    assert balances.unallocated_credit(neighbour.id) == 600


def test_each_credit_is_listed_with_its_kind(account):
    invoice = _invoice(account, "A1", 1_000)
    payment = _pay(account, 200)
    note = ledger.raise_credit_note(
        invoice_id=invoice.id, amount_pence=100, reason="Overcharged", actor=SYSTEM
    )
    assert [(c.entry_id, c.kind) for c in balances.credit_values(account.id)] == [
        (payment.id, EntryKind.PAYMENT),
        (note.id, EntryKind.CREDIT_NOTE),
    ]
