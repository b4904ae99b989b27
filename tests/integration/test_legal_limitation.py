"""Statute-barred debts read from the database: six years from the day after the due
date, restarted by a part payment still allocated to the invoice or by a written
acknowledgement (of the invoice or of every debt on the account), never revived once
barred; found set-based for the dunning run. And recording an acknowledgement."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

import pytest
import sqlalchemy as sa

from shared.models import AuditLog, ContactEvent, DebtAcknowledgement, PaymentMethod, StaffRole
from shared.services import ledger
from shared.services.actors import SYSTEM, staff
from shared.services.errors import Forbidden
from shared.services.legal import limitation
from shared.services.legal.officers import Refused
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.pages import count_queries

pytestmark = frozen_clock

_numbers = count(1)


def invoice(account, due: date, pence: int = 10_000):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number=f"INV{next(_numbers):08d}",
        issue_date=due - timedelta(days=30),
        due_date=due,
        description="Trade waste",
        lines=[ledger.LineInput("Bin lifts", 1, pence)],
        actor=SYSTEM,
    )


def pay(account, inv, on: date, pence: int = 1_000):
    return ledger.record_payment(
        account_id=account.id,
        amount_pence=pence,
        method=PaymentMethod.CHEQUE,
        actor=SYSTEM,
        external_reference=f"cheque:{next(_numbers)}",
        effective_date=on,
        allocations=[(inv.id, pence)],
    ).entry


def acknowledge(db, account, inv, on: date):
    db.session.add(
        DebtAcknowledgement(
            account_id=account.id,
            invoice_id=inv.id if inv else None,
            acknowledged_on=on,
            note="Signed letter",
            recorded_by_staff_id=make_staff().id,
        )
    )
    db.session.commit()


# TODAY is 17 June 2026: a debt is barred today when it accrued (the day after it fell
# due) before 17 June 2020, with no part payment or acknowledgement since then.


@pytest.fixture
def mix(db):
    account, other = make_account(), make_account(surname="Jones")
    old = invoice(account, date(2019, 1, 1))
    part_paid = invoice(account, date(2019, 1, 1))
    pay(account, part_paid, date(2021, 5, 1))
    paid_too_late = invoice(account, date(2018, 1, 1))
    pay(account, paid_too_late, date(2025, 1, 1))  # barred since 3 January 2024 by then
    acknowledged = invoice(account, date(2019, 2, 1))
    acknowledge(db, account, acknowledged, date(2022, 1, 1))
    reversed_payment = invoice(account, date(2019, 1, 1))
    bounced = pay(account, reversed_payment, date(2022, 1, 1))
    ledger.reverse(entry_id=bounced.id, reason="Cheque bounced", actor=SYSTEM)
    paid_off = invoice(account, date(2018, 1, 1), pence=1_000)
    pay(account, paid_off, date(2018, 2, 1))
    last_day_yesterday = invoice(account, date(2020, 6, 15))
    last_day_today = invoice(account, date(2020, 6, 16))
    recent = invoice(account, TODAY - timedelta(days=30))
    account_wide = invoice(other, date(2019, 1, 1))
    acknowledge(db, other, None, date(2023, 1, 1))
    return {
        "old": old,
        "part_paid": part_paid,
        "paid_too_late": paid_too_late,
        "acknowledged": acknowledged,
        "reversed_payment": reversed_payment,
        "paid_off": paid_off,
        "last_day_yesterday": last_day_yesterday,
        "last_day_today": last_day_today,
        "recent": recent,
        "account_wide": account_wide,
    }


def test_the_statute_barred_open_invoices_of_a_mix_are_found(db, mix):
    barred = limitation.statute_barred_invoice_ids(TODAY)

    assert barred == {
        mix["old"].id,
        mix["paid_too_late"].id,
        mix["reversed_payment"].id,
        mix["last_day_yesterday"].id,
    }


def test_only_the_invoices_asked_about_are_answered(db, mix):
    asked = [mix["old"].id, mix["recent"].id, mix["paid_too_late"].id]

    assert limitation.statute_barred_invoice_ids(TODAY, asked) == {
        mix["old"].id,
        mix["paid_too_late"].id,
    }
    assert limitation.statute_barred_invoice_ids(TODAY, []) == set()


def test_the_last_day_moves_with_the_day_asked_about(db, mix):
    tomorrow = limitation.statute_barred_invoice_ids(TODAY + timedelta(days=1))
    years_on = limitation.statute_barred_invoice_ids(date(2027, 5, 2))

    assert mix["last_day_today"].id in tomorrow
    assert mix["part_paid"].id not in tomorrow
    assert mix["part_paid"].id in years_on  # six years after the payment of 1 May 2021


def test_the_query_count_does_not_grow_with_the_number_of_invoices(db):
    account = make_account()
    for _ in range(3):
        invoice(account, date(2018, 5, 5))
    few = count_queries(db, lambda: limitation.statute_barred_invoice_ids(TODAY))
    for _ in range(30):
        pay(account, invoice(account, date(2018, 5, 5)), date(2024, 1, 1))
    many = count_queries(db, lambda: limitation.statute_barred_invoice_ids(TODAY))

    assert len(limitation.statute_barred_invoice_ids(TODAY)) == 3
    assert few == 1
    assert many <= 3


def test_the_account_page_shows_each_open_invoices_last_day_and_when_it_was_barred(db, mix):
    rows = {i.invoice_id: i for i in limitation.account_limitation(mix["old"].account_id, TODAY)}

    assert mix["paid_off"].id not in rows
    assert rows[mix["old"].id].barred_since == date(2025, 1, 3)
    assert rows[mix["part_paid"].id].limitation_date == date(2027, 5, 1)
    assert rows[mix["part_paid"].id].barred_since is None
    assert rows[mix["last_day_today"].id].limitation_date == TODAY


def test_an_officer_records_an_acknowledgement_which_restarts_the_six_years(db, mix):
    officer = make_staff(role=StaffRole.OFFICER, full_name="Sam Officer")
    old = mix["old"]

    row = limitation.record_acknowledgement(
        staff(officer.id),
        old.account_id,
        old.id,
        TODAY - timedelta(days=2),
        "Signed letter",
        today=TODAY,
    )
    # Too late for this one: it was barred on 3 January 2025 (no revival).
    assert old.id in limitation.statute_barred_invoice_ids(TODAY)
    event = db.session.scalars(sa.select(ContactEvent).order_by(ContactEvent.id.desc())).first()
    assert event.summary.startswith(f"Written acknowledgement of invoice {old.number} recorded")
    assert event.staff_id == officer.id
    audit = db.session.scalar(
        sa.select(AuditLog).where(AuditLog.action == "legal.acknowledgement_recorded")
    )
    assert audit.object_id == str(row.id) and audit.after["invoice_id"] == old.id


def test_an_acknowledgement_before_the_debt_is_barred_keeps_it_alive(db):
    account = make_account()
    inv = invoice(account, date(2020, 7, 1))  # last day 2 July 2026
    officer = make_staff(role=StaffRole.TEAM_LEADER)

    limitation.record_acknowledgement(
        staff(officer.id), account.id, None, TODAY, "Email admitting the debt", today=TODAY
    )

    assert limitation.statute_barred_invoice_ids(date(2026, 7, 3)) == set()
    assert limitation.statute_barred_invoice_ids(date(2032, 6, 18)) == {inv.id}


def test_the_same_acknowledgement_sent_twice_is_recorded_once(db, mix):
    officer = make_staff(role=StaffRole.OFFICER)
    args = (staff(officer.id), mix["recent"].account_id, None, TODAY, "Signed form")

    first = limitation.record_acknowledgement(*args, today=TODAY)
    again = limitation.record_acknowledgement(*args, today=TODAY)

    assert first.id == again.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DebtAcknowledgement)) == 3


@pytest.mark.parametrize(
    ("day", "note", "field"),
    [
        (TODAY + timedelta(days=1), "x", "acknowledged_on"),
        (None, "x", "acknowledged_on"),
        (TODAY, " ", "note"),
    ],
)
def test_a_bad_acknowledgement_is_refused_and_changes_nothing(db, mix, day, note, field):
    officer = make_staff(role=StaffRole.OFFICER)

    with pytest.raises(Refused) as refused:
        limitation.record_acknowledgement(
            staff(officer.id), mix["old"].account_id, None, day, note, today=TODAY
        )

    assert field in refused.value.problems
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DebtAcknowledgement)) == 2


def test_an_invoice_of_another_account_cannot_be_acknowledged_here(db, mix):
    officer = make_staff(role=StaffRole.OFFICER)

    with pytest.raises(Refused) as refused:
        limitation.record_acknowledgement(
            staff(officer.id),
            mix["old"].account_id,
            mix["account_wide"].id,
            TODAY,
            "x",
            today=TODAY,
        )

    assert refused.value.problems == {"invoice": "Select an invoice on this account"}


def test_an_auditor_may_not_record_an_acknowledgement(db, mix):
    auditor = make_staff(role=StaffRole.AUDITOR)

    with pytest.raises(Forbidden):
        limitation.record_acknowledgement(
            staff(auditor.id), mix["old"].account_id, None, TODAY, "x", today=TODAY
        )
