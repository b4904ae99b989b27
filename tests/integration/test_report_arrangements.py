"""The payment plans report on plans made, paid, completed and broken by the real
services (plans.propose, ledger payments, the daily plan monitor) at known moments,
so every figure has a known answer worked out by hand below.

The world (period under test: May 2026; today: 17 June 2026):
  P0  Trade waste, Direct Debit, £120 monthly from 25 May, agreed 30 April 23:30 BST,
      £40 paid by card 28 May: active, up to date, not started in May
  P1  Trade waste, card, £90 monthly from 25 May, agreed 1 May 00:30 BST (30 April
      UTC), £30 paid 28 May: active, up to date
  P2  Trade waste, card, £60, agreed 5 May, paid in full by card 10 May: completed 19 May
  P3  Social care, card, £80 weekly from 4 May, agreed 2 May, nothing paid: broken
      19 May; £20 paid 25 May after it broke (not through the plan)
  P4  Social care, card, £300 monthly from 5 May, agreed 2 May, nothing paid: one
      instalment missed on 19 May, still active, in arrears
  P5  Trade waste, card, £100 weekly from 6 April, agreed 1 April, £30 by bank transfer
      10 May: broken 19 May (started before May)
  P6  Trade waste, card, £50, agreed 20 May, paid 9 June: completed 10 June (after May)
  P7  £100 Trade waste + £300 Social care (so Social care's), Direct Debit, monthly
      from 1 June, agreed 3 May, £150 paid by card 31 May: active, up to date
  and a proposal waiting for a decision, which is not an arrangement yet.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from shared.domain.permissions import Permission
from shared.models import (
    Arrangement,
    ArrangementStatus,
    Frequency,
    PaymentMethod,
    PaymentRoute,
)
from shared.reports.base import parse_filters
from shared.reports.registry import get_report
from shared.services import ledger, plan_monitor, plans
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock

TW, ASC = "TW", "ASC"


def at(time_machine, stamp: datetime) -> None:
    time_machine.move_to(stamp, tick=True)


def utc(y, m, d, h=11, minute=0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=UTC)


def invoice(account_id, department_id, pence, number):
    return ledger.raise_invoice(
        account_id=account_id,
        department_id=department_id,
        number=number,
        issue_date=date(2026, 2, 1),
        due_date=date(2026, 3, 1),
        description="Services",
        lines=[ledger.LineInput("Services", 1, pence)],
        actor=SYSTEM,
    )


def plan(time_machine, when, depts, route, frequency, start, count):
    """An account with one invoice per (department id, pence) and a plan agreed at `when`."""
    at(time_machine, when)
    account = make_account()
    ids = [
        invoice(account.id, dept_id, pence, f"INV-{account.id}-{i}").id
        for i, (dept_id, pence) in enumerate(depts)
    ]
    made = plans.propose(
        account_id=account.id,
        invoice_ids=ids,
        terms=plans.Terms(frequency, start, count=count),
        payment_route=route,
        actor=SYSTEM,
    )
    assert made.status == ArrangementStatus.ACTIVE
    return account.id


def pay(time_machine, when, account_id, pence, method=PaymentMethod.CARD):
    at(time_machine, when)
    ledger.record_payment(account_id=account_id, amount_pence=pence, method=method, actor=SYSTEM)


@pytest.fixture
def world(db, time_machine):
    at(time_machine, utc(2026, 3, 1))
    tw = make_department(TW, name="Trade waste").id
    asc = make_department(ASC, name="Social care").id
    may25 = date(2026, 5, 25)
    m = Frequency.MONTHLY
    p0 = plan(time_machine, utc(2026, 4, 30, 22, 30), [(tw, 12_000)], "direct_debit", m, may25, 3)
    p1 = plan(time_machine, utc(2026, 4, 30, 23, 30), [(tw, 9_000)], "card", m, may25, 3)
    p2 = plan(time_machine, utc(2026, 5, 5), [(tw, 6_000)], "card", m, date(2026, 5, 12), 2)
    p3 = plan(
        time_machine,
        utc(2026, 5, 2),
        [(asc, 8_000)],
        "card",
        Frequency.WEEKLY,
        date(2026, 5, 4),
        4,
    )
    plan(time_machine, utc(2026, 5, 2), [(asc, 30_000)], "card", m, date(2026, 5, 5), 6)
    p5 = plan(
        time_machine,
        utc(2026, 4, 1),
        [(tw, 10_000)],
        "card",
        Frequency.WEEKLY,
        date(2026, 4, 6),
        5,
    )
    p7 = plan(
        time_machine,
        utc(2026, 5, 3),
        [(tw, 10_000), (asc, 30_000)],
        "direct_debit",
        m,
        date(2026, 6, 1),
        4,
    )
    pay(time_machine, utc(2026, 5, 10), p2, 6_000)
    pay(time_machine, utc(2026, 5, 10, 12), p5, 3_000, PaymentMethod.BANK_TRANSFER)
    at(time_machine, utc(2026, 5, 19, 6))
    counts = plan_monitor.run(date(2026, 5, 19))
    assert (counts.completed, counts.broken) == (1, 2)
    p6 = plan(time_machine, utc(2026, 5, 20), [(tw, 5_000)], "card", m, date(2026, 6, 1), 2)
    pay(time_machine, utc(2026, 5, 25), p3, 2_000)
    pay(time_machine, utc(2026, 5, 28), p0, 4_000)
    pay(time_machine, utc(2026, 5, 28, 12), p1, 3_000)
    pay(time_machine, utc(2026, 5, 31), p7, 15_000)
    pay(time_machine, utc(2026, 6, 9), p6, 5_000)
    at(time_machine, utc(2026, 6, 10, 6))
    assert plan_monitor.run(date(2026, 6, 10)).completed == 1
    # A proposal waiting on an officer is not an arrangement yet.
    waiting = make_account()
    db.session.add(
        Arrangement(
            account_id=waiting.id,
            status=ArrangementStatus.PROPOSED,
            frequency=m,
            total_pence=99_900,
            start_date=date(2026, 7, 1),
            payment_route=PaymentRoute.CARD,
        )
    )
    db.session.commit()
    at(time_machine, utc(2026, 6, 17))
    return {"tw": tw, "asc": asc}


def run(db, **args):
    filters, errors = parse_filters(
        {"from": "2026-05-01", "to": "2026-05-31", **args},
        today=TODAY,
        department_codes=lambda: {TW, ASC},
    )
    assert not errors
    return get_report("arrangements").build(filters)


def table(result, key):
    return next(t for t in result.tables if t.key == key)


def by(rows, label_key):
    return {r[label_key]: r for r in rows}


COUNTS = ("active", "in_arrears", "started", "completed", "broken", "cancelled", "kept")


def test_each_department_counts_the_plans_it_should(db, world):
    rows = by(table(run(db), "departments").rows, "department")

    assert set(rows) == {"Trade waste", "Social care"}
    tw, asc = rows["Trade waste"], rows["Social care"]
    # Trade waste: P0, P1 active; P1, P2, P6 started; P2 completed; P5 broken.
    assert [tw[k] for k in COUNTS] == [2, 0, 3, 1, 1, 0, 3]
    # Social care: P4, P7 active (P4 in arrears); P3, P4, P7 started; P3 broken.
    assert [asc[k] for k in COUNTS] == [2, 1, 3, 0, 1, 0, 1]
    assert (tw["share_kept"], asc["share_kept"]) == (10_000, 3_333)


def test_the_money_under_and_through_plans_is_the_ledgers(db, world):
    rows = by(table(run(db), "departments").rows, "department")
    tw, asc = rows["Trade waste"], rows["Social care"]

    assert (tw["active_value"], asc["active_value"]) == (21_000, 70_000)
    # P0 has £40 of £120 paid, P1 £30 of £90, P4 nothing, P7 £150 of £400.
    assert (tw["to_pay"], asc["to_pay"]) == (14_000, 55_000)
    # May: P2's £60, P0's £40, P1's £30 by card and P5's £30 by transfer while it ran;
    # P7's £150 (Social care's plan, though £100 of it paid the Trade waste invoice);
    # not P3's £20 after it broke, nor P6's June payment.
    assert (tw["collected"], asc["collected"]) == (16_000, 15_000)
    channels = by(table(run(db), "channels").rows, "channel")
    assert {k: v["collected"] for k, v in channels.items()} == {
        "Card online": 28_000,
        "Bank transfer": 3_000,
    }


def test_totals_are_the_sum_of_the_rows_in_every_table(db, world):
    result = run(db)
    for key, _label in (
        ("departments", "department"),
        ("routes", "route"),
        ("started", "department"),
    ):
        t = table(result, key)
        for column in t.columns[1:]:
            if column.kind in ("count", "money"):
                assert t.totals[column.key] == sum(r[column.key] for r in t.rows), (key, column)
    assert table(result, "departments").totals["share_kept"] == 6_667  # 4 of 6 kept
    # What became of the started plans accounts for every one of them.
    for row in table(result, "started").rows + [table(result, "started").totals]:
        states = ("started_completed", "started_up_to_date", "started_in_arrears")
        ended = ("started_broken", "started_cancelled")
        assert sum(row[k] for k in states + ended) == row["started"]
    assert table(result, "channels").totals["collected"] == 31_000


def test_plans_are_split_by_the_route_they_pay_by(db, world):
    routes = by(table(run(db), "routes").rows, "route")

    assert set(routes) == {"Card", "Direct Debit"}
    # Direct Debit: P0 (not started in May) and P7.
    assert [routes["Direct Debit"][k] for k in COUNTS] == [2, 0, 1, 0, 0, 0, 1]
    assert [routes["Card"][k] for k in COUNTS] == [2, 1, 5, 1, 2, 0, 3]


def test_the_chart_stacks_the_started_plans_by_how_they_stand(db, world):
    chart = run(db).charts[0]

    assert chart.kind == "stacked"
    assert chart.categories == ("Social care", "Trade waste")
    assert {s.name: s.values for s in chart.series} == {
        "Completed": (0, 2),
        "Active, up to date": (1, 1),
        "Active, in arrears": (1, 0),
        "Broken": (1, 0),
        "Cancelled": (0, 0),
    }


def test_a_department_filter_shows_only_that_departments_plans(db, world):
    result = run(db, department=ASC)
    t = table(result, "departments")

    assert [r["department"] for r in t.rows] == ["Social care"]
    assert [t.totals[k] for k in COUNTS] == [2, 1, 3, 0, 1, 0, 1]
    assert result.figures[0].value == 2


def test_the_period_starts_and_ends_on_english_days(db, world):
    # P0 was agreed at 23:30 on 30 April in England, P1 at 00:30 on 1 May.
    april = run(db, **{"from": "2026-04-01", "to": "2026-04-30"})
    assert table(april, "departments").totals["started"] == 2  # P5 and P0
    one_day = run(db, **{"from": "2026-05-01", "to": "2026-05-01"})
    assert table(one_day, "departments").totals["started"] == 1  # P1
    # Ended on 19 May: in a period ending that day, not in one starting the day after.
    to_19 = table(run(db, to="2026-05-19"), "departments").totals
    from_20 = table(run(db, **{"from": "2026-05-20", "to": "2026-06-17"}), "departments").totals
    assert (to_19["completed"], to_19["broken"]) == (1, 2)
    assert (from_20["completed"], from_20["broken"]) == (1, 0)  # P6, on 10 June


def test_the_report_is_registered_for_the_pack_with_its_filters(db):
    report = get_report("arrangements")

    assert report.in_pack and report.permission == Permission.VIEW_REPORTS
    assert report.uses == frozenset({"from", "to", "department"})


def test_with_no_plans_the_report_has_no_share_and_no_rows(db):
    make_department(TW, name="Trade waste")
    filters, _ = parse_filters({}, today=TODAY, department_codes=lambda: {TW})
    result = get_report("arrangements").build(replace(filters, date_from=TODAY - timedelta(30)))

    assert table(result, "departments").rows == []
    assert table(result, "departments").totals["share_kept"] is None
    assert result.figures[2].label == "Plans started and kept"


def test_the_page_shows_the_report_for_the_period_and_department_in_the_url(client, db, world):
    from shared.models import StaffRole
    from tests.factories import make_staff
    from tests.views.conftest import signed_in_session
    from tests.views.pages import parse

    signed_in_session(client, make_staff(StaffRole.TEAM_LEADER))
    page = client.get("/backoffice/reports/arrangements?from=1/5/2026&to=31/5/2026&department=asc")

    assert page.status_code == 200
    html = parse(page)
    assert html.select_one("h1").get_text(strip=True) == "Payment plans"
    captions = [c.get_text(" ", strip=True) for c in html.select("table caption")]
    assert "Payment plans by department" in captions
    first = html.select("table.govuk-table")[0]
    cells = [td.get_text(strip=True) for td in first.select("tbody tr")[0].select("th, td")]
    assert cells[:8] == ["Social care", "2", "1", "3", "0", "1", "0", "33.3%"]
    assert "Trade waste" not in first.get_text()
    assert html.select("figure svg[role='img']")
    download = client.get(
        "/backoffice/reports/arrangements/export.csv?from=2026-05-01&to=2026-05-31"
    )
    assert download.status_code == 200
    assert b"Social care" in download.data and b"Trade waste" in download.data
