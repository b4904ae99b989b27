"""The case page in sections (summary, invoices, ledger, plans, messages, timeline): the
case summary on top of each, each reading only what it shows; the ledger newest
first by the day entries take effect; messages by their templates' names; times in
England's time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from shared.domain.holds import HoldTerms
from shared.models import (
    ContactEvent,
    ContactKind,
    HoldKind,
    MessageTemplate,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
    PaymentMethod,
    StaffRole,
)
from shared.models.dunning import TemplateChannel
from shared.services import holds, ledger
from shared.services.actors import SYSTEM, staff
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import parse, text, title

pytestmark = frozen_clock

SECTIONS = {
    "": ("Summary", "Summary"),
    "/invoices": ("Invoices", "Invoices"),
    "/ledger": ("Ledger", "Ledger"),
    "/plans": ("Plans and Direct Debits", "Plans and Direct Debits"),
    "/messages": ("Messages", "Messages"),
    "/timeline": ("Timeline", "Timeline"),
}


@pytest.fixture
def officer(db):
    return make_staff(StaffRole.OFFICER, full_name="Olu Officer")


@pytest.fixture
def officer_client(client, officer):
    signed_in_session(client, officer)
    return client


@pytest.fixture
def account(db, officer):
    account = make_account(surname="Rogers", forename="Linda")
    ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number="INV1",
        issue_date=TODAY - timedelta(days=70),
        due_date=TODAY - timedelta(days=40),
        description="Garden waste",
        lines=[ledger.LineInput("Service", 1, 12_000)],
        actor=SYSTEM,
    )
    holds.place_hold(
        account.id,
        HoldTerms(kind=HoldKind.DISPUTE, starts_on=TODAY, expires_on=TODAY + timedelta(days=30)),
        "Says the bin was never emptied",
        staff(officer.id),
        today=TODAY,
    )
    return account


def _path(account, section: str = "") -> str:
    return f"/backoffice/accounts/{account.reference}{section}"


def _summary_rows(page) -> dict[str, str]:
    summary = page.select_one("main dl[aria-label='Case summary']")
    return {
        text(row.select_one("dt")): text(row.select_one("dd"))
        for row in summary.select(".govuk-summary-list__row")
    }


@pytest.mark.parametrize("section", SECTIONS)
def test_every_section_of_the_case_has_the_summary_on_top_and_marks_itself_in_the_navigation(
    officer_client, account, section
):
    response = officer_client.get(_path(account, section))

    assert response.status_code == 200
    page = parse(response)
    assert text(page.select_one("main h1")) == "Linda Rogers"
    assert [text(b) for b in page.select("main ul[aria-label=Flags] .moj-badge")] == [
        "Dispute hold"
    ]
    rows = _summary_rows(page)
    assert rows["Balance"] == "£120.00"
    assert rows["Recovery stage"] == "None"
    assert rows["Oldest unpaid debt"].startswith("Invoice INV1")
    assert rows["Next action"] == "Nothing in the diary"
    nav = page.select_one("main nav.moj-sub-navigation")
    links = nav.select("a.moj-sub-navigation__link")
    assert [a["href"] for a in links] == [_path(account, s) for s in SECTIONS]
    [current] = nav.select("a[aria-current=page]")
    name, heading = SECTIONS[section]
    assert text(current) == name
    assert text(page.select_one("main h2")) == heading
    # The summary block comes before the section's own heading.
    assert page.select_one("main dl[aria-label='Case summary'] ~ h2") is not None
    expected_title = f"Linda Rogers ({account.reference})"
    assert title(page).startswith(expected_title if not section else f"{name}: {expected_title}")


def test_the_summary_names_the_next_follow_up_in_the_diary_until_it_is_dealt_with(
    officer_client, db, account, officer
):
    db.session.add(
        ContactEvent(
            account_id=account.id,
            kind=ContactKind.CALL_OUT,
            summary="Ring back about the promise",
            staff_id=officer.id,
            follow_up_date=TODAY - timedelta(days=2),
        )
    )
    db.session.commit()

    rows = _summary_rows(parse(officer_client.get(_path(account, "/ledger"))))
    due = TODAY - timedelta(days=2)
    assert rows["Next action"] == (
        f"Ring back about the promise Follow up by {due.day} {due:%B %Y} (2 days overdue),"
        " set by Olu Officer"
    )

    db.session.add(
        ContactEvent(
            account_id=account.id,
            kind=ContactKind.CALL_OUT,
            summary="Rang back",
            staff_id=officer.id,
        )
    )
    db.session.commit()
    rows = _summary_rows(parse(officer_client.get(_path(account, "/ledger"))))
    assert rows["Next action"] == "Nothing in the diary"


def _tables_read(db, client, path) -> set[str]:
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement.lower())

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(path).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return {
        table
        for table in ("arrangements", "mandates", "collections", "outbox_messages", "allocations")
        if any(f"from {table}" in s or f"join {table}" in s for s in statements)
    } | {"the ledger's page" for s in statements if "ledger_entries.effective_date desc" in s}


def test_each_section_reads_only_what_it_shows(officer_client, db, account):
    summary = _tables_read(db, officer_client, _path(account))
    ledger_section = _tables_read(db, officer_client, _path(account, "/ledger"))
    timeline = _tables_read(db, officer_client, _path(account, "/timeline"))

    # The summary's stage and oldest debt come from the invoices' allocations.
    assert summary == {"allocations"}
    assert ledger_section == {"allocations", "the ledger's page"}
    assert timeline == {"allocations"}


def test_links_to_the_old_long_page_land_on_their_section(officer_client, account):
    response = officer_client.get(_path(account), query_string={"ledger_page": "2"})
    assert response.status_code == 302
    assert response.headers["Location"] == _path(account, "/ledger?page=2")

    response = officer_client.get(_path(account), query_string={"timeline_page": "x"})
    assert response.headers["Location"] == _path(account, "/timeline?page=1")


def test_direct_debit_pages_lead_back_to_the_plans_section(officer_client, account):
    page = parse(officer_client.get(_path(account, "/direct-debit/paper")))

    assert page.select_one(f"main a[href='{_path(account, '/plans')}']") is not None


def test_a_section_of_an_unknown_account_is_not_found(officer_client, db):
    for section in SECTIONS:
        assert officer_client.get(f"/backoffice/accounts/NOPE123{section}").status_code == 404


def test_the_ledger_is_newest_first_by_the_day_each_entry_takes_effect(officer_client, db):
    account = make_account()
    # Written in this order, as payments backdated to the day the bank received them are.
    for n, days_ago in enumerate([10, 30, 60, 30]):
        ledger.record_payment(
            account_id=account.id,
            amount_pence=100 + n,
            method=PaymentMethod.BANK_TRANSFER,
            external_reference=f"BANK-{n}",
            effective_date=TODAY - timedelta(days=days_ago),
            actor=SYSTEM,
        )

    page = parse(officer_client.get(_path(account, "/ledger")))

    table = page.select_one("main table")
    assert text(table.caption).startswith("Entries, newest first")
    shown = [text(row.select_one("td")) for row in table.select("tbody tr")]
    details = [text(row.select("td")[2]) for row in table.select("tbody tr")]

    def day(days_ago):
        d = TODAY - timedelta(days=days_ago)
        return f"{d.day} {d:%B %Y}"

    assert shown == [day(10), day(30), day(30), day(60)]
    # Two entries of one day: the one written last first.
    assert details[1:3] == ["Bank transfer BANK-3", "Bank transfer BANK-1"]


def _message(db, account, template, channel, written):
    db.session.add(
        OutboxMessage(
            account_id=account.id,
            channel=channel,
            template=template,
            recipient="linda@example.com" if channel == OutboxChannel.EMAIL else "07700 900333",
            body="...",
            status=OutboxStatus.SENT,
            created_at=written,
        )
    )


def test_the_messages_section_names_each_template_and_shows_england_time(
    officer_client, db, account
):
    db.session.add(
        MessageTemplate(
            key="reminder_first",
            channel=TemplateChannel.EMAIL,
            name="First reminder",
            subject="Your bill",
            body="Please pay {balance}.",
        )
    )
    # 23:30 UTC on 15 June is 00:30 on 16 June in England (summer time).
    _message(db, account, "reminder_first", OutboxChannel.EMAIL, datetime(2026, 6, 15, 23, 30))
    _message(db, account, "portal_one_time_code", OutboxChannel.SMS, datetime(2026, 6, 16, 9))
    _message(db, account, "plan_received", OutboxChannel.EMAIL, datetime(2026, 6, 16, 10))
    db.session.commit()
    case = parse(officer_client.get(_path(account)))
    messages_link = next(
        a["href"] for a in case.select("main nav.moj-sub-navigation a") if text(a) == "Messages"
    )

    page = parse(officer_client.get(messages_link))

    table = text(page.select_one("main table"))
    assert "First reminder" in table
    assert "Portal security code" in table
    assert "Payment plan proposal received" in table
    for key in ("reminder_first", "portal_one_time_code", "plan_received"):
        assert key not in table
    assert "16 June 2026 00:30" in table


def test_the_timeline_shows_times_in_england_time(officer_client, db, account, officer):
    db.session.add(
        ContactEvent(
            account_id=account.id,
            occurred_at=datetime(2030, 7, 1, 23, 30),  # 00:30 on 2 July in England
            kind=ContactKind.CALL_IN,
            summary="Rang late",
            staff_id=officer.id,
        )
    )
    db.session.commit()

    page = parse(officer_client.get(_path(account, "/timeline")))

    newest = page.select_one("main .moj-timeline__item")
    assert "Rang late" in text(newest)
    assert text(newest.select_one("time")) == "2 July 2030 00:30"
    assert newest.select_one("time")["datetime"] == "2030-07-02T00:30+01:00"


def test_every_kind_of_contact_has_a_label_of_its_own():
    from shared.services.case_view import CONTACT_KIND_WORDS

    assert set(CONTACT_KIND_WORDS) == set(ContactKind)
    assert len(set(CONTACT_KIND_WORDS.values())) == len(ContactKind)
