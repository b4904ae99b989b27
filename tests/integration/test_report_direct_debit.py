"""The Direct Debit report on mandates and collections in every state, built as the
Bacs services leave them (an invoice's and a plan instalment's collections), with
every figure worked out by hand below.

The world (period under test: May 2026; today 17 June 2026):
  Account A (Trade waste invoice), mandate taken online 1 April, active:
    5 May £100 first (01) paid;  12 May £50 returned, ARUDD 0 (refer to payer);
    19 May £50 re-presented (18) paid;  29 May £40 returned, ARUDD 1 (cancelled);
    31 May £30 in a file, not yet posted;  20 May £25 cancelled (never in a file);
    30 April £10 paid and 1 June £20 paid: outside May.
  Account B (Social care invoice), mandate by phone 10 May, cancelled 25 May:
    15 May £70 (01) returned as an indemnity claim (DDIC); 16 May £60 still scheduled.
  Account C: a Trade waste payment plan paid by Direct Debit, paper mandate signed up
    31 May 23:30 in England (22:30 UTC), waiting to be lodged:
    20 May £30 instalment collection paid (the plan's department: Trade waste).
  Account D: a paper mandate rejected by AUDDIS (1 March). Account E: a mandate taken
    online at 00:30 on 1 June in England (23:30 UTC on 31 May), active.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from shared.models import (
    Collection,
    CollectionStatus,
    Frequency,
    Instalment,
    Mandate,
    MandateSource,
    MandateStatus,
    ModulusOutcome,
    PaymentRoute,
    StaffRole,
)
from shared.reports.base import parse_filters
from shared.reports.registry import get_report
from shared.services import ledger, plans
from shared.services.actors import SYSTEM
from shared.services.directdebit.bank_details import BankDetails, seal
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock

TW, ASC = "TW", "ASC"
C = CollectionStatus


def mandate(db, account_id, source, status, created, cancelled=None, staff_id=None):
    row = Mandate(
        account_id=account_id,
        reference=f"A{account_id:08d}-01",
        account_holder_name="A SMITH",
        bank_details_encrypted=seal(BankDetails("089999", "66374958")),
        account_ending="58",
        modulus_outcome=ModulusOutcome.VALID,
        source=source,
        status=status,
        taken_by_staff_id=staff_id,
        created_at=created,
        cancelled_at=cancelled,
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def collect(db, mandate_id, day, pence, status, code="17", reason=None, **target):
    db.session.add(
        Collection(
            mandate_id=mandate_id,
            amount_pence=pence,
            transaction_code=code,
            collection_date=day,
            status=status,
            return_reason=reason,
            returned_at=datetime(2026, 6, 1, 9) if reason else None,
            **target,
        )
    )
    db.session.commit()


def invoice(account_id, department_id, pence):
    return ledger.raise_invoice(
        account_id=account_id,
        department_id=department_id,
        number=f"INV-{account_id}",
        issue_date=date(2026, 3, 1),
        due_date=date(2026, 4, 1),
        description="Services",
        lines=[ledger.LineInput("Services", 1, pence)],
        actor=SYSTEM,
    ).id


@pytest.fixture
def world(db):
    tw = make_department(TW, name="Trade waste").id
    asc = make_department(ASC, name="Social care").id
    officer = make_staff(StaffRole.OFFICER).id

    a = make_account().id
    inv_a = invoice(a, tw, 50_000)
    m_a = mandate(db, a, MandateSource.PORTAL, MandateStatus.ACTIVE, datetime(2026, 4, 1, 10))
    for day, pence, status, code, reason in (
        (date(2026, 5, 5), 10_000, C.COLLECTED, "01", None),
        (date(2026, 5, 12), 5_000, C.RETURNED, "17", "0"),
        (date(2026, 5, 19), 5_000, C.COLLECTED, "18", None),
        (date(2026, 5, 29), 4_000, C.RETURNED, "17", "1"),
        (date(2026, 5, 31), 3_000, C.SUBMITTED, "17", None),
        (date(2026, 5, 20), 2_500, C.CANCELLED, "17", None),
        (date(2026, 4, 30), 1_000, C.COLLECTED, "17", None),
        (date(2026, 6, 1), 2_000, C.COLLECTED, "17", None),
    ):
        collect(db, m_a, day, pence, status, code, reason, invoice_id=inv_a)

    b = make_account().id
    inv_b = invoice(b, asc, 20_000)
    m_b = mandate(
        db,
        b,
        MandateSource.PHONE,
        MandateStatus.CANCELLED,
        datetime(2026, 5, 10, 10),
        cancelled=datetime(2026, 5, 25, 10),
        staff_id=officer,
    )
    collect(db, m_b, date(2026, 5, 15), 7_000, C.RETURNED, "01", "DDIC", invoice_id=inv_b)
    collect(db, m_b, date(2026, 5, 16), 6_000, C.SCHEDULED, "17", invoice_id=inv_b)

    c = make_account().id
    m_c = mandate(
        db,
        c,
        MandateSource.PAPER,
        MandateStatus.PENDING_SUBMISSION,
        datetime(2026, 5, 31, 22, 30),
        staff_id=officer,
    )
    plan = plans.propose(
        account_id=c,
        invoice_ids=[invoice(c, tw, 9_000)],
        terms=plans.Terms(Frequency.MONTHLY, TODAY, count=3),
        payment_route=PaymentRoute.DIRECT_DEBIT,
        actor=SYSTEM,
    )
    first = db.session.scalar(
        sa.select(Instalment.id).where(
            Instalment.arrangement_id == plan.id, Instalment.sequence == 1
        )
    )
    collect(db, m_c, date(2026, 5, 20), 3_000, C.COLLECTED, "17", instalment_id=first)

    mandate(
        db,
        make_account().id,
        MandateSource.PAPER,
        MandateStatus.FAILED,
        datetime(2026, 3, 1, 10),
        staff_id=officer,
    )
    mandate(
        db,
        make_account().id,
        MandateSource.PORTAL,
        MandateStatus.ACTIVE,
        datetime(2026, 5, 31, 23, 30),
    )


def run(**args):
    filters, errors = parse_filters(
        {"from": "2026-05-01", "to": "2026-05-31", **args},
        today=TODAY,
        department_codes=lambda: {TW, ASC},
    )
    assert not errors
    return get_report("direct-debit").build(filters)


def table(result, key):
    return next(t for t in result.tables if t.key == key)


def by(rows, label_key):
    return {r[label_key]: r for r in rows}


FIELDS = ("in_file", "in_file_value", "paid", "paid_value", "returned", "returned_value")
FIELDS += ("pending", "pending_value", "scheduled", "scheduled_value")


def test_each_collection_is_counted_under_its_department_and_state(db, world):
    rows = by(table(run(), "collections").rows, "department")

    assert set(rows) == {"Trade waste", "Social care"}
    # Trade waste: A's six in a file (not the cancelled one nor April's or June's)
    # and C's plan instalment.
    assert [rows["Trade waste"][k] for k in FIELDS] == [
        *(6, 30_000),
        *(3, 18_000),
        *(2, 9_000),
        *(1, 3_000),
        *(0, 0),
    ]
    assert [rows["Social care"][k] for k in FIELDS] == [1, 7_000, 0, 0, 1, 7_000, 0, 0, 1, 6_000]
    assert rows["Trade waste"]["return_rate"] == 3_333  # 2 of 6


def test_paid_returned_and_not_yet_posted_add_up_to_what_went_to_bacs(db, world):
    result = run()
    for key, _label in (("collections", "department"), ("kinds", "kind")):
        t = table(result, key)
        for row in [*t.rows, t.totals]:
            assert row["paid"] + row["returned"] + row["pending"] == row["in_file"]
            assert (
                row["paid_value"] + row["returned_value"] + row["pending_value"]
                == row["in_file_value"]
            )
        for k in FIELDS:
            assert t.totals[k] == sum(r[k] for r in t.rows), (key, k)
    assert table(result, "collections").totals["in_file_value"] == 37_000
    assert table(result, "kinds").totals["in_file_value"] == 37_000
    kinds = by(table(result, "kinds").rows, "kind")
    assert {k: v["in_file"] for k, v in kinds.items()} == {
        "First collection (01)": 2,
        "Regular collection (17)": 4,
        "Re-presentation (18)": 1,
    }


def test_returns_are_given_by_reason_in_words_and_add_up_to_the_returned_column(db, world):
    result = run()
    returns = table(result, "returns")

    assert [(r["code"], r["reason"], r["returned"], r["returned_value"]) for r in returns.rows] == [
        ("0", "Refer to payer: the payer's bank did not pay (usually not enough money)", 1, 5_000),
        ("1", "Instruction cancelled by the payer", 1, 4_000),
        ("DDIC", "Indemnity claim under the Direct Debit Guarantee", 1, 7_000),
    ]
    totals = table(result, "collections").totals
    assert (returns.totals["returned"], returns.totals["returned_value"]) == (
        totals["returned"],
        totals["returned_value"],
    )
    assert result.charts[1].series[0].values == (1, 1, 1)


def test_mandates_are_counted_by_status_today_and_new_and_cancelled_in_english_days(db, world):
    result = run()
    statuses = by(table(result, "mandates").rows, "status")

    assert {k: (v["portal"], v["phone"], v["paper"]) for k, v in statuses.items()} == {
        "Waiting to be lodged": (0, 0, 1),
        "Lodging in a file waiting for release": (0, 0, 0),
        "Active": (2, 0, 0),
        "Cancelled": (0, 1, 0),
        "Rejected by AUDDIS": (0, 0, 1),
    }
    assert table(result, "mandates").totals["total"] == 5
    changes = table(result, "mandate_changes")
    # B (10 May) and C (31 May, 23:30 in England); not E (1 June in England).
    assert {r["source"]: (r["new"], r["cancelled"]) for r in changes.rows} == {
        "Online": (0, 0),
        "By phone": (1, 1),
        "Paper": (1, 0),
    }
    june = table(run(**{"from": "2026-06-01", "to": "2026-06-17"}), "mandate_changes")
    assert june.totals == {"source": "Total", "new": 1, "cancelled": 0}


def test_a_department_filter_limits_collections_and_the_mandates_of_its_debtors(db, world):
    result = run(department=ASC)

    assert [r["department"] for r in table(result, "collections").rows] == ["Social care"]
    assert [r["code"] for r in table(result, "returns").rows] == ["DDIC"]
    assert table(result, "mandates").totals["total"] == 1  # B's
    trade = run(department=TW)
    assert table(trade, "mandates").totals["total"] == 2  # A's and C's
    assert table(trade, "collections").totals["in_file"] == 6


def test_the_period_edges_are_the_entry_days_themselves(db, world):
    first_day = table(run(**{"from": "2026-05-05", "to": "2026-05-05"}), "collections")
    assert (first_day.totals["in_file"], first_day.totals["paid_value"]) == (1, 10_000)
    april_to_june = table(run(**{"from": "2026-04-30", "to": "2026-06-01"}), "collections")
    assert april_to_june.totals["paid_value"] == 18_000 + 1_000 + 2_000


def test_the_headline_figures_and_chart_agree_with_the_tables(db, world):
    result = run()
    figures = {f.label: f.value for f in result.figures}

    assert figures == {
        "Paid by Direct Debit": 18_000,
        "Returned unpaid": 16_000,
        "Collections returned": 4_286,  # 3 of 7
        "Active mandates today": 2,
        "New mandates in the period": 2,
    }
    chart = result.charts[0]
    assert chart.categories == ("Social care", "Trade waste")
    assert {s.name: s.values for s in chart.series} == {
        "Paid": (0, 18_000),
        "Returned": (7_000, 9_000),
        "Not yet posted": (0, 3_000),
    }


def test_the_page_shows_the_collections_returns_and_mandates(client, db, world):
    from tests.views.conftest import signed_in_session
    from tests.views.pages import parse

    signed_in_session(client, make_staff(StaffRole.AUDITOR))
    page = client.get("/backoffice/reports/direct-debit?from=2026-05-01&to=2026-05-31")

    assert page.status_code == 200
    html = parse(page)
    assert html.select_one("h1").get_text(strip=True) == "Direct Debit"
    text = html.get_text(" ", strip=True)
    assert "Indemnity claim under the Direct Debit Guarantee" in text
    assert "Rejected by AUDDIS" in text
    assert len(html.select("figure svg[role='img']")) == 3
    officer = make_staff(StaffRole.OFFICER)
    signed_in_session(client, officer)
    assert client.get("/backoffice/reports/direct-debit").status_code == 403
