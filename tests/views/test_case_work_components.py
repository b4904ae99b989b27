"""The back office's MOJ Frontend components, as the server writes them: section
navigation on the case page, sortable queues whose server order is stated in
aria-sort (so they read right without JavaScript), badges for statuses, and the
audit log's filter as a plain GET form with removable filter tags."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from shared.domain.holds import HoldTerms
from shared.models import ContactKind, HoldKind, StaffRole
from shared.services import approvals, contacts, holds, ledger
from shared.services.actors import SYSTEM, staff
from shared.services.history import record_audit
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import parse, text

pytestmark = frozen_clock


def _header_sorts(table) -> dict[str, str]:
    return {text(th): th["aria-sort"] for th in table.select("thead th")}


@pytest.fixture
def leader(db):
    return make_staff(StaffRole.TEAM_LEADER, full_name="Tess Leader", write_off_limit_pence=100_000)


def _write_off_request(requester, amount_pence, *, surname):
    account = make_account(surname=surname)
    invoice = ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number=f"INV-{surname}",
        issue_date=TODAY - timedelta(days=90),
        due_date=TODAY - timedelta(days=60),
        description="Trade waste",
        lines=[ledger.LineInput("Bin lifts", 1, 50_000)],
        actor=SYSTEM,
    )
    return approvals.request_write_off(
        invoice_id=invoice.id,
        amount_pence=amount_pence,
        reason_code="uneconomical",
        reason="Not worth chasing",
        actor=staff(requester.id),
    ).request


def test_the_case_page_links_its_sections_with_moj_sub_navigation(client, db):
    officer = make_staff(StaffRole.OFFICER)
    account = make_account()
    signed_in_session(client, officer)

    page = parse(client.get(f"/backoffice/accounts/{account.reference}"))

    nav = page.select_one("main nav.moj-sub-navigation")
    assert nav["aria-label"] == "Sections of this case"
    links = nav.select("li.moj-sub-navigation__item > a.moj-sub-navigation__link")
    assert [text(a) for a in links][0] == "Summary"
    for link in links:  # each section is a page of its own, with the same navigation
        assert client.get(link["href"]).status_code == 200, link["href"]
    # The summary is the page shown: it alone is "this page".
    assert [text(a) for a in nav.select("[aria-current=page]")] == ["Summary"]


def test_a_hold_flag_on_the_case_page_is_a_moj_badge(client, db):
    officer = make_staff(StaffRole.OFFICER)
    account = make_account()
    holds.place_hold(
        account.id,
        HoldTerms(kind=HoldKind.DISPUTE, starts_on=TODAY, expires_on=TODAY + timedelta(days=30)),
        "Says the bin was never emptied",
        staff(officer.id),
        today=TODAY,
    )
    signed_in_session(client, officer)

    page = parse(client.get(f"/backoffice/accounts/{account.reference}"))

    [badge] = page.select("main ul[aria-label=Flags] .moj-badge")
    assert text(badge) == "Dispute hold"
    assert not page.select("main ul[aria-label=Flags] .govuk-tag")


def test_the_approvals_queue_is_a_sortable_table_in_the_servers_order(client, db, leader):
    officer = make_staff(StaffRole.OFFICER, write_off_limit_pence=1_000)
    first = _write_off_request(officer, 15_000, surname="Archer")
    second = _write_off_request(officer, 9_000, surname="Grundy")
    signed_in_session(client, leader)

    page = parse(client.get("/backoffice/approvals"))

    table = page.select_one("main table[data-module=moj-sortable-table]")
    assert text(table.caption) == "Waiting for approval"
    # Oldest first from the server, so the longest-waiting: that is what aria-sort says.
    assert _header_sorts(table) == {
        "Request": "none",
        "Account": "none",
        "Requested by": "none",
        "Waiting": "descending",
        "Status": "none",
        "Amount": "none",
    }
    rows = table.select("tbody tr")
    assert [row.select("td")[-1]["data-sort-value"] for row in rows] == ["15000", "9000"]
    # Each row leads to the request in full, where the decision buttons are.
    for row, request in zip(rows, (first, second), strict=True):
        target = row.select_one("a")["href"]
        assert target == f"#approval-{request.id}"
        card = page.select_one(target)
        assert card.select_one(f"form[action='/backoffice/approvals/{request.id}/decide']")
    assert [text(b) for b in table.select(".moj-badge")] == ["To decide", "To decide"]


def test_a_team_leaders_own_request_is_badged_as_theirs_in_the_queue(client, db, leader):
    leader.write_off_limit_pence = 1_000
    db.session.commit()
    _write_off_request(leader, 15_000, surname="Archer")
    signed_in_session(client, leader)

    page = parse(client.get("/backoffice/approvals"))

    [badge] = page.select("main table .moj-badge")
    assert text(badge) == "Your request"
    assert "moj-badge--grey" in badge["class"]


def test_the_diary_tables_are_sortable_and_say_they_are_by_due_date(client, db):
    officer = make_staff(StaffRole.OFFICER)
    for days_ago, surname in [(3, "Archer"), (1, "Grundy")]:
        follow_up = TODAY - timedelta(days=days_ago)
        contacts.record_contact(
            make_account(surname=surname).id,
            contacts.ContactRecord(ContactKind.NOTE, "Chase it", follow_up_date=follow_up),
            staff(officer.id),
            today=follow_up,
        )
    signed_in_session(client, officer)

    page = parse(client.get("/backoffice/diary"))

    [table] = page.select("main table[data-module=moj-sortable-table]")
    assert _header_sorts(table) == {
        "Account": "none",
        "Follow up": "none",
        "Due": "ascending",
        "Set on": "none",
    }
    due = [row.select("td")[2] for row in table.select("tbody tr")]
    assert [cell["data-sort-value"] for cell in due] == [
        (TODAY - timedelta(days=3)).isoformat(),
        (TODAY - timedelta(days=1)).isoformat(),
    ]
    assert [text(cell.select_one(".moj-badge--red")) for cell in due] == [
        "3 days overdue",
        "1 day overdue",
    ]


@pytest.fixture
def auditor_client(client, db):
    signed_in_session(client, make_staff(StaffRole.AUDITOR))
    return client


def test_the_audit_log_filter_is_a_get_form_in_the_moj_filter_layout(auditor_client):
    page = parse(auditor_client.get("/backoffice/audit"))

    layout = page.select_one("main .moj-filter-layout")
    form = layout.select_one(".moj-filter-layout__filter .moj-filter .moj-filter__options form")
    assert form["method"] == "get" and form["action"] == "/backoffice/audit"
    assert not form.select("input[name=csrf_token]")
    assert {field["name"] for field in form.select("input[name], select[name]")} >= {
        "action",
        "actor_type",
        "staff_email",
        "account_reference",
        "on_or_after",
        "on_or_before",
    }
    # The show/hide button goes here on narrow screens; the entries sit beside the filter.
    assert layout.select_one(".moj-filter-layout__content .moj-action-bar__filter") is not None
    assert layout.select_one(".moj-filter__selected") is None  # nothing chosen yet


def test_audit_entries_beside_the_filter_scroll_in_a_region_the_keyboard_can_reach(
    auditor_client, db
):
    record_audit(SYSTEM, "outbox.sent", "thing", 1)
    db.session.commit()

    page = parse(auditor_client.get("/backoffice/audit"))

    pane = page.select_one(".moj-filter-layout__content .moj-scrollable-pane")
    assert pane["tabindex"] == "0" and pane["role"] == "region" and pane["aria-label"]
    assert text(pane.select_one("table tbody code")) == "outbox.sent"


def test_each_filter_in_use_is_a_tag_that_removes_just_that_filter(auditor_client, db):
    account = make_account()
    response = auditor_client.get(
        "/backoffice/audit",
        query_string={
            "action": "case.",
            "actor_type": "system",
            "account_reference": account.reference,
            "on_or_after": "",
            "before": "99",
            "submit": "Apply filters",
        },
    )

    selected = parse(response).select_one(".moj-filter__selected")
    tags = {
        text(h3): selected.select_one(f"h3:-soup-contains('{text(h3)}') + ul a.moj-filter__tag")
        for h3 in selected.select("h3")
    }
    assert {heading: text(tag) for heading, tag in tags.items()} == {
        "Action starts with": "Remove this filter case.",
        "Done by": "Remove this filter The system",
        "Account reference": f"Remove this filter {account.reference}",
    }
    # Removing one keeps the others and starts again from the newest entry.
    removed_action = parse_qs(urlsplit(tags["Action starts with"]["href"]).query)
    assert removed_action == {"actor_type": ["system"], "account_reference": [account.reference]}
    clear = selected.select_one("a:-soup-contains('Clear filters')")
    assert clear["href"] == "/backoffice/audit"


def test_a_filter_with_an_error_gets_no_tag(auditor_client):
    page = parse(auditor_client.get("/backoffice/audit", query_string={"on_or_after": "31/2/2026"}))

    assert page.select_one(".govuk-error-summary") is not None
    assert page.select_one(".moj-filter__selected") is None
