"""The accounts and invoices the sample statements in docs/samples/ pay (shared by the
bank statement tests). Each sample line's expected outcome is in the docs page's table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from shared.models import DebtorKind
from shared.services import ledger
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department

SAMPLES = Path(__file__).resolve().parent.parent / "docs" / "samples"
CAMT = SAMPLES / "statement-2026-12-03.camt053.xml"
BAI2 = SAMPLES / "statement-2026-12-03.bai2"
CSV = SAMPLES / "statement-2026-12-03.csv"
CSV_OVERLAP = SAMPLES / "statement-2026-12-03-to-04.csv"


@dataclass
class World:
    accounts: dict[str, int]  # reference -> id
    invoices: dict[str, int]  # number -> id


def build_world() -> World:
    department = make_department()
    people = {
        "A00012345": dict(forename="John", surname="Smith"),
        "A00012346": dict(forename="Kate", surname="O'Brien"),
        "A00012347": dict(forename="Lee", surname="Wong"),
        "A00012348": dict(forename="Tom", surname="Brown"),
        "A00012350": dict(forename="Anita", surname="Patel"),
        "A00012352": dict(forename="Rachel", surname="Green"),
        "A00012353": dict(forename="Daniel", surname="Jones"),
        "A00012354": dict(forename="Dafydd", surname="Jones"),
    }
    accounts = {ref: make_account(reference=ref, **kw).id for ref, kw in people.items()}
    accounts["A00012351"] = make_account(
        reference="A00012351",
        kind=DebtorKind.ORGANISATION,
        organisation_name="Acme Trading Limited",
        surname=None,
        forename=None,
    ).id
    owed = {
        "INV00001234": ("A00012345", 45_000),
        "INV00001235": ("A00012350", 12_000),
        "INV00001236": ("A00012346", 7_550),
        "INV00001237": ("A00012351", 20_000),
        "INV00001238": ("A00012352", 6_000),
        "INV00001239": ("A00012353", 3_500),
        "INV00001241": ("A00012354", 3_500),
        "INV00001240": ("A00012348", 10_000),
    }
    invoices = {}
    for number, (reference, pence) in owed.items():
        invoices[number] = ledger.raise_invoice(
            account_id=accounts[reference],
            department_id=department.id,
            number=number,
            issue_date=date(2026, 10, 1),
            due_date=date(2026, 10, 31),
            description="Sundry charge",
            lines=[ledger.LineInput("Charge", 1, pence)],
            actor=SYSTEM,
        ).id
    return World(accounts, invoices)


def a_line_waiting_for_an_officer() -> tuple[int, int]:
    """(import id, line id) of a stored import with one unmatched line, inserted directly
    (for the route tables of the view tests, which need ids, not a whole import)."""
    from shared.extensions import db
    from shared.models import BankStatementImport, BankStatementLine

    statement = BankStatementImport(
        file_sha256="0" * 64,
        format="csv",
        bank_account="60161331926819",
        statement_id="60161331926819 2026-12-03 2026-12-03",
        from_date=date(2026, 12, 3),
        to_date=date(2026, 12, 3),
        opening_balance_pence=0,
        closing_balance_pence=9_999,
        line_count=1,
        credits_pence=9_999,
        debits_pence=0,
        matched_count=0,
        matched_pence=0,
        suggested_count=0,
        suggested_pence=0,
        unmatched_count=1,
        unmatched_pence=9_999,
        settlement_count=0,
        settlement_pence=0,
        already_known_count=0,
        already_known_pence=0,
        recorded_by_hand_count=0,
        recorded_by_hand_pence=0,
        debit_count=0,
    )
    db.session.add(statement)
    db.session.flush()
    line = BankStatementLine(
        import_id=statement.id,
        bank_account=statement.bank_account,
        line_reference="FP26120300007",
        booking_date=date(2026, 12, 3),
        amount_pence=9_999,
        direction="credit",
        remittance="GIFT",
        payer_name="UNKNOWN PAYER",
        transaction_code="FPI",
        outcome="unmatched",
        rule="none",
    )
    db.session.add(line)
    db.session.commit()
    return statement.id, line.id
