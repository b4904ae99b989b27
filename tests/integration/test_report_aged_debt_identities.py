"""The aged-debt report on a generated year of business (three departments, invoices,
part payments, backdated cheques, overpayments, credit notes, write-offs, chargebacks,
refunds, credit transfers and dunning runs, each on its own day), checked on many dates
against what the report promises:
- the grand total is the sum of the invoices' outstanding balances (today: exactly the
  reconciliation's invoice query);
- each account's total is its ledger balance as at the date plus its unallocated credit;
- every department x bucket figure equals a plain-Python ageing of the raw rows (the
  dating rule written out independently);
- the accounts behind each cell, page by page, add up to the cell."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from shared.clock import london_day
from shared.domain.reporting import AGE_BUCKET_KEYS, age_bucket
from shared.extensions import db
from shared.models import Allocation, DebtorKind, EntryKind, Invoice, LedgerEntry, PaymentMethod
from shared.reports import aged_debt_sql as q
from shared.reports.aged_debt import PAGE_SIZE, build, build_accounts
from shared.reports.base import parse_filters
from shared.reports.reconciliation import ledger_discrepancies
from shared.services import ledger
from shared.services.actors import SYSTEM
from shared.services.dunning import runs
from shared.services.errors import ServiceError
from shared.services.reports import department_options
from tests.factories import make_department
from tests.frozen_clock import TODAY, frozen_clock
from tests.integration.dunning_world import emailable, install_templates, make_ladder

pytestmark = frozen_clock

START = date(2025, 6, 2)
METHODS = (PaymentMethod.CHEQUE, PaymentMethod.CARD, PaymentMethod.BANK_TRANSFER)


def on(time_machine, day: date) -> None:
    time_machine.move_to(datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC), tick=True)


def filters(**args):
    found, errors = parse_filters(
        {k: str(v) for k, v in args.items()},
        today=TODAY,
        department_codes=lambda: {code.upper() for code, _ in department_options()},
    )
    assert not errors, errors
    return found


@pytest.fixture
def world(db, time_machine):
    """A year of business on 14 accounts, generated from a fixed seed."""
    rng = random.Random(15)
    install_templates()
    departments = [
        make_ladder("Trade waste"),
        make_department("CARE", name="Adult social care"),
        make_department("RENT", name="Commercial rents"),
    ]
    accounts = [
        emailable(surname=f"Debtor{n}")
        if n % 4
        else emailable(surname=None, kind=DebtorKind.ORGANISATION, organisation_name=f"Org {n}")
        for n in range(14)
    ]
    numbers = iter(range(1, 10_000))
    credits: list[LedgerEntry] = []
    for day in (START + timedelta(days=n) for n in range(0, (TODAY - START).days, 6)):
        on(time_machine, day)
        for _ in range(rng.randint(1, 4)):
            account = rng.choice(accounts)
            roll = rng.random()
            try:
                if roll < 0.35:
                    ledger.raise_invoice(
                        account_id=account.id,
                        department_id=rng.choice(departments).id,
                        number=f"G{next(numbers):05d}",
                        issue_date=day,
                        due_date=day + timedelta(days=rng.choice((0, 14, 30))),
                        description="Service",
                        lines=[ledger.LineInput("Service", 1, rng.randint(1_000, 90_000))],
                        actor=SYSTEM,
                    )
                elif roll < 0.65:
                    backdated = rng.random() < 0.3
                    credits.append(
                        ledger.record_payment(
                            account_id=account.id,
                            amount_pence=rng.randint(500, 60_000),
                            method=rng.choice(METHODS),
                            effective_date=day - timedelta(days=rng.randint(1, 20))
                            if backdated
                            else None,
                            actor=SYSTEM,
                        ).entry
                    )
                elif roll < 0.8:
                    owing = _owing_invoice(account.id, rng)
                    if owing is not None:
                        invoice_id, outstanding = owing
                        amount = rng.randint(1, outstanding)
                        if rng.random() < 0.5:
                            ledger.write_off(
                                invoice_id=invoice_id, amount_pence=amount, reason="x", actor=SYSTEM
                            )
                        else:
                            ledger.raise_credit_note(
                                invoice_id=invoice_id,
                                amount_pence=amount,
                                reason="x",
                                actor=SYSTEM,
                            )
                elif roll < 0.88 and credits:
                    ledger.reverse(entry_id=rng.choice(credits).id, reason="Returned", actor=SYSTEM)
                elif roll < 0.96 and credits:
                    source = rng.choice(credits)
                    available = ledger.refundable_available(source.id)
                    if available > 0:
                        if rng.random() < 0.5:
                            ledger.refund(
                                source_entry_id=source.id,
                                amount_pence=rng.randint(1, available),
                                reason="Asked",
                                actor=SYSTEM,
                            )
                        else:
                            ledger.transfer_credit(
                                source_entry_id=source.id,
                                to_account_id=rng.choice(
                                    [a for a in accounts if a.id != source.account_id]
                                ).id,
                                amount_pence=rng.randint(1, available),
                                reason="Paid on the wrong account",
                                actor=SYSTEM,
                            )
                else:
                    runs.execute(day, SYSTEM)
            except ServiceError:
                db.session.rollback()  # a refusal (nothing left to reverse, say): skip it
    on(time_machine, TODAY)
    assert ledger_discrepancies() == []
    kinds = set(db.session.scalars(sa.select(LedgerEntry.kind).distinct()))
    assert kinds >= {k.value for k in EntryKind}, "the world should use every kind of entry"
    return departments


def _owing_invoice(account_id: int, rng: random.Random) -> tuple[int, int] | None:
    allocated = (
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
        .where(Allocation.invoice_id == Invoice.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Invoice.id, Invoice.total_pence - allocated)
        .where(Invoice.account_id == account_id, Invoice.total_pence - allocated > 0)
        .order_by(Invoice.id)
    ).all()
    return tuple(rng.choice(rows)) if rows else None


DATES = (
    date(2025, 6, 30),
    date(2025, 9, 30),
    date(2025, 12, 31),
    date(2026, 2, 14),
    date(2026, 3, 31),
    date(2026, 5, 1),
    date(2026, 6, 1),
    TODAY - timedelta(days=1),
    TODAY,
)


def expected_by_department_and_bucket(day: date) -> dict[tuple[int, str], int]:
    """Plain Python over the raw rows: an invoice counts from its entry's effective date;
    an allocation from the latest of its credit's and its invoice's effective dates and
    the English day it was made; age is days past due as at `day`."""
    invoices = {
        r.id: r
        for r in db.session.execute(
            sa.select(
                Invoice.id,
                Invoice.department_id,
                Invoice.due_date,
                Invoice.total_pence,
                LedgerEntry.effective_date,
            ).join(
                LedgerEntry,
                (LedgerEntry.invoice_id == Invoice.id) & (LedgerEntry.kind == EntryKind.INVOICE),
            )
        )
    }
    owed = {i: r.total_pence for i, r in invoices.items() if r.effective_date <= day}
    for a in db.session.execute(
        sa.select(
            Allocation.invoice_id,
            Allocation.amount_pence,
            Allocation.created_at,
            LedgerEntry.effective_date,
        ).join(LedgerEntry, LedgerEntry.id == Allocation.credit_entry_id)
    ):
        dated = max(
            a.effective_date,
            invoices[a.invoice_id].effective_date,
            london_day(a.created_at),
        )
        if a.invoice_id in owed and dated <= day:
            owed[a.invoice_id] -= a.amount_pence
    cells: dict[tuple[int, str], int] = defaultdict(int)
    for invoice_id, pence in owed.items():
        if pence:
            r = invoices[invoice_id]
            cells[(r.department_id, age_bucket((day - r.due_date).days))] += pence
    return dict(cells)


def balances_as_at(day: date) -> dict[int, int]:
    rows = db.session.execute(
        sa.select(LedgerEntry.account_id, sa.func.sum(LedgerEntry.amount_pence))
        .where(LedgerEntry.effective_date <= day)
        .group_by(LedgerEntry.account_id)
    )
    return {account_id: int(total) for account_id, total in rows}


def test_every_figure_agrees_with_the_ledger_on_every_date(world):
    for day in DATES:
        check_date(world, day)


def check_date(world, day):
    codes = {d.id: d.code for d in world}
    result = build(filters(as_at=day))
    (table,) = [t for t in result.tables if t.key == "by_department"]
    by_name = {d.name: d.id for d in world}
    got = {
        (by_name[row["department"]], b): row[b]
        for row in table.rows
        for b in AGE_BUCKET_KEYS
        if row[b]
    }
    assert got == expected_by_department_and_bucket(day), day
    assert got, "a date with nothing owed proves little"

    at = q.AsAt.of(day, TODAY)
    owed = q.outstanding_by_account(at)
    credit = q.unallocated_by_account(at)
    balance = balances_as_at(day)
    for account_id in set(owed) | set(credit) | set(balance):
        assert owed.get(account_id, 0) == balance.get(account_id, 0) + credit.get(account_id, 0), (
            day,
            account_id,
        )
    assert table.totals["total"] == sum(owed.values())

    # Every money cell of the department table opens accounts that add up to it.
    for row in [*table.rows, table.totals]:
        for key in (*AGE_BUCKET_KEYS, "total"):
            if row[key]:
                link = {k: v for k, v in row[f"{key}__link"].items() if k != "key"}
                drill = build_accounts(filters(**link))
                assert drill.tables[0].next_after is None
                assert sum(r["outstanding"] for r in drill.tables[0].rows) == row[key]
                assert drill.figures[0].value == row[key]
    assert set(codes.values()) >= {"CARE", "RENT"}


def test_today_the_grand_total_is_the_reconciliations_sum_of_outstanding_invoices(world):
    outstanding = db.session.scalar(
        sa.text(
            """SELECT SUM(i.total_pence - COALESCE(a.allocated, 0)) FROM invoices i
               LEFT JOIN (SELECT invoice_id, SUM(amount_pence) AS allocated
                          FROM allocations GROUP BY invoice_id) a ON a.invoice_id = i.id"""
        )
    )
    result = build(filters())
    assert {f.label: f.value for f in result.figures}["Total outstanding"] == outstanding
    stage_table = next(t for t in result.tables if t.key == "by_stage")
    assert stage_table.totals["total"] == outstanding
    # The stage table's cells open their accounts too.
    for row in stage_table.rows:
        for key in AGE_BUCKET_KEYS:
            if row[key]:
                link = {k: v for k, v in row[f"{key}__link"].items() if k != "key"}
                drill = build_accounts(filters(**link))
                assert sum(r["outstanding"] for r in drill.tables[0].rows) == row[key]


def test_as_at_a_past_date_the_stage_table_adds_up_to_the_department_table(world):
    result = build(filters(as_at=date(2026, 3, 31)))
    by_department, by_stage = result.tables
    for key in (*AGE_BUCKET_KEYS, "total"):
        assert by_stage.totals[key] == by_department.totals[key]
    assert sum(r["total"] for r in by_stage.rows if r["stage"] != "Not on the ladder") > 0


def test_the_accounts_behind_a_cell_come_a_page_at_a_time_by_account(db):
    department = make_department("BIG", name="Big department")
    for n in range(PAGE_SIZE + 3):
        account = emailable(surname=f"Many{n}")
        ledger.raise_invoice(
            account_id=account.id,
            department_id=department.id,
            number=f"P{n:04d}",
            issue_date=date(2026, 1, 1),
            due_date=date(2026, 1, 31),
            description="Service",
            lines=[ledger.LineInput("Service", 1, 1_000 + n)],
            actor=SYSTEM,
        )
    cell = {"department": "BIG", "bucket": "91_180"}  # 137 days past due
    first = build_accounts(filters(**cell)).tables[0]
    assert len(first.rows) == PAGE_SIZE and first.next_after is not None
    assert first.totals is None  # a part of the cell: no total that is not the page's
    second = build_accounts(filters(**cell, after=first.next_after)).tables[0]
    assert len(second.rows) == 3 and second.next_after is None
    refs = [r["reference"] for r in first.rows + second.rows]
    assert len(set(refs)) == PAGE_SIZE + 3
    assert sum(r["outstanding"] for r in first.rows + second.rows) == sum(
        1_000 + n for n in range(PAGE_SIZE + 3)
    )
