"""The collection report on a small world with answers worked out by hand, and on a
generated one checked against the ledger's entries summed here, entry by entry.

The hand-made world (TODAY is 17 June 2026, financial year 2026 from 1 April):
- Trade waste: W1 £1,000 issued 31 March 2026 (the last day of 2025 to 2026), W2 £500
  issued 1 April 2026, credited £100 today;
- Adult social care: C1 £300 issued 10 May, C2 £200 issued 1 June;
- Licensing: nothing.
Payments: card £200 on 31 March (W1), Direct Debit £400 on 1 April (W1, returned
today), bank transfer £150 on 30 April, phone £50 on 1 May, cheque £20 on 31 May (all
C1), cash £70 on 1 June on an account with no invoices (unallocated, £30 of it
refunded today), card £25 on 10 June (W1).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shared.domain.reporting import channel_of
from shared.models import EntryKind, Invoice, LedgerEntry, PaymentMethod, StaffRole
from shared.reports.base import ReportFilters, parse_filters
from shared.reports.collection import UNALLOCATED, build
from shared.reports.collection_ledger import Slices
from shared.services import actors, collection_targets, ledger
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock


def _filters(**args: str) -> ReportFilters:
    from shared.extensions import db

    codes = set(db.session.scalars(sa.text("SELECT code FROM service_departments")))
    filters, errors = parse_filters(args, today=TODAY, department_codes=lambda: codes)
    assert not errors, errors
    return filters


def _table(result, key):
    return next(t for t in result.tables if t.key == key)


def _row(table, column, value):
    return next(r for r in table.rows if r[column] == value)


def _invoice(account, department, number, pence, issued):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number=number,
        issue_date=issued,
        due_date=issued + timedelta(days=30),
        description="Service",
        lines=[ledger.LineInput("Service", 1, pence)],
        actor=actors.SYSTEM,
    )


def _pay(account, pence, method, on):
    return ledger.record_payment(
        account_id=account.id,
        amount_pence=pence,
        method=PaymentMethod(method),
        actor=actors.SYSTEM,
        effective_date=on,
    ).entry


@pytest.fixture
def world(app):
    waste = make_department("WASTE", name="Trade waste")
    care = make_department("CARE", name="Adult social care")
    make_department("LIC", name="Licensing")
    acc1, acc2, acc3 = make_account(), make_account(), make_account()
    _invoice(acc1, waste, "W1", 100_000, date(2026, 3, 31))
    w2 = _invoice(acc1, waste, "W2", 50_000, date(2026, 4, 1))
    _invoice(acc2, care, "C1", 30_000, date(2026, 5, 10))
    _invoice(acc2, care, "C2", 20_000, date(2026, 6, 1))
    ledger.raise_credit_note(
        invoice_id=w2.id, amount_pence=10_000, reason="Overcharged", actor=actors.SYSTEM
    )
    _pay(acc1, 20_000, "card", date(2026, 3, 31))
    dd = _pay(acc1, 40_000, "direct_debit", date(2026, 4, 1))
    _pay(acc2, 15_000, "bank_transfer", date(2026, 4, 30))
    _pay(acc2, 5_000, "telephone_card", date(2026, 5, 1))
    _pay(acc2, 2_000, "cheque", date(2026, 5, 31))
    cash = _pay(acc3, 7_000, "cash", date(2026, 6, 1))
    _pay(acc1, 2_500, "card", date(2026, 6, 10))
    ledger.reverse(entry_id=dd.id, reason="ARUDD: no instruction", actor=actors.SYSTEM)
    ledger.refund(
        source_entry_id=cash.id, amount_pence=3_000, reason="Overpaid", actor=actors.SYSTEM
    )
    admin = actors.staff(make_staff(StaffRole.ADMIN).id)
    collection_targets.set_target(waste.id, 2026, 9250, 0, admin)
    collection_targets.set_target(care.id, 2026, 9500, 0, admin)
    return waste, care


def test_the_year_so_far_by_department_matches_the_worked_answers(world):
    result = build(_filters())
    table = _table(result, "departments")
    waste = _row(table, "department", "Trade waste")
    assert (waste["invoiced"], waste["credited"], waste["raised"]) == (50_000, 10_000, 40_000)
    # The £400 Direct Debit of 1 April and its return today net to nothing.
    assert waste["collected"] == 2_500
    assert (waste["rate"], waste["target"], waste["versus"]) == (625, 9250, 625 - 9250)
    care = _row(table, "department", "Adult social care")
    assert (care["raised"], care["collected"], care["rate"]) == (50_000, 22_000, 4400)
    licensing = _row(table, "department", "Licensing")
    assert (licensing["raised"], licensing["collected"], licensing["rate"]) == (0, 0, None)
    assert _row(table, "department", UNALLOCATED)["collected"] == 7_000
    assert table.totals["raised"] == 90_000
    assert table.totals["collected"] == 31_500
    assert table.totals["rate"] == 3500
    # Weighted by what each raised: (9250 x 400 + 9500 x 500) / 900, rounded.
    assert table.totals["target"] == 9389
    assert [f.value for f in result.figures] == [90_000, 31_500, 3500, 9389]


def test_channels_show_reversals_netted_and_refunds_beside_them(world):
    channels = _table(build(_filters()), "channels")
    by = {r["channel"]: r for r in channels.rows}
    assert (by["Direct Debit"]["paid"], by["Direct Debit"]["reversed"]) == (40_000, 40_000)
    assert by["Direct Debit"]["collected"] == 0
    assert by["Card online"]["collected"] == 2_500  # the 31 March card payment is last year
    assert by["Bank transfer"]["collected"] == 15_000
    assert by["Phone"]["collected"] == 5_000
    assert (by["Other"]["collected"], by["Other"]["refunded"], by["Other"]["net"]) == (
        9_000,
        3_000,
        6_000,
    )
    assert channels.totals["collected"] == 31_500
    assert channels.totals["refunded"] == 3_000


def test_months_split_at_31_march_and_1_april(world):
    months = _table(build(_filters(year="2026")), "months")
    assert [r["month"] for r in months.rows] == ["April 2026", "May 2026", "June 2026"]
    april, may, june = months.rows
    assert (april["raised"], april["direct_debit"], april["bank_transfer"]) == (
        50_000,
        40_000,
        15_000,
    )
    assert april["card_online"] == 0  # 31 March's card payment is in March, last year
    assert (may["raised"], may["collected"]) == (30_000, 7_000)
    assert june["raised"] == 20_000 - 10_000
    assert june["direct_debit"] == -40_000  # the return lands when it was posted
    assert june["collected"] == 7_000 + 2_500 - 40_000
    assert (june["cum_raised"], june["cum_collected"], june["cum_rate"]) == (
        90_000,
        31_500,
        3500,
    )
    assert months.totals["collected"] == 31_500

    last_year = _table(build(_filters(year="2025")), "months")
    assert len(last_year.rows) == 12
    march = last_year.rows[-1]
    assert (march["month"], march["raised"], march["card_online"]) == (
        "March 2026",
        100_000,
        20_000,
    )
    assert sum(r["raised"] for r in last_year.rows[:-1]) == 0


def test_a_one_day_period_on_31_march_holds_only_that_day(world):
    result = build(_filters(**{"from": "2026-03-31", "to": "2026-03-31"}))
    table = _table(result, "departments")
    assert _row(table, "department", "Trade waste")["raised"] == 100_000
    assert table.totals["collected"] == 20_000
    assert table.totals["rate"] == 2000
    # The target is the one for the period's financial year, 2025 to 2026: none set.
    assert table.totals["target"] is None


def test_one_department_gets_only_what_was_allocated_to_its_invoices(world):
    result = build(_filters(department="WASTE"))
    table = _table(result, "departments")
    assert [r["department"] for r in table.rows] == ["Trade waste"]
    assert table.totals["collected"] == 2_500
    assert table.totals["target"] == 9250
    by = {r["channel"]: r for r in _table(result, "channels").rows}
    assert (by["Direct Debit"]["paid"], by["Direct Debit"]["reversed"]) == (40_000, 40_000)
    assert by["Other"]["refunded"] is None  # refunds belong to no department
    months = _table(result, "months")
    assert months.rows[0]["raised"] == 50_000
    assert months.rows[0]["target"] == 9250
    assert [c.target for c in result.charts if c.kind == "line"] == [9250]


def test_an_empty_ledger_gives_zeros_and_no_rate(app):
    result = build(_filters())
    table = _table(result, "departments")
    assert table.totals["collected"] == 0
    assert table.totals["rate"] is None
    assert [r["month"] for r in _table(result, "months").rows] == [
        "April 2026",
        "May 2026",
        "June 2026",
    ]


def test_slices_cut_a_period_and_its_months_at_every_edge():
    slices = Slices.cut(
        [(date(2026, 4, 15), date(2026, 5, 20)), (date(2026, 4, 1), date(2026, 4, 30))]
    )
    assert slices.edges == (
        date(2026, 4, 1),
        date(2026, 4, 15),
        date(2026, 5, 1),
        date(2026, 5, 21),
    )
    assert slices.spans == ((date(2026, 4, 1), date(2026, 5, 21)),)
    assert slices.covering(date(2026, 4, 1), date(2026, 4, 30)) == {0, 1}
    assert slices.covering(date(2026, 4, 15), date(2026, 5, 20)) == {1, 2}


# --- a generated ledger, checked against its entries ---------------------------------------------


@pytest.fixture
def generated(app, db):
    rng = random.Random(15)
    departments = [make_department(f"G{i}", name=f"Generated {i}") for i in range(3)]
    accounts = [make_account() for _ in range(12)]
    start = date(2025, 3, 1)
    span = (TODAY - start).days
    for n in range(40):
        _invoice(
            rng.choice(accounts),
            rng.choice(departments),
            f"G{n:04d}",
            rng.randrange(1_000, 90_000),
            start + timedelta(days=rng.randrange(span)),
        )
    methods = list(PaymentMethod)
    payments = [
        _pay(
            rng.choice(accounts),
            rng.randrange(500, 60_000),
            rng.choice(methods),
            start + timedelta(days=rng.randrange(span + 1)),
        )
        for _ in range(60)
    ]
    for entry in rng.sample(payments, 8):
        ledger.reverse(entry_id=entry.id, reason="Returned", actor=actors.SYSTEM)
    return departments


def _ledger_movements(db, first: date, last: date):
    """Summed here entry by entry: payments less payment reversals by channel, and
    invoices less credit notes by department."""
    entries = db.session.scalars(
        sa.select(LedgerEntry).where(
            LedgerEntry.effective_date >= first, LedgerEntry.effective_date <= last
        )
    ).all()
    by_id = {e.id: e for e in db.session.scalars(sa.select(LedgerEntry))}
    department_of = dict(db.session.execute(sa.select(Invoice.id, Invoice.department_id)).all())
    cash, raised = defaultdict(int), defaultdict(int)
    for e in entries:
        if e.kind == EntryKind.PAYMENT:
            cash[channel_of(e.method)] += -e.amount_pence
        elif e.kind == EntryKind.REVERSAL and by_id[e.reverses_entry_id].kind == "payment":
            cash[channel_of(by_id[e.reverses_entry_id].method)] -= e.amount_pence
        elif e.kind in (EntryKind.INVOICE, EntryKind.CREDIT_NOTE):
            raised[department_of[e.invoice_id]] += e.amount_pence
    return cash, raised


@pytest.mark.parametrize(
    "first,last",
    [
        (date(2026, 4, 1), TODAY),
        (date(2025, 4, 1), date(2026, 3, 31)),
        (date(2025, 3, 31), date(2025, 4, 1)),
        (TODAY, TODAY),
    ],
)
def test_generated_collection_equals_the_ledgers_movements(generated, db, first, last):
    result = build(_filters(**{"from": first.isoformat(), "to": last.isoformat()}))
    cash, raised = _ledger_movements(db, first, last)
    channels = {r["channel"]: r["collected"] for r in _table(result, "channels").rows}
    labels = {"card_online": "Card online", "direct_debit": "Direct Debit"}
    labels |= {"bank_transfer": "Bank transfer", "phone": "Phone", "other": "Other"}
    assert channels == {labels[k]: cash.get(k, 0) for k in labels}
    table = _table(result, "departments")
    assert table.totals["collected"] == sum(cash.values())
    for department in generated:
        assert _row(table, "department", department.name)["raised"] == raised.get(department.id, 0)
    assert table.totals["raised"] == sum(raised.values())


def test_generated_months_add_up_to_the_year(generated, db):
    for year in (2025, 2026):
        result = build(_filters(year=str(year)))
        months = _table(result, "months")
        last = min(date(year + 1, 3, 31), TODAY)
        cash, raised = _ledger_movements(db, date(year, 4, 1), last)
        assert sum(r["collected"] for r in months.rows) == sum(cash.values())
        assert sum(r["raised"] for r in months.rows) == sum(raised.values())
        # Each month's own figures, entry by entry, at its edges.
        for r, month_first in zip(months.rows, _month_starts(year, last), strict=True):
            month_last = min(_month_last(month_first), last)
            cash_m, raised_m = _ledger_movements(db, month_first, month_last)
            assert r["collected"] == sum(cash_m.values()), r["month"]
            assert r["raised"] == sum(raised_m.values()), r["month"]


def _month_starts(year: int, last: date) -> list[date]:
    out, day = [], date(year, 4, 1)
    while day <= last:
        out.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return out


def _month_last(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1) - timedelta(days=1)
