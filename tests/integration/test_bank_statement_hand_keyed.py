"""A bank transfer an officer recorded by hand is not posted again when the statement
brings it: the line is linked to the officer's payment and verifies it, once; a line
that differs (amount, or more than five working days away) is posted as usual."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from shared.extensions import db
from shared.models import (
    AuditLog,
    BankLineResolution,
    BankStatementLine,
    ContactEvent,
    EntryKind,
    LedgerEntry,
    PaymentMethod,
    PaymentVerification,
    ResolutionAction,
    VerificationStatus,
)
from shared.reports.reconciliation import ledger_discrepancies
from shared.services import balances, payment_checks
from shared.services.actors import SYSTEM, staff
from shared.services.bank_statements import importer, reads, resolve
from shared.services.errors import InvalidRequest
from tests.bank_statement_world import build_world
from tests.factories import make_staff

# Every date below is in the past: a payment is keyed on or before the day it is keyed.
pytestmark = pytest.mark.time_machine(datetime(2026, 12, 14, 10, 0, tzinfo=UTC))

THU_3_DEC = date(2026, 12, 3)
SMITH = "A00012345"  # John Smith, owes £450 on INV00001234
GREEN = "A00012352"  # Rachel Green, owes £60 on INV00001238


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def keyer(db):
    return make_staff()


def _csv(*rows) -> bytes:
    """A statement in the bank CSV layout: rows of (day, reference, payer, text, pence)."""
    out = [
        "Date,Sort code,Account number,Bank reference,Type,Payer,Description,Debit,Credit,Balance"
    ]
    balance = 0
    for day, reference, payer, text, pence in rows:
        balance += pence
        out.append(
            f"{day:%d/%m/%Y},60-16-13,31926819,{reference},FPI,{payer},{text},,"
            f"{pence // 100}.{pence % 100:02d},{balance // 100}.{balance % 100:02d}"
        )
    return ("\n".join(out) + "\n").encode()


def _key(world, keyer, reference, pence, day, typed="REMIT-1"):
    """An officer records a bank transfer by hand, as the back office's form does."""
    return payment_checks.record_manual_payment(
        account_id=world.accounts[reference],
        amount_pence=pence,
        method=PaymentMethod.BANK_TRANSFER,
        actor=staff(keyer.id),
        external_reference=f"bank_transfer:{typed}",
        effective_date=day,
    )


def _import(*rows):
    return importer.import_statement(_csv(*rows), actor=SYSTEM)


def _line(reference) -> BankStatementLine:
    return db.session.scalar(
        sa.select(BankStatementLine).where(BankStatementLine.line_reference == reference)
    )


def _payments(account_id) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            LedgerEntry.kind == EntryKind.PAYMENT, LedgerEntry.account_id == account_id
        )
    )


def _status(entry_id) -> VerificationStatus:
    return db.session.scalar(
        sa.select(PaymentVerification.status).where(PaymentVerification.ledger_entry_id == entry_id)
    )


def test_a_keyed_transfer_on_the_statement_is_credited_once_and_verified_by_the_line(
    world, keyer, db
):
    smith = world.accounts[SMITH]
    keyed = _key(world, keyer, SMITH, 50_000, date(2026, 12, 1))  # £50 over: held
    assert keyed.unverified and balances.account_balance(smith) == -5_000

    done = _import((THU_3_DEC, "FPK1", "J SMITH", "INV00001234", 50_000))

    assert balances.account_balance(smith) == -5_000  # not credited a second time
    assert _payments(smith) == 1
    line = _line("FPK1")
    assert (line.outcome.value, line.ledger_entry_id, line.account_id) == (
        "recorded_by_hand",
        keyed.entry.id,
        smith,
    )
    verification = db.session.scalar(
        sa.select(PaymentVerification).where(PaymentVerification.ledger_entry_id == keyed.entry.id)
    )
    assert (verification.status, verification.verified_via.value) == (
        VerificationStatus.VERIFIED,
        "bank_statement",
    )
    assert verification.statement_reference == "FPK1"
    assert keyed.entry.id not in {u.entry_id for u in payment_checks.unverified_queue()}
    summary = reads.import_summary(done.import_id)
    figures = {f.label: (f.count, f.pence) for f in summary.figures}
    assert figures["Recorded by hand"] == (1, 50_000)
    assert figures["Matched"] == (0, 0)
    assert summary.credits_reconcile and summary.balances_reconcile
    assert summary.matched_share == 1.0
    assert ledger_discrepancies() == []


def test_the_statement_verifies_a_payment_with_the_words_and_audit_of_verify_from_bank_statement(
    world, keyer, db
):
    by_service = _key(world, keyer, GREEN, 7_000, THU_3_DEC, typed="G1")
    by_import = _key(world, keyer, SMITH, 50_000, THU_3_DEC, typed="S1")
    payment_checks.verify_from_bank_statement(
        entry_id=by_service.entry.id, statement_reference="FPK9", actor=SYSTEM
    )
    _import((THU_3_DEC, "FPK1", "J SMITH", "INV00001234", 50_000))

    def last_event(reference):
        return db.session.scalar(
            sa.select(ContactEvent.summary)
            .where(ContactEvent.account_id == world.accounts[reference])
            .order_by(ContactEvent.id.desc())
        )

    def verified_audit(entry_id):
        row = db.session.scalar(
            sa.select(AuditLog).where(
                AuditLog.action == "payment.verified", AuditLog.object_id == str(entry_id)
            )
        )
        return row.actor_type, row.account_id, row.before, row.after

    assert last_event(GREEN) == (
        "Payment of £70.00 by bank transfer verified by bank statement line FPK9"
    )
    assert last_event(SMITH) == (
        "Payment of £500.00 by bank transfer verified by bank statement line FPK1"
    )
    service_audit = verified_audit(by_service.entry.id)
    import_audit = verified_audit(by_import.entry.id)
    assert import_audit[0] == service_audit[0] and import_audit[2] == service_audit[2]
    assert import_audit[1] == world.accounts[SMITH]
    assert import_audit[3] == service_audit[3] | {"statement_reference": "FPK1"}


def test_a_keyed_payment_that_left_no_credit_is_still_not_posted_again(world, keyer, db):
    green = world.accounts[GREEN]
    keyed = _key(world, keyer, GREEN, 6_000, date(2026, 12, 2))  # pays the invoice exactly
    assert not keyed.unverified

    _import((THU_3_DEC, "FPK1", "R GREEN", "INV00001238", 6_000))

    assert balances.account_balance(green) == 0
    assert _line("FPK1").ledger_entry_id == keyed.entry.id
    assert _status(keyed.entry.id) is None  # never held, so nothing to verify
    assert ledger_discrepancies() == []


@pytest.mark.parametrize(
    ("keyed_on", "outcome"),
    [
        (date(2026, 11, 26), "recorded_by_hand"),  # five working days before
        (date(2026, 11, 25), "matched"),  # six before
        (date(2026, 12, 10), "recorded_by_hand"),  # five after
        (date(2026, 12, 11), "matched"),  # six after
    ],
)
def test_a_keyed_payment_is_the_line_only_within_five_working_days_of_the_booking(
    world, keyer, db, keyed_on, outcome
):
    smith = world.accounts[SMITH]
    keyed = _key(world, keyer, SMITH, 50_000, keyed_on)

    _import((THU_3_DEC, "FPK1", "J SMITH", "INV00001234", 50_000))

    assert _line("FPK1").outcome.value == outcome
    posted_twice = outcome == "matched"
    assert _payments(smith) == (2 if posted_twice else 1)
    assert balances.account_balance(smith) == (-55_000 if posted_twice else -5_000)
    assert _status(keyed.entry.id) == (
        VerificationStatus.UNVERIFIED if posted_twice else VerificationStatus.VERIFIED
    )
    assert ledger_discrepancies() == []


def test_a_line_of_another_amount_is_posted_and_leaves_the_keyed_payment_unverified(
    world, keyer, db
):
    smith = world.accounts[SMITH]
    keyed = _key(world, keyer, SMITH, 50_000, THU_3_DEC)

    _import((THU_3_DEC, "FPK1", "J SMITH", "INV00001234", 49_999))

    assert _line("FPK1").outcome.value == "matched"
    assert _line("FPK1").ledger_entry_id != keyed.entry.id
    assert _payments(smith) == 2
    assert _status(keyed.entry.id) == VerificationStatus.UNVERIFIED
    assert ledger_discrepancies() == []


def test_two_identical_lines_against_one_keyed_payment_link_the_first_and_post_the_second(
    world, keyer, db
):
    smith = world.accounts[SMITH]
    keyed = _key(world, keyer, SMITH, 50_000, THU_3_DEC)

    done = _import(
        (THU_3_DEC, "FPK1", "J SMITH", "INV00001234", 50_000),
        (THU_3_DEC, "FPK2", "J SMITH", "INV00001234", 50_000),
    )

    first, second = _line("FPK1"), _line("FPK2")
    assert (first.outcome.value, first.ledger_entry_id) == ("recorded_by_hand", keyed.entry.id)
    assert second.outcome.value == "matched" and second.ledger_entry_id != keyed.entry.id
    assert _payments(smith) == 2
    assert balances.account_balance(smith) == 45_000 - 100_000
    figures = {f.label: (f.count, f.pence) for f in reads.import_summary(done.import_id).figures}
    assert (figures["Recorded by hand"], figures["Matched"]) == ((1, 50_000), (1, 50_000))
    assert ledger_discrepancies() == []


def test_a_keyed_payment_claimed_by_one_statement_is_not_claimed_by_the_next(world, keyer, db):
    smith = world.accounts[SMITH]
    keyed = _key(world, keyer, SMITH, 50_000, THU_3_DEC)
    _import((THU_3_DEC, "FPK1", "J SMITH", "INV00001234", 50_000))

    _import((date(2026, 12, 4), "FPK2", "J SMITH", "INV00001234", 50_000))

    assert _line("FPK1").ledger_entry_id == keyed.entry.id
    assert _line("FPK2").outcome.value == "matched"
    assert _payments(smith) == 2
    assert ledger_discrepancies() == []


def test_a_payment_an_officer_imported_from_a_statement_is_not_taken_for_a_keyed_one(
    world, keyer, db
):
    # Imported from the back office, the statement's payments carry the officer's id like
    # a hand-keyed one: they must not be claimed by a later line of the same amount.
    smith = world.accounts[SMITH]
    importer.import_statement(
        _csv((THU_3_DEC, "FPK1", "J SMITH", "INV00001234", 20_000)), actor=staff(keyer.id)
    )
    importer.import_statement(
        _csv((date(2026, 12, 4), "FPK2", "J SMITH", "INV00001234", 20_000)),
        actor=staff(keyer.id),
    )
    assert [_line(r).outcome.value for r in ("FPK1", "FPK2")] == ["matched", "matched"]
    assert _payments(smith) == 2
    assert balances.account_balance(smith) == 5_000


def test_a_reversed_keyed_payment_is_not_the_line(world, keyer, db):
    from shared.services import ledger

    smith = world.accounts[SMITH]
    keyed = _key(world, keyer, SMITH, 50_000, THU_3_DEC)
    ledger.reverse(entry_id=keyed.entry.id, reason="Keyed in error", actor=staff(keyer.id))

    _import((THU_3_DEC, "FPK1", "J SMITH", "INV00001234", 50_000))

    assert _line("FPK1").outcome.value == "matched"
    assert balances.account_balance(smith) == -5_000
    assert ledger_discrepancies() == []


def _unmatched_line_and_keyed_payment(world, keyer):
    """Rachel Green's £70 transfer keyed by hand (£10 over her invoice: held), then a
    statement line for it that names nothing, so it waits for an officer."""
    keyed = _key(world, keyer, GREEN, 7_000, date(2026, 12, 2))
    _import((THU_3_DEC, "FPK1", "MRS R G", "THANK YOU", 7_000))
    line = _line("FPK1")
    assert line.outcome.value == "unmatched"
    return keyed, line


def test_an_officer_resolving_a_waiting_line_to_the_account_links_it_to_the_keyed_payment(
    world, keyer, db
):
    green = world.accounts[GREEN]
    keyed, line = _unmatched_line_and_keyed_payment(world, keyer)
    officer = make_staff()

    done = resolve.post_line(
        line_id=line.id, account_reference=GREEN, invoice_id=None, actor=staff(officer.id)
    )
    again = resolve.post_line(
        line_id=line.id, account_reference=GREEN, invoice_id=None, actor=staff(officer.id)
    )

    assert (done.created, done.action, done.ledger_entry_id) == (
        True,
        ResolutionAction.LINKED,
        keyed.entry.id,
    )
    assert (again.created, again.ledger_entry_id) == (False, keyed.entry.id)
    assert _payments(green) == 1
    assert balances.account_balance(green) == -1_000
    assert _status(keyed.entry.id) == VerificationStatus.VERIFIED
    assert line.id not in {w.line_id for w in reads.waiting_lines()}
    row = db.session.scalar(sa.select(BankLineResolution))
    assert (row.action, row.ledger_entry_id, row.staff_id) == (
        ResolutionAction.LINKED,
        keyed.entry.id,
        officer.id,
    )
    actions = db.session.scalars(
        sa.select(AuditLog.action).where(AuditLog.object_type == "bank_statement_line")
    ).all()
    assert actions == ["bank_statement_line.linked"]
    assert ledger_discrepancies() == []


def test_the_officer_who_keyed_an_unverified_payment_cannot_verify_it_by_resolving_the_line(
    world, keyer, db
):
    keyed, line = _unmatched_line_and_keyed_payment(world, keyer)

    with pytest.raises(InvalidRequest, match="another officer must match this line"):
        resolve.post_line(
            line_id=line.id, account_reference=GREEN, invoice_id=None, actor=staff(keyer.id)
        )

    assert _status(keyed.entry.id) == VerificationStatus.UNVERIFIED
    assert line.id in {w.line_id for w in reads.waiting_lines()}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLineResolution)) == 0


def test_an_officer_resolving_to_an_account_whose_keyed_payment_a_line_has_claimed_posts(
    world, keyer, db
):
    green = world.accounts[GREEN]
    keyed = _key(world, keyer, GREEN, 7_000, date(2026, 12, 2))
    _import(
        (THU_3_DEC, "FPK1", "R GREEN", "INV00001238", 7_000),  # claims the keyed payment
        (THU_3_DEC, "FPK2", "MRS R G", "THANK YOU", 7_000),  # waits
    )
    assert _line("FPK1").ledger_entry_id == keyed.entry.id

    done = resolve.post_line(
        line_id=_line("FPK2").id,
        account_reference=GREEN,
        invoice_id=None,
        actor=staff(make_staff().id),
    )

    assert done.action == ResolutionAction.POSTED and done.ledger_entry_id != keyed.entry.id
    assert _payments(green) == 2
    assert balances.account_balance(green) == 6_000 - 14_000
    assert ledger_discrepancies() == []
