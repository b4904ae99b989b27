"""The back-office home is the signed-in person's work list (issue 16): their diary
follow-ups overdue and due today, the plans they may decide, the requests they may
approve, Direct Debit returns, unallocated payments and invoices to check, each with
its count and a link to the queue; a team leader also sees the team's totals (the
dashboard's counts). Only what the person's role may open is shown, and the case
search stays."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from shared.domain.invoice_checks import DraftStatus
from shared.extensions import db
from shared.models import (
    ApprovalKind,
    ApprovalRequest,
    Arrangement,
    ArrangementStatus,
    ContactEvent,
    ContactKind,
    Frequency,
    IncomeCode,
    InvoiceDraft,
    PaymentMethod,
    PaymentRoute,
    StaffRole,
)
from shared.reports import dashboard
from shared.services import ledger
from shared.services.actors import SYSTEM, staff
from shared.services.directdebit import returns
from tests.bacs_report_samples import Return, arudd
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import count_queries, parse, text, title

pytestmark = frozen_clock
HOME = "/backoffice/"


def work_list(client, table_id: str = "work-mine") -> dict[str, tuple[int, str]]:
    """Each row of a work-list table: its words -> (count, the link's address)."""
    table = parse(client.get(HOME)).select_one(f"table#{table_id}")
    if table is None:
        return {}
    rows = {}
    for row in table.select("tbody tr"):
        link = row.select_one("th a")
        rows[text(link)] = (int(text(row.select_one("td")).replace(",", "")), link["href"])
    return rows


def follow_up(officer, due: date, *, dealt_with: bool = False) -> None:
    account = make_account(surname="Diary")
    db.session.add(
        ContactEvent(
            account_id=account.id,
            kind=ContactKind.CALL_OUT,
            summary="Call back",
            follow_up_date=due,
            staff_id=officer.id,
        )
    )
    db.session.flush()
    if dealt_with:
        db.session.add(
            ContactEvent(
                account_id=account.id, kind=ContactKind.NOTE, summary="Done", staff_id=officer.id
            )
        )
    db.session.commit()


def plan(status: ArrangementStatus, *, needs_team_leader: bool = False) -> None:
    db.session.add(
        Arrangement(
            account_id=make_account().id,
            status=status,
            frequency=Frequency.MONTHLY,
            total_pence=12_000,
            start_date=date(2026, 7, 1),
            payment_route=PaymentRoute.CARD,
            instalment_pence=4_000,
            needs_team_leader=needs_team_leader,
        )
    )
    db.session.commit()


def request(kind: ApprovalKind, pence: int, by, **payload) -> ApprovalRequest:
    row = ApprovalRequest(
        account_id=make_account().id,
        kind=kind,
        amount_pence=pence,
        reason_code="other" if kind != ApprovalKind.REFUND else "bacs",
        reason="Because",
        requested_by_staff_id=by.id,
        payload=payload or None,
    )
    db.session.add(row)
    db.session.commit()
    return row


def invoice_to_check(raised_by) -> None:
    dept = make_department()
    code = IncomeCode(
        department_id=dept.id, code="M1", description="Bins", cost_centre="C1", ledger_code="L1"
    )
    db.session.add(code)
    db.session.flush()
    db.session.add(
        InvoiceDraft(
            account_id=make_account().id,
            department_id=dept.id,
            income_code_id=code.id,
            description="Bins",
            status=DraftStatus.AWAITING_CHECK,
            raised_by_staff_id=raised_by.id,
            submitted_at=datetime(2026, 6, 16, 9),
        )
    )
    db.session.commit()


@pytest.fixture
def officer(db):
    return make_staff(StaffRole.OFFICER, full_name="Olive Officer")


@pytest.fixture
def leader(db):
    return make_staff(
        StaffRole.TEAM_LEADER,
        full_name="Tess Leader",
        write_off_limit_pence=50_000,
        refund_limit_pence=50_000,
    )


def test_the_home_page_is_the_officers_work_list_with_the_search_box_kept(client, officer):
    signed_in_session(client, officer)

    page = parse(client.get(HOME))

    assert title(page).startswith("Your work")
    assert page.select_one("main form[role=search] input#q")
    assert list(work_list(client)) == [
        "Diary follow-ups overdue",
        "Diary follow-ups due today",
        "Payment plans waiting for a decision",
        "Direct Debit returns to work",
        "Unallocated payments",
        "Invoices waiting to be checked",
        "Your invoices not sent yet",
    ]
    assert {count for count, _ in work_list(client).values()} == {0}


def test_the_diary_counts_are_this_officers_own_follow_ups_overdue_and_due_today(client, officer):
    other = make_staff(StaffRole.OFFICER)
    follow_up(officer, TODAY - timedelta(days=3))
    follow_up(officer, TODAY - timedelta(days=1))
    follow_up(officer, TODAY)
    follow_up(officer, TODAY + timedelta(days=1))  # not due yet
    follow_up(officer, TODAY - timedelta(days=2), dealt_with=True)  # a later contact
    follow_up(other, TODAY - timedelta(days=2))  # someone else's
    signed_in_session(client, officer)

    rows = work_list(client)

    assert rows["Diary follow-ups overdue"] == (2, "/backoffice/diary")
    assert rows["Diary follow-ups due today"] == (1, "/backoffice/diary")


def test_plans_waiting_count_only_those_this_person_may_decide(client, officer, leader):
    plan(ArrangementStatus.PROPOSED)
    plan(ArrangementStatus.PROPOSED)
    plan(ArrangementStatus.PROPOSED, needs_team_leader=True)
    plan(ArrangementStatus.ACTIVE)
    label = "Payment plans waiting for a decision"

    signed_in_session(client, officer)
    assert work_list(client)[label] == (2, "/backoffice/plans")
    signed_in_session(client, leader)
    assert work_list(client)[label] == (3, "/backoffice/plans")


def test_approvals_waiting_count_only_the_requests_this_team_leader_may_approve(
    client, officer, leader
):
    request(ApprovalKind.WRITE_OFF, 20_000, officer)
    request(ApprovalKind.CREDIT_NOTE, 30_000, officer)
    request(ApprovalKind.WRITE_OFF, 60_000, officer)  # above the leader's limit
    request(ApprovalKind.WRITE_OFF, 10_000, leader)  # the leader's own
    # A refund of a payment the leader recorded: they may not approve paying it out.
    theirs = ledger.record_payment(
        account_id=make_account().id,
        amount_pence=5_000,
        method=PaymentMethod.CHEQUE,
        actor=staff(leader.id),
    ).entry
    request(ApprovalKind.REFUND, 5_000, officer, source_entry_id=theirs.id, route="bacs")
    paid = ledger.record_payment(
        account_id=make_account().id,
        amount_pence=5_000,
        method=PaymentMethod.BANK_TRANSFER,
        actor=SYSTEM,
    ).entry
    request(ApprovalKind.REFUND, 5_000, officer, source_entry_id=paid.id, route="bacs")
    decided = request(ApprovalKind.WRITE_OFF, 1_000, officer)
    decided.status = "rejected"
    decided.decided_by_staff_id = leader.id
    db.session.commit()
    signed_in_session(client, leader)

    rows = work_list(client)

    label = "Refunds, write-offs and credit notes for you to approve"
    assert rows[label] == (3, "/backoffice/approvals")
    # An officer approves nothing, so is not shown the row at all.
    signed_in_session(client, officer)
    assert label not in work_list(client)


def test_returns_unallocated_payments_and_invoices_to_check_are_counted_with_links(client, officer):
    returns.import_report(SYSTEM, "arudd.xml", arudd([Return("ZZ0000000-01", "9.99", "0")]))
    for pence in (1_234, 5_000):
        ledger.record_payment(
            account_id=make_account().id,
            amount_pence=pence,
            method=PaymentMethod.CHEQUE,
            actor=SYSTEM,
        )
    invoice_to_check(make_staff(StaffRole.OFFICER))
    invoice_to_check(officer)  # their own: someone else checks it
    signed_in_session(client, officer)

    rows = work_list(client)

    assert rows["Direct Debit returns to work"] == (1, "/backoffice/bacs-reports/returns")
    assert rows["Unallocated payments"] == (2, "/backoffice/unallocated")
    assert rows["Invoices waiting to be checked"] == (1, "/backoffice/invoices/checking")


def test_a_team_leader_also_sees_the_teams_totals_and_an_officer_does_not(client, officer, leader):
    follow_up(officer, TODAY - timedelta(days=3))
    request(ApprovalKind.WRITE_OFF, 20_000, officer)
    signed_in_session(client, leader)

    team = work_list(client, "work-team")

    # The dashboard's own counts, every queue a team leader may open.
    expected = {q.label: q.count for q in dashboard.queues(TODAY)}
    assert {label: count for label, (count, _) in team.items()} == expected
    assert team["Diary follow-ups overdue"][0] == 1  # everyone's, not only the leader's
    assert work_list(client)["Diary follow-ups overdue"][0] == 0
    home = parse(client.get(HOME))
    assert home.select_one("main a[href='/backoffice/reports/dashboard']")
    signed_in_session(client, officer)
    assert work_list(client, "work-team") == {}


@pytest.mark.parametrize(
    ("role", "rows"),
    [
        (StaffRole.ADMIN, []),
        (StaffRole.AUDITOR, []),
        (StaffRole.SERVICE_DEPARTMENT, ["Your invoices not sent yet"]),
    ],
)
def test_only_what_the_role_may_open_is_on_the_work_list(client, db, role, rows):
    extra = {"department_id": make_department().id} if role == StaffRole.SERVICE_DEPARTMENT else {}
    person = make_staff(role, **extra)
    signed_in_session(client, person)

    assert list(work_list(client)) == rows
    for _, href in work_list(client).values():
        assert client.get(href).status_code == 200


def test_every_link_on_a_team_leaders_work_list_opens(client, leader):
    signed_in_session(client, leader)

    links = [href for _, href in work_list(client).values()]
    links += [href for _, href in work_list(client, "work-team").values()]

    assert links
    assert {href: client.get(href).status_code for href in links} == dict.fromkeys(links, 200)


def test_the_work_list_costs_the_same_few_statements_however_much_work_is_waiting(
    client, db, officer, leader
):
    def statements() -> int:
        return count_queries(db, lambda: client.get(HOME))

    signed_in_session(client, leader)
    empty = statements()
    for _ in range(5):
        follow_up(leader, TODAY - timedelta(days=1))
        plan(ArrangementStatus.PROPOSED)
        request(ApprovalKind.WRITE_OFF, 1_000, officer)
        invoice_to_check(officer)

    assert statements() == empty
    assert work_list(client)["Payment plans waiting for a decision"][0] == 5
