"""Importing bank statements: the sample files posted, matched and summarised; the
same lines never posted twice; a bad file imports nothing; officers resolve the rest."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.models import (
    AuditLog,
    BankLineResolution,
    BankStatementImport,
    BankStatementLine,
    EntryKind,
    LedgerEntry,
    PaymentMethod,
    UnallocatedCredit,
)
from shared.reports.reconciliation import ledger_discrepancies
from shared.services import balances
from shared.services.actors import SYSTEM, staff
from shared.services.bank_statements import importer, reads, resolve
from shared.services.errors import InvalidRequest
from tests.append_only import assert_refuses_change_and_removal
from tests.bank_statement_world import BAI2, CAMT, CSV, CSV_OVERLAP, build_world
from tests.factories import make_staff


@pytest.fixture
def world(db):
    return build_world()


def _import(path, actor=SYSTEM):
    return importer.import_statement(path.read_bytes(), actor=actor, file_name=path.name)


def _payments():
    return db_session_scalar(
        sa.select(sa.func.count()).where(LedgerEntry.kind == EntryKind.PAYMENT)
    )


def db_session_scalar(query):
    from shared.extensions import db

    return db.session.scalar(query)


def _lines(**where):
    from shared.extensions import db

    query = sa.select(BankStatementLine).order_by(BankStatementLine.id)
    for name, value in where.items():
        query = query.where(getattr(BankStatementLine, name) == value)
    return list(db.session.scalars(query))


def test_the_camt_sample_posts_the_five_confident_lines_and_its_summary_reconciles(world, db):
    result = _import(CAMT)

    summary = reads.import_summary(result.import_id)
    figures = {f.label: (f.count, f.pence) for f in summary.figures}
    assert figures == {
        "Matched": (5, 90_550),
        "Suggested": (2, 8_500),
        "Unmatched": (1, 9_999),
        "Settlements": (2, 207_666),
        "Already known": (0, 0),
        "Recorded by hand": (0, 0),
    }
    assert (summary.line_count, summary.debit_count, summary.debits_pence) == (11, 1, 1_500)
    assert summary.opening_balance_pence + 316_715 - 1_500 == summary.closing_balance_pence
    assert summary.balances_reconcile and summary.credits_reconcile
    assert _payments() == 5
    assert ledger_discrepancies() == []


def test_each_matched_line_pays_the_invoice_it_named_as_a_bank_transfer_on_the_booking_day(
    world, db
):
    _import(CAMT)
    paid = {
        number: balances.invoice_outstanding(world.invoices[number])
        for number in ("INV00001234", "INV00001235", "INV00001236", "INV00001237", "INV00001238")
    }
    # Exact, spaced and lower case, look-alike account reference (oldest first),
    # transposed digits borne out by the amount, and amount plus payer's name.
    assert paid == dict.fromkeys(paid, 0)
    entries = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.kind == "payment"))
    for entry in entries:
        assert entry.method == PaymentMethod.BANK_TRANSFER
        assert entry.effective_date.isoformat() == "2026-12-03"
        assert entry.external_reference.startswith("bank:60161331926819:")
    rules = {line.line_reference: line.rule.value for line in _lines(outcome="matched")}
    assert rules == {
        "FP26120300001": "reference",
        "FP26120300002": "reference",
        "FP26120300003": "reference_look_alike",
        "BG26120300004": "reference_slip",
        "FP26120300005": "amount_and_name",
    }


def test_the_settlements_and_the_debit_are_recorded_and_not_posted(world, db):
    _import(CAMT)
    settled = _lines(outcome="settlement")
    assert [(s.line_reference, s.ledger_entry_id) for s in settled] == [
        ("BA26120300008", None),
        ("BA26120300009", None),
    ]
    [debit] = _lines(outcome="debit")
    assert (debit.amount_pence, debit.ledger_entry_id) == (1_500, None)


def test_the_same_file_twice_is_one_import_and_posts_nothing_the_second_time(world, db):
    first = _import(CAMT)
    second = _import(CAMT)
    assert (second.import_id, second.created) == (first.import_id, False)
    assert _payments() == 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankStatementImport)) == 1


def test_the_same_statement_in_another_format_is_all_already_known(world, db):
    _import(CAMT)
    again = reads.import_summary(_import(BAI2).import_id)
    figures = {f.label: (f.count, f.pence) for f in again.figures}
    assert figures["Already known"] == (10, 316_715)
    assert figures["Matched"] == (0, 0)
    assert again.credits_reconcile and again.balances_reconcile
    assert _payments() == 5
    assert len(_lines()) == 11  # the BAI2 file's lines were not stored a second time


def test_an_overlapping_statement_posts_only_its_new_lines(world, db):
    _import(CSV)
    overlap = reads.import_summary(_import(CSV_OVERLAP).import_id)
    figures = {f.label: (f.count, f.pence) for f in overlap.figures}
    assert figures["Already known"] == (10, 316_715)
    assert figures["Matched"] == (2, 5_500)
    assert overlap.debit_count == 1
    assert _payments() == 7
    # INV00001234 was paid by the first statement: the second payment naming it is credit
    # on John Smith's account, in the unallocated payments queue.
    smith = world.accounts["A00012345"]
    queued = db.session.scalars(
        sa.select(UnallocatedCredit.unallocated_pence).where(UnallocatedCredit.account_id == smith)
    ).all()
    assert queued == [3_000]
    assert balances.invoice_outstanding(world.invoices["INV00001240"]) == 10_000 - 2_500
    assert ledger_discrepancies() == []


def test_a_statement_that_does_not_add_up_imports_nothing_and_says_why(world, db):
    broken = CSV.read_bytes().replace(b"10450.00", b"10460.00", 1)
    with pytest.raises(importer.BadStatement, match="Row 3: the balance does not follow"):
        importer.import_statement(broken, actor=SYSTEM)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankStatementImport)) == 0
    assert _payments() == 0


def test_the_suggested_line_offers_both_accounts_the_reference_names(world, db):
    _import(CAMT)
    waiting = {line.line_reference: line for line in reads.waiting_lines()}
    assert set(waiting) == {"FP26120300006", "FP26120300007", "FP26120300011"}
    jones = waiting["FP26120300006"]
    assert [(c.account_reference, c.invoice_number) for c in jones.candidates] == [
        ("A00012353", "INV00001239"),
        ("A00012354", "INV00001241"),
    ]
    wong = waiting["FP26120300011"]
    assert {c.account_reference for c in wong.candidates} == {"A00012347", "A00012348"}
    assert waiting["FP26120300007"].candidates == ()


def test_an_officer_posts_a_suggested_line_once_however_often_the_form_is_sent(world, db):
    _import(CAMT)
    officer = make_staff()
    [line] = _lines(line_reference="FP26120300006")
    invoice = world.invoices["INV00001241"]

    first = resolve.post_line(
        line_id=line.id, account_reference="a0001 2354", invoice_id=invoice, actor=staff(officer.id)
    )
    again = resolve.post_line(
        line_id=line.id, account_reference="A00012354", invoice_id=invoice, actor=staff(officer.id)
    )

    assert first.created and not again.created
    assert again.ledger_entry_id == first.ledger_entry_id
    assert balances.invoice_outstanding(invoice) == 0
    assert _payments() == 6
    assert [line.line_id for line in reads.waiting_lines()] != [] and line.id not in {
        w.line_id for w in reads.waiting_lines()
    }
    actions = db.session.scalars(
        sa.select(AuditLog.action).where(AuditLog.object_type == "bank_statement_line")
    ).all()
    assert actions == ["bank_statement_line.posted"]
    assert ledger_discrepancies() == []


def test_an_officer_marks_a_line_not_ours_with_a_reason_and_it_leaves_the_queue(world, db):
    _import(CAMT)
    officer = make_staff()
    [line] = _lines(line_reference="FP26120300007")
    with pytest.raises(InvalidRequest, match="Enter why"):
        resolve.not_ours(line_id=line.id, reason="  ", actor=staff(officer.id))

    done = resolve.not_ours(
        line_id=line.id,
        reason="Paid to us in error by a housing association",
        actor=staff(officer.id),
    )

    assert done.created and done.ledger_entry_id is None
    assert line.id not in {w.line_id for w in reads.waiting_lines()}
    assert _payments() == 5
    row = db.session.scalar(sa.select(BankLineResolution))
    assert (row.action.value, row.staff_id) == ("not_ours", officer.id)


def test_a_line_that_was_matched_cannot_be_resolved_again(world, db):
    _import(CAMT)
    officer = make_staff()
    [line] = _lines(line_reference="FP26120300001")
    with pytest.raises(InvalidRequest, match="not waiting"):
        resolve.post_line(
            line_id=line.id, account_reference="A00012347", invoice_id=None, actor=staff(officer.id)
        )


@pytest.mark.parametrize(
    "table",
    [
        "bank_statement_imports",
        "bank_statement_lines",
        "bank_line_candidates",
        "bank_line_resolutions",
    ],
)
def test_the_database_refuses_to_change_or_remove_an_imported_record(world, db, app, table):
    _import(CAMT)
    [line] = _lines(line_reference="FP26120300007")
    resolve.not_ours(line_id=line.id, reason="Not ours", actor=staff(make_staff().id))
    assert_refuses_change_and_removal(app, table, "id = id")


def _csv(*rows) -> bytes:
    """A statement in the bank CSV layout: rows of (reference, payer, text, credit pence)."""
    out = [
        "Date,Sort code,Account number,Bank reference,Type,Payer,Description,Debit,Credit,Balance"
    ]
    balance = 0
    for reference, payer, text, pence in rows:
        balance += pence
        out.append(
            f"03/12/2026,60-16-13,31926819,{reference},FPI,{payer},{text},,"
            f"{pence // 100}.{pence % 100:02d},{balance // 100}.{balance % 100:02d}"
        )
    return ("\n".join(out) + "\n").encode()


def _twin_accounts_with_a_disputed_oldest_invoice():
    """Two accounts alike: an older invoice under dispute and a newer one, each £100."""
    from datetime import date

    from shared.models import AccountHold, HoldKind
    from shared.services import ledger
    from tests.factories import make_account, make_department

    department, officer = make_department(), make_staff()
    twins = []
    for n in (1, 2):
        account = make_account(reference=f"A0009000{n}", forename="Mo", surname=f"Twin{n}")
        numbers = []
        for suffix, due in (("1", date(2026, 9, 30)), ("2", date(2026, 10, 31))):
            numbers.append(
                ledger.raise_invoice(
                    account_id=account.id,
                    department_id=department.id,
                    number=f"INV0009{n}00{suffix}",
                    issue_date=date(2026, 9, 1),
                    due_date=due,
                    description="Charge",
                    lines=[ledger.LineInput("Charge", 1, 10_000)],
                    actor=SYSTEM,
                ).id
            )
        db_add(
            AccountHold(
                account_id=account.id,
                invoice_id=numbers[0],
                kind=HoldKind.DISPUTE,
                reason="Disputes the charge",
                starts_on=date(2026, 11, 1),
                placed_by=officer.id,
            )
        )
        twins.append((account, numbers))
    return twins


def db_add(row):
    from shared.extensions import db

    db.session.add(row)
    db.session.commit()


def test_an_imported_payment_is_allocated_and_recorded_as_the_ledger_records_one(db):
    from shared.models import Allocation, ContactEvent
    from shared.services import ledger

    (by_ledger, ledger_invoices), (by_import, import_invoices) = (
        _twin_accounts_with_a_disputed_oldest_invoice()
    )
    ledger.record_payment(
        account_id=by_ledger.id,
        amount_pence=15_000,
        method=PaymentMethod.BANK_TRANSFER,
        actor=SYSTEM,
        external_reference="by-hand-1",
    )
    importer.import_statement(_csv(("FPX1", "M TWIN2", "A00090002", 15_000)), actor=SYSTEM)

    def allocated(invoices):
        return [
            db.session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0)).where(
                    Allocation.invoice_id == i
                )
            )
            for i in invoices
        ]

    def last_event(account):
        return db.session.scalar(
            sa.select(ContactEvent.summary)
            .where(ContactEvent.account_id == account.id)
            .order_by(ContactEvent.id.desc())
        )

    # The disputed invoice is left alone; the newer one is paid; the rest is credit.
    assert allocated(ledger_invoices) == allocated(import_invoices) == [0, 10_000]
    assert last_event(by_import) == last_event(by_ledger)
    assert (
        last_event(by_import)
        == "Payment of £150.00 received by bank transfer (£50.00 held as credit)"
    )
    queued = db.session.scalars(
        sa.select(UnallocatedCredit.unallocated_pence).where(
            UnallocatedCredit.account_id == by_import.id
        )
    ).all()
    assert queued == [5_000]
    audit = db.session.scalar(
        sa.select(AuditLog.after).where(
            AuditLog.action == "payment.recorded", AuditLog.account_id == by_import.id
        )
    )
    assert audit["allocations"] == [[import_invoices[1], 10_000]]
    assert ledger_discrepancies() == []


def test_two_payments_to_one_account_in_one_statement_each_see_what_the_other_paid(world, db):
    smith = world.invoices["INV00001234"]  # owes £450
    importer.import_statement(
        _csv(("FPA", "J SMITH", "INV00001234", 30_000), ("FPB", "J SMITH", "INV00001234", 30_000)),
        actor=SYSTEM,
    )
    assert balances.invoice_outstanding(smith) == 0
    queued = db.session.scalars(
        sa.select(UnallocatedCredit.unallocated_pence).where(
            UnallocatedCredit.account_id == world.accounts["A00012345"]
        )
    ).all()
    assert queued == [15_000]
    assert ledger_discrepancies() == []
