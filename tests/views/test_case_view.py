"""The case page: everything about one debtor account, for any member of staff who views cases,
in sections (tests/views/test_case_sections.py has what the sections share)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from shared.models import (
    ContactEvent,
    ContactKind,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
    PaymentMethod,
    PortalUser,
    StaffRole,
)
from shared.services import ledger
from shared.services.actors import SYSTEM, staff
from shared.services.case_view import PAGE_SIZE
from tests.factories import make_account, make_department, make_staff, password_hash
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import parse, text, title

pytestmark = frozen_clock


@pytest.fixture
def officer(db):
    return make_staff(StaffRole.OFFICER, full_name="Olu Officer")


@pytest.fixture
def officer_client(client, officer):
    signed_in_session(client, officer)
    return client


def _invoice(account, number, due, pence, department):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number=number,
        issue_date=due - timedelta(days=30),
        due_date=due,
        description=f"Service for {number}",
        lines=[ledger.LineInput("Service", 1, pence)],
        actor=SYSTEM,
    )


@pytest.fixture
def case(db, officer):
    account = make_account(
        surname="Rogers", forename="Linda", email="linda@example.com", mobile_phone="07700 900333"
    )
    department = make_department()
    _invoice(account, "INV1", TODAY - timedelta(days=40), 10_000, department)
    _invoice(account, "INV2", TODAY - timedelta(days=10), 5_000, department)
    ledger.record_payment(
        account_id=account.id,
        amount_pence=10_000,
        method=PaymentMethod.BANK_TRANSFER,
        external_reference="BACS-1",
        actor=staff(officer.id),
    )
    db.session.add(
        OutboxMessage(
            account_id=account.id,
            channel=OutboxChannel.SMS,
            template="reminder",
            recipient="07700 900333",
            body="Please pay",
            status=OutboxStatus.FAILED,
            last_error="Unreachable",
        )
    )
    portal_user = PortalUser(email="linda@example.com", password_hash=password_hash("pw pw pw pw"))
    db.session.add(portal_user)
    db.session.flush()
    base = datetime(2030, 1, 1, 9, 0)
    for minutes, kind, summary, who in [
        (1, ContactKind.CALL_IN, "Rang about the bill", {"staff_id": officer.id}),
        (2, ContactKind.PORTAL, "Updated phone number", {"portal_user_id": portal_user.id}),
        (3, ContactKind.NOTE, "Promised to pay Friday", {"staff_id": officer.id}),
    ]:
        db.session.add(
            ContactEvent(
                account_id=account.id,
                occurred_at=base + timedelta(minutes=minutes),
                kind=kind,
                summary=summary,
                **who,
            )
        )
    db.session.commit()
    return account


def _main(response):
    return text(parse(response).select_one("main"))


def _timeline(page) -> list[tuple[str, str, str]]:
    """(title, byline, description) of each entry in the MOJ timeline, top first."""
    return [
        (
            text(item.select_one(".moj-timeline__title")),
            text(item.select_one(".moj-timeline__byline")),
            text(item.select_one(".moj-timeline__description")),
        )
        for item in page.select("main .moj-timeline > .moj-timeline__item")
    ]


def test_the_case_page_shows_who_the_debtor_is_and_how_to_reach_them(officer_client, case):
    response = officer_client.get(f"/backoffice/accounts/{case.reference}")

    assert response.status_code == 200
    page = parse(response)
    assert title(page).startswith(f"Linda Rogers ({case.reference})")
    assert text(page.select_one("h1")) == "Linda Rogers"
    main = _main(response)
    assert "linda@example.com" in main
    assert "07700 900333" in main
    assert "AB1 2CD" in main


def test_the_case_page_shows_balance_oldest_unpaid_debt_and_its_age(officer_client, case):
    main = _main(officer_client.get(f"/backoffice/accounts/{case.reference}"))

    # 100 + 50 invoiced, 100 paid: the payment settled the oldest invoice first.
    assert "Balance £50.00" in main
    due = TODAY - timedelta(days=10)
    assert f"Oldest unpaid debt Invoice INV2, due {due.day} {due:%B %Y} (10 days)" in main


def test_the_case_page_lists_open_and_paid_invoices_with_what_is_outstanding(officer_client, case):
    page = parse(officer_client.get(f"/backoffice/accounts/{case.reference}/invoices"))

    tables = {text(t.caption): t for t in page.select("#invoices ~ table") if t.caption}
    open_rows = [text(r) for r in tables["Open"].select("tbody tr")]
    paid_rows = [text(r) for r in tables["Paid"].select("tbody tr")]
    assert len(open_rows) == 1 and "INV2" in open_rows[0] and open_rows[0].endswith("£50.00 £50.00")
    assert len(paid_rows) == 1 and "INV1" in paid_rows[0] and paid_rows[0].endswith("£100.00 £0.00")


def test_the_ledger_shows_each_entry_with_the_invoices_its_credit_was_allocated_to(
    officer_client, case
):
    page = parse(officer_client.get(f"/backoffice/accounts/{case.reference}/ledger"))

    ledger_table = next(
        t for t in page.select("table") if text(t.caption).startswith("Entries, newest first")
    )
    rows = [text(r) for r in ledger_table.select("tbody tr")]
    assert len(rows) == 3
    payment = rows[0]
    assert "Payment" in payment and "BACS-1" in payment
    assert "INV1: £100.00" in payment
    assert "Olu Officer" in payment
    assert payment.endswith("-£100.00")


def test_the_case_page_shows_messages_with_their_status(officer_client, case):
    page = parse(officer_client.get(f"/backoffice/accounts/{case.reference}/messages"))

    row = text(page.select_one("main table tbody tr"))
    assert "Text message" in row and "Reminder" in row and "Failed" in row


def test_the_timeline_is_newest_first_and_names_who_did_each_thing(officer_client, case):
    page = parse(officer_client.get(f"/backoffice/accounts/{case.reference}/timeline"))

    items = _timeline(page)
    # The 2030 events are the newest; the ledger's own entries follow.
    assert items[:3] == [
        ("Note", "by Olu Officer", "Promised to pay Friday"),
        ("Portal", "by Debtor (portal)", "Updated phone number"),
        ("Call in", "by Olu Officer", "Rang about the bill"),
    ]
    assert any(byline == "by System" for _, byline, _ in items[3:])
    newest = page.select_one(".moj-timeline__item time")
    assert newest["datetime"] == "2030-01-01T09:03+00:00"
    assert text(newest) == "1 January 2030 09:03"


def test_flags_show_breathing_space_vulnerability_and_death(officer_client, db):
    account = make_account(
        vulnerable=True,
        vulnerability_reason="Recently bereaved",
        breathing_space_type="standard",
        breathing_space_start=TODAY - timedelta(days=5),
        breathing_space_end=TODAY + timedelta(days=55),
        deceased=True,
    )

    page = parse(officer_client.get(f"/backoffice/accounts/{account.reference}"))

    badges = page.select("main ul[aria-label=Flags] .moj-badge")
    assert [text(badge) for badge in badges] == ["Deceased", "Breathing Space", "Vulnerable"]
    assert "moj-badge--red" in badges[1]["class"]  # Breathing Space stops all recovery
    assert "Recently bereaved" in _main_text(page)


def _main_text(page):
    return text(page.select_one("main"))


def test_a_long_timeline_and_ledger_come_a_page_at_a_time(officer_client, db):
    account = make_account()
    base = datetime(2030, 1, 1)
    for n in range(PAGE_SIZE + 5):
        db.session.add(
            ContactEvent(
                account_id=account.id,
                occurred_at=base + timedelta(minutes=n),
                kind=ContactKind.NOTE,
                summary=f"Note number {n}",
            )
        )
    db.session.commit()
    for n in range(PAGE_SIZE + 2):
        ledger.record_payment(
            account_id=account.id, amount_pence=100 + n, method=PaymentMethod.CASH, actor=SYSTEM
        )
    timeline, ledger_path = (
        f"/backoffice/accounts/{account.reference}/{s}" for s in ("timeline", "ledger")
    )

    first = parse(officer_client.get(timeline))
    first_ledger = parse(officer_client.get(ledger_path))
    second = parse(officer_client.get(timeline, query_string={"page": 2}))
    second_ledger = parse(officer_client.get(ledger_path, query_string={"page": 2}))

    first_items = _timeline(first)
    assert len(first_items) == PAGE_SIZE
    assert first_items[0] == ("Note", "by System", f"Note number {PAGE_SIZE + 4}")
    assert [a["href"] for a in first.select(".govuk-pagination__next a")] == [f"{timeline}?page=2"]
    assert [a["href"] for a in first_ledger.select(".govuk-pagination__next a")] == [
        f"{ledger_path}?page=2"
    ]
    # Page 2 holds the 5 oldest notes plus the payments' own timeline entries.
    second_notes = [
        description for _, _, description in _timeline(second) if "Note number" in description
    ]
    assert second_notes[0] == "Note number 4"
    ledger_rows = next(
        t
        for t in second_ledger.select("table")
        if text(t.caption).startswith("Entries, newest first")
    ).select("tbody tr")
    assert len(ledger_rows) == 2
    assert second.select_one(".govuk-pagination__prev a") is not None
    assert second_ledger.select_one(".govuk-pagination__prev a") is not None


def test_a_nonsense_page_number_shows_the_first_page(officer_client, case):
    for section in ("timeline", "ledger"):
        response = officer_client.get(
            f"/backoffice/accounts/{case.reference}/{section}", query_string={"page": "-3x"}
        )

        assert response.status_code == 200
        assert "(page 1)" in text(parse(response).select_one("main"))


def test_an_unknown_reference_is_not_found(officer_client, db):
    assert officer_client.get("/backoffice/accounts/NOPE123").status_code == 404


def test_search_results_link_to_the_case_page(officer_client, case):
    page = parse(officer_client.get("/backoffice/search", query_string={"q": case.reference}))

    link = page.select_one("main table a")
    assert link["href"] == f"/backoffice/accounts/{case.reference}"
