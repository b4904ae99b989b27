"""Back-office pages at 00:30 BST on 1 July: they say it is 1 July, and show times as
the clock on the wall read.

23:30 UTC on 30 June is 00:30 on 1 July in England. The moment is given in UTC, so
time-machine sets the process's own zone to UTC: a page that took "today" from the
machine's local date, or printed a stored (naive UTC) timestamp as it is, would say
30 June and 23:30.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from shared.models import ContactKind, EntryKind, LedgerEntry, StaffRole
from shared.services import actors, contacts, ledger
from shared.services.actors import SYSTEM
from shared.services.history import record_audit
from tests.factories import make_account, make_department, make_staff
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, parse, text

pytestmark = pytest.mark.time_machine(datetime(2026, 6, 30, 23, 30, tzinfo=UTC))

JUNE_30, JULY_1 = date(2026, 6, 30), date(2026, 7, 1)


@pytest.fixture
def officer(client, db):
    person = make_staff(role=StaffRole.OFFICER, full_name="Nina Nightshift")
    signed_in_session(client, person)
    return person


@pytest.fixture
def account(db):
    """Owes £100 on an invoice that fell due on 30 June: yesterday, by now."""
    account = make_account(surname="Midnight")
    ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number="INV00007001",
        issue_date=date(2026, 5, 31),
        due_date=JUNE_30,
        description="Trade waste",
        lines=[ledger.LineInput("Bin lifts", 1, 10_000)],
        actor=SYSTEM,
    )
    return account


def record_cash(client, account, **fields):
    path = f"/backoffice/accounts/{account.reference}/payments/new"
    form = parse(client.get(path))
    data = {
        "csrf_token": csrf_token(client, path),
        "submission_key": form.select_one("input[name=submission_key]")["value"],
        "method": "cash",
        "amount": "20",
        "allocation": "oldest",
        **fields,
    }
    return client.post(path, data=data)


def payment_dates(db, account) -> list[date]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(LedgerEntry.effective_date).where(
                LedgerEntry.account_id == account.id, LedgerEntry.kind == EntryKind.PAYMENT
            )
        )
    )


def test_cash_recorded_at_half_past_midnight_with_no_date_is_dated_1_july(
    client, db, officer, account
):
    response = record_cash(client, account)

    assert response.status_code == 302
    assert payment_dates(db, account) == [JULY_1]


def test_cash_received_on_1_july_is_not_refused_as_a_date_in_the_future(
    client, db, officer, account
):
    response = record_cash(client, account, received_on="1/7/2026")

    assert error_summary(parse(response)) == []
    assert payment_dates(db, account) == [JULY_1]


def test_the_case_page_dates_the_payment_1_july_and_times_it_0030_on_the_timeline(
    client, db, officer, account
):
    record_cash(client, account)

    page = parse(client.get(f"/backoffice/accounts/{account.reference}/ledger"))

    ledger_rows = [
        text(row)
        for table in page.select("table")
        if text(table.caption).startswith("Entries, newest first")
        for row in table.select("tbody tr")
    ]
    assert ledger_rows[0].startswith("1 July 2026 Payment")
    page = parse(client.get(f"/backoffice/accounts/{account.reference}/timeline"))
    newest = page.select_one(".moj-timeline__item")
    assert "Payment of £20.00 received by cash" in text(newest)
    stamp = newest.select_one("time")
    assert text(stamp) == "1 July 2026 00:30"
    assert stamp["datetime"] == "2026-07-01T00:30+01:00"


def test_the_case_page_counts_an_invoice_due_30_june_as_a_day_old(client, officer, account):
    page = parse(client.get(f"/backoffice/accounts/{account.reference}"))

    assert "Oldest unpaid debt Invoice INV00007001, due 30 June 2026 (1 days)" in text(page.main)


def test_the_diary_has_a_follow_up_for_1_july_due_today_and_one_for_30_june_overdue(
    client, officer
):
    me = actors.staff(officer.id)
    for surname, day in (("Today", JULY_1), ("Yesterday", JUNE_30)):
        contacts.record_contact(
            make_account(surname=surname).id,
            contacts.ContactRecord(ContactKind.NOTE, f"Chase {surname}", follow_up_date=day),
            me,
            today=day,
        )

    page = parse(client.get("/backoffice/diary"))

    tables = {
        text(t.caption): [text(td) for td in t.select("tbody td:nth-child(2)")]
        for t in page.select("table")
    }
    assert tables == {"Overdue": ["Chase Yesterday"], "Due today": ["Chase Today"]}
    assert "1 day overdue" in text(page.main)


def test_a_breathing_space_starting_1_july_is_flagged_in_search_results(client, db, officer):
    make_account(surname="Respite", breathing_space_type="standard", breathing_space_start=JULY_1)

    page = parse(client.get("/backoffice/search", query_string={"q": "Respite"}))

    assert "Breathing Space" in text(page.select_one("main table tbody tr"))


def test_the_audit_log_shows_an_entry_made_at_half_past_midnight_in_england_time(client, db):
    signed_in_session(client, make_staff(role=StaffRole.AUDITOR))
    record_audit(SYSTEM, "test.half_past_midnight", "thing", 1)
    db.session.commit()

    page = parse(client.get("/backoffice/audit", query_string={"action": "test."}))

    [row] = page.select("tbody tr")
    assert text(row.select("td")[0]).startswith("01/07/2026 00:30:")
    assert [text(th) for th in page.select("thead th")][0] == "When"
