"""The unallocated payments queue follows the ledger: every way money becomes or stops
being unallocated moves the queue in the same commit, and the migration fills it
from the ledger as it was."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from shared.models import Allocation, PaymentMethod, UnallocatedCredit
from shared.reports.reconciliation import ledger_discrepancies
from shared.services import ledger, unallocated
from shared.services.actors import SYSTEM
from shared.services.errors import Conflict, InvalidRequest
from tests.factories import make_account, make_department

TODAY = date(2026, 3, 1)


@pytest.fixture
def book(app):
    account = make_account()
    department = make_department()

    def invoice(number, pence, *, on=None):
        return ledger.raise_invoice(
            account_id=(on or account).id,
            department_id=department.id,
            number=number,
            issue_date=date(2026, 1, 1),
            due_date=date(2026, 1, 31),
            description="Service",
            lines=[ledger.LineInput("Service", 1, pence)],
            actor=SYSTEM,
        )

    def pay(pence, *, on=None, **kw):
        return ledger.record_payment(
            account_id=(on or account).id,
            amount_pence=pence,
            method=PaymentMethod.BANK_TRANSFER,
            actor=SYSTEM,
            **kw,
        ).entry

    return account, invoice, pay


def queue(db) -> dict[int, int]:
    db.session.expire_all()
    return {
        row.credit_entry_id: row.unallocated_pence
        for row in db.session.scalars(sa.select(UnallocatedCredit))
    }


def test_an_overpayment_is_queued_with_its_remainder_and_a_fully_allocated_one_is_not(book, db):
    account, invoice, pay = book
    invoice("Q1", 10_000)

    exact = pay(6_000)
    over = pay(5_000, effective_date=date(2026, 2, 14))

    assert queue(db) == {over.id: 1_000}
    assert exact.id not in queue(db)
    row = db.session.get(UnallocatedCredit, over.id)
    assert (row.account_id, row.since) == (account.id, date(2026, 2, 14))
    assert ledger_discrepancies() == []


def test_allocating_part_then_the_rest_shrinks_the_row_then_removes_it(book, db):
    _, invoice, pay = book
    credit = pay(5_000)
    first = invoice("Q2", 2_000)
    second = invoice("Q3", 9_000)

    ledger.allocate(credit_entry_id=credit.id, actor=SYSTEM, allocations=[(first.id, 2_000)])
    assert queue(db) == {credit.id: 3_000}

    ledger.allocate(credit_entry_id=credit.id, actor=SYSTEM, allocations=[(second.id, 3_000)])
    assert queue(db) == {}
    assert ledger_discrepancies() == []


def test_an_allocation_first_written_by_the_commit_itself_moves_the_queue_in_that_commit(book, db):
    # The commit hook runs before commit's own last flush; an allocation that only
    # that flush writes must still be counted now, and nothing left for a later commit.
    _, invoice, pay = book
    credit = pay(5_000)
    owed = invoice("Q4", 2_000)
    db.session.add(Allocation(credit_entry_id=credit.id, invoice_id=owed.id, amount_pence=2_000))
    db.session.commit()

    assert queue(db) == {credit.id: 3_000}
    assert not db.session.info.get("unallocated_credits_touched")


def test_a_refund_a_transfer_and_a_reversal_each_move_the_queue(book, db):
    account, _, pay = book
    other = make_account()
    refunded, moved, returned = pay(3_000), pay(4_000), pay(2_500)

    ledger.refund(source_entry_id=refunded.id, amount_pence=1_000, reason="Asked", actor=SYSTEM)
    out_entry, in_entry = ledger.transfer_credit(
        source_entry_id=moved.id,
        to_account_id=other.id,
        amount_pence=4_000,
        reason="Paid to the wrong account",
        actor=SYSTEM,
    )
    ledger.reverse(entry_id=returned.id, reason="Returned by the bank", actor=SYSTEM)

    assert queue(db) == {refunded.id: 2_000, in_entry.id: 4_000}
    assert db.session.get(UnallocatedCredit, in_entry.id).account_id == other.id
    assert ledger_discrepancies() == []


def test_reversing_a_payment_that_paid_an_invoice_leaves_nothing_queued(book, db):
    _, invoice, pay = book
    invoice("Q4", 1_000)
    payment = pay(1_500)
    assert queue(db) == {payment.id: 500}

    ledger.reverse(entry_id=payment.id, reason="Chargeback", actor=SYSTEM)

    assert queue(db) == {}
    assert ledger_discrepancies() == []


def test_a_credit_note_beyond_what_is_owed_is_queued(book, db):
    _, invoice, pay = book
    paid = invoice("Q5", 4_000)
    pay(4_000)

    note = ledger.raise_credit_note(
        invoice_id=paid.id, amount_pence=1_500, reason="Overcharged", actor=SYSTEM
    )

    assert queue(db) == {note.id: 1_500}


def test_a_refused_allocation_leaves_the_queue_as_it_was(book, db):
    _, invoice, pay = book
    credit = pay(2_000)
    owed = invoice("Q6", 5_000)

    with pytest.raises(InvalidRequest):
        ledger.allocate(credit_entry_id=credit.id, actor=SYSTEM, allocations=[(owed.id, 2_001)])
    with pytest.raises(Conflict):
        ledger.allocate(
            credit_entry_id=credit.id,
            actor=SYSTEM,
            allocations=[(owed.id, 100)],
            expected_available_pence=1_999,
        )

    assert queue(db) == {credit.id: 2_000}


def test_the_reconciliation_report_notices_a_queue_that_disagrees_with_the_ledger(book, db):
    _, _, pay = book
    credit = pay(2_000)
    db.session.execute(
        sa.update(UnallocatedCredit)
        .where(UnallocatedCredit.credit_entry_id == credit.id)
        .values(unallocated_pence=5)
    )

    assert ledger_discrepancies() == [
        f"credit entry {credit.id}: 2000p unallocated but 5p in the unallocated payments queue"
    ]


def test_backfill_queues_credits_written_without_the_orm(book, db):
    account, _, _ = book
    entry_id = _raw_payment(db, account.id, 7_000)
    db.session.commit()
    assert queue(db) == {}

    assert unallocated.backfill(from_entry_id=entry_id) == 1
    db.session.commit()

    assert queue(db) == {entry_id: 7_000}
    assert unallocated.backfill() == 0  # already queued


def _raw_payment(db, account_id: int, pence: int, *, allocate_to: int | None = None) -> int:
    """A payment as a bulk load or an older release wrote it: straight into the tables."""
    entry_id = db.session.execute(
        sa.text(
            "INSERT INTO ledger_entries (account_id, kind, amount_pence, method, "
            "effective_date, created_at) VALUES (:a, 'payment', :p, 'cheque', '2026-01-05', "
            "'2026-01-05 10:00:00') RETURNING id"
        ),
        {"a": account_id, "p": -pence},
    ).scalar_one()
    if allocate_to is not None:
        db.session.execute(
            sa.text(
                "INSERT INTO allocations (credit_entry_id, invoice_id, amount_pence, created_at) "
                "VALUES (:e, :i, :p, '2026-01-05 10:00:00')"
            ),
            {"e": entry_id, "i": allocate_to, "p": pence},
        )
    return entry_id


def test_the_migration_fills_the_queue_from_the_ledger_already_there(book, db):
    account, invoice, _ = book
    owed = invoice("Q7", 3_000)
    # Read before going back: the models know columns the old schema lacks. And end the
    # session's transaction, whose read locks would block the downgrade's ALTER TABLE
    # on PostgreSQL.
    account_id, owed_id = account.id, owed.id
    db.session.close()
    downgrade(revision="0009-1")  # to just before the queue table
    # Written as the previous release would have: no queue table to keep in step.
    overpaid = _raw_payment(db, account_id, 4_500)
    settled = _raw_payment(db, account_id, 3_000, allocate_to=owed_id)
    db.session.commit()

    upgrade()

    assert queue(db) == {overpaid: 4_500}
    assert settled not in queue(db)
    row = db.session.get(UnallocatedCredit, overpaid)
    assert (row.account_id, row.since) == (account_id, date(2026, 1, 5))
    assert ledger_discrepancies() == []
