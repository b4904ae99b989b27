"""The aged-debt report on a small book whose figures are worked out by hand: what each
invoice owed as at three dates (before and after later payments, a backdated cheque, a
credit note, a write-off and a chargeback), the bucket each falls in on each date, the
stage each had reached by then (real dunning runs and a real referral), and the
drill-down to the accounts behind a cell."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shared.models import DebtorKind, PaymentMethod, RecoveryStage, StaffRole
from shared.reports import aged_debt_sql as q
from shared.reports.aged_debt import build, build_accounts
from shared.reports.base import ReportRefused, parse_filters
from shared.reports.registry import get_report
from shared.services import ledger, referrals
from shared.services.actors import SYSTEM, staff
from shared.services.dunning import runs
from shared.services.reports import department_options
from tests.factories import make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.integration.dunning_world import emailable, install_templates, make_ladder, stage_of

pytestmark = frozen_clock

MARCH_END = date(2026, 3, 31)
MAY_END = date(2026, 5, 31)


def on(time_machine, day: date) -> None:
    time_machine.move_to(datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC), tick=True)


def invoice(account, department, number, pence, issue, due):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number=number,
        issue_date=issue,
        due_date=due,
        description="Service",
        lines=[ledger.LineInput("Service", 1, pence)],
        actor=SYSTEM,
    )


def pay(account, pence, method=PaymentMethod.CHEQUE, **kw):
    return ledger.record_payment(
        account_id=account.id, amount_pence=pence, method=method, actor=SYSTEM, **kw
    ).entry


@pytest.fixture
def book(db, time_machine):
    """Trade waste (with a ladder) and adult social care; four debtors, dated events."""
    install_templates()
    waste = make_ladder("Trade waste")
    care = make_department("CARE", name="Adult social care")
    leader = make_staff(StaffRole.TEAM_LEADER)
    a = emailable(surname="Archer")
    b = emailable(
        surname=None, kind=DebtorKind.ORGANISATION, organisation_name="Borchester Care Ltd"
    )
    c = emailable(surname="Carter")
    d = emailable(surname="Dawson")

    on(time_machine, date(2025, 3, 1))
    d1 = invoice(d, care, "D1", 8_000, date(2025, 3, 1), date(2025, 3, 31))
    on(time_machine, date(2026, 1, 2))
    a1 = invoice(a, waste, "A1", 100_000, date(2026, 1, 2), date(2026, 2, 1))
    on(time_machine, date(2026, 2, 20))
    runs.execute(date(2026, 2, 20), SYSTEM)  # A1 19 days past due: reminder
    on(time_machine, date(2026, 3, 10))
    pay(a, 40_000)
    on(time_machine, date(2026, 4, 1))
    b1 = invoice(b, care, "B1", 50_000, date(2026, 4, 1), date(2026, 5, 1))
    on(time_machine, date(2026, 4, 15))
    ledger.write_off(invoice_id=d1.id, amount_pence=8_000, reason="Uneconomic", actor=SYSTEM)
    on(time_machine, date(2026, 4, 20))
    runs.execute(date(2026, 4, 20), SYSTEM)  # A1 78 days past due: final demand
    on(time_machine, date(2026, 5, 5))
    ledger.raise_credit_note(
        invoice_id=b1.id, amount_pence=10_000, reason="Overcharged", actor=SYSTEM
    )
    on(time_machine, date(2026, 5, 10))
    card = pay(b, 15_000, PaymentMethod.CARD, external_reference="pi_b")
    on(time_machine, date(2026, 5, 20))
    pay(a, 30_000)
    on(time_machine, date(2026, 6, 1))
    c1 = invoice(c, waste, "C1", 20_000, date(2026, 6, 1), date(2026, 7, 1))
    referrals.refer_for_enforcement(
        b.id, "legal", "Disputes every letter", staff(leader.id), today=date(2026, 6, 1)
    )
    on(time_machine, date(2026, 6, 5))
    # A cheque banked on 20 March, recorded on 5 June: in the ledger from 20 March,
    # settling A1 only from 5 June.
    pay(a, 10_000, effective_date=date(2026, 3, 20))
    on(time_machine, date(2026, 6, 10))
    overpaid = pay(c, 25_000, PaymentMethod.CARD, external_reference="pi_c")
    on(time_machine, date(2026, 6, 12))
    ledger.reverse(entry_id=card.id, reason="Chargeback", actor=SYSTEM)
    on(time_machine, date(2026, 6, 15))
    ledger.refund(source_entry_id=overpaid.id, amount_pence=2_000, reason="Asked", actor=SYSTEM)
    on(time_machine, TODAY)
    return {"waste": waste, "care": care, "a1": a1, "b1": b1, "c1": c1, "d1": d1}


def report(as_at: date | str | None = None, **args):
    query = {"as_at": str(as_at)} if as_at else {}
    filters, errors = parse_filters(
        {**query, **args},
        today=TODAY,
        department_codes=lambda: {code.upper() for code, _ in department_options()},
    )
    assert not errors
    return filters


def grid(result, table_key):
    (table,) = [t for t in result.tables if t.key == table_key]
    first = table.columns[0].key
    return {
        (row[first], col.key): row[col.key]
        for row in table.rows
        for col in table.columns[1:]
        if col.kind == "money" and row[col.key]
    }, table


def figures(result):
    return {f.label: f.value for f in result.figures}


def test_the_book_is_what_the_hand_worked_figures_assume(book):
    assert stage_of(book["a1"].id) == RecoveryStage.FINAL_DEMAND
    assert stage_of(book["b1"].id) == RecoveryStage.REFERRED_LEGAL
    assert stage_of(book["d1"].id) == RecoveryStage.NONE  # care has no ladder


def test_as_at_the_end_of_march_it_shows_what_was_owed_before_later_payments(book):
    result = build(report(MARCH_END))
    cells, _ = grid(result, "by_department")
    # A1: 1,000.00 less 400.00 paid on 10 March (the cheque dated 20 March was only
    # recorded in June); due 1 February, 58 days past due. D1: due 31 March 2025, 365
    # days past due, written off only in April.
    assert cells == {
        ("Trade waste", "31_60"): 60_000,
        ("Trade waste", "total"): 60_000,
        ("Adult social care", "181_365"): 8_000,
        ("Adult social care", "total"): 8_000,
    }
    assert figures(result) == {
        "Total outstanding": 68_000,
        "Over 90 days past due": 8_000,
        "Share over 90 days past due": 1_176,  # 8,000 / 68,000
        "Accounts in debt": 2,
    }
    stages, _ = grid(result, "by_stage")
    assert stages == {
        ("Reminder", "31_60"): 60_000,  # the final demand came on 20 April
        ("Reminder", "total"): 60_000,
        ("Not on the ladder", "181_365"): 8_000,
        ("Not on the ladder", "total"): 8_000,
    }


def test_as_at_the_end_of_may_a_chargeback_in_june_has_not_happened_yet(book):
    result = build(report(MAY_END))
    cells, table = grid(result, "by_department")
    # A1 has had 400 + 300 paid: 119 days past due. B1: 500 less the 100 credit note and
    # the 150 card payment reversed in June; 30 days past due. D1 written off.
    assert cells == {
        ("Trade waste", "91_180"): 30_000,
        ("Trade waste", "total"): 30_000,
        ("Adult social care", "1_30"): 25_000,
        ("Adult social care", "total"): 25_000,
    }
    assert table.totals["total"] == 55_000 and table.totals["accounts"] == 2
    stages, _ = grid(result, "by_stage")
    assert stages == {
        ("Final demand", "91_180"): 30_000,
        ("Final demand", "total"): 30_000,
        ("Not on the ladder", "1_30"): 25_000,  # referred on 1 June
        ("Not on the ladder", "total"): 25_000,
    }


def test_today_it_shows_the_books_as_they_stand_and_the_stage_each_invoice_is_at(book):
    result = build(report())
    cells, table = grid(result, "by_department")
    assert cells == {
        ("Trade waste", "91_180"): 20_000,  # the June cheque now settles 100 more
        ("Trade waste", "total"): 20_000,
        ("Adult social care", "31_60"): 40_000,  # the chargeback took the 150 back
        ("Adult social care", "total"): 40_000,
    }
    assert [r["department"] for r in table.rows] == ["Adult social care", "Trade waste"]
    stages, _ = grid(result, "by_stage")
    assert stages == {
        ("Final demand", "91_180"): 20_000,
        ("Final demand", "total"): 20_000,
        ("Referred to legal", "31_60"): 40_000,
        ("Referred to legal", "total"): 40_000,
    }
    assert figures(result)["Accounts in debt"] == 2
    assert result.scope == "as at 17 June 2026"


def test_each_accounts_total_is_its_ledger_balance_plus_its_unallocated_credit(book):
    for day, expected in (
        # account: (outstanding, unallocated credit); balance = outstanding - credit
        (MARCH_END, {"A": (60_000, 10_000), "D": (8_000, 0)}),
        (MAY_END, {"A": (30_000, 10_000), "B": (25_000, 0)}),
        (TODAY, {"A": (20_000, 0), "B": (40_000, 0), "C": (0, 3_000)}),
    ):
        at = q.AsAt.of(day, TODAY)
        owed, credit = q.outstanding_by_account(at), q.unallocated_by_account(at)
        by_letter = {
            letter: (owed.get(i, 0), credit.get(i, 0))
            for letter, i in zip("ABCD", account_ids(book), strict=True)
        }
        assert {k: v for k, v in by_letter.items() if v != (0, 0)} == expected, day


def account_ids(book):
    return [book[k].account_id for k in ("a1", "b1", "c1", "d1")]


def test_a_department_filter_shows_only_that_department(book):
    result = build(report(MAY_END, department="CARE"))
    cells, table = grid(result, "by_department")
    assert [r["department"] for r in table.rows] == ["Adult social care"]
    assert figures(result)["Total outstanding"] == 25_000
    assert result.scope == "as at 31 May 2026, Adult social care"
    assert table.rows[0]["1_30__link"] == {
        "key": "aged-debt-accounts",
        "as_at": "2026-05-31",
        "department": "CARE",
        "bucket": "1_30",
    }


def test_a_cells_link_opens_the_accounts_behind_it_summing_to_the_cell(book):
    result = build(report(MARCH_END))
    _, table = grid(result, "by_department")
    waste = next(r for r in table.rows if r["department"] == "Trade waste")
    link = dict(waste["31_60__link"])
    assert link.pop("key") == "aged-debt-accounts"
    drill = build_accounts(report(**link))
    (accounts,) = drill.tables
    assert [
        (r["reference"], r["outstanding"], r["invoices"], r["oldest_due"]) for r in accounts.rows
    ] == [(book["a1"].account.reference, 60_000, 1, date(2026, 2, 1))]
    assert accounts.rows[0]["reference__link"] == {"reference": book["a1"].account.reference}
    assert accounts.rows[0]["name"] == "Alex Archer"
    assert accounts.totals["outstanding"] == waste["31_60"]
    assert accounts.next_after is None


def test_a_stage_cells_link_names_the_stage_and_finds_the_referred_debt(book):
    _, table = grid(build(report()), "by_stage")
    legal = next(r for r in table.rows if r["stage"] == "Referred to legal")
    link = dict(legal["total__link"])
    link.pop("key")
    drill = build_accounts(report(**link))
    assert [(r["name"], r["outstanding"]) for r in drill.tables[0].rows] == [
        ("Borchester Care Ltd", 40_000)
    ]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"bucket": "2_weeks"}, "bucket"),
        ({"stage": "court"}, "stage"),
        ({"after": "12; DROP TABLE invoices"}, "after"),
        ({"after": "9" * 19}, "after"),
    ],
)
def test_a_bad_drill_down_parameter_is_refused_naming_it(book, args, field):
    with pytest.raises(ReportRefused) as refused:
        build_accounts(report(**args))
    assert refused.value.field == field


def test_both_reports_are_registered_the_drill_down_unlisted(app):
    main, drill = get_report("aged-debt"), get_report("aged-debt-accounts")
    assert main.in_pack and main.listed and main.uses == {"as_at", "department"}
    assert not drill.listed and not drill.in_pack
