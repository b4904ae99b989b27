"""The team leader's dashboard: each queue's count (and value) is the queue's own, read
from the queue's own service on the same data; the headline figures compare this month
to date with the same days of last month (and the debt over 90 days now with a month
ago); the weekly chart puts each payment in its Monday-to-Sunday week; the page links
each count to its queue for someone who may open it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from shared.domain.invoice_checks import DraftStatus
from shared.extensions import db
from shared.models import (
    ApprovalKind,
    ApprovalRequest,
    Arrangement,
    ArrangementStatus,
    CardCheckout,
    CheckoutStatus,
    ContactEvent,
    ContactKind,
    Frequency,
    IncomeCode,
    InvoiceDraft,
    OutboxChannel,
    OutboxMessage,
    PaymentMethod,
    PaymentRoute,
    PrintBatch,
    RefusedCardEvent,
    StaffRole,
)
from shared.reports import dashboard as board
from shared.services import (
    approval_queues,
    card_event_refusals,
    contacts,
    ledger,
    unallocated,
)
from shared.services.actors import SYSTEM
from shared.services.directdebit import returns, returns_queue
from shared.services.invoices import reads as invoice_reads
from shared.services.messages import print_batch_reads
from shared.services.plans import queues as plan_queues
from tests.bacs_report_samples import Return, arudd
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import parse, title

pytestmark = frozen_clock

assert date(2026, 6, 17) == TODAY  # a Wednesday: the figures below are worked from it


def on(time_machine, day: date) -> None:
    time_machine.move_to(datetime.combine(day, time(11, 0), tzinfo=UTC), tick=False)


def _invoice(account, dept, number, pence, issue, due):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=dept.id,
        number=number,
        issue_date=issue,
        due_date=due,
        description="Service",
        lines=[ledger.LineInput("Service", 1, pence)],
        actor=SYSTEM,
    )


def _plan(account, status, **kw) -> Arrangement:
    plan = Arrangement(
        account_id=account.id,
        status=status,
        frequency=Frequency.MONTHLY,
        total_pence=kw.pop("total_pence", 12_000),
        start_date=date(2026, 5, 1),
        payment_route=PaymentRoute.CARD,
        instalment_pence=4_000,
        **kw,
    )
    db.session.add(plan)
    db.session.commit()
    return plan


class Queues:
    """Some work in every queue."""

    def __init__(self, time_machine):
        self.dept = make_department("TW", name="Trade waste")
        self.olive = make_staff(StaffRole.OFFICER, full_name="Olive Officer")
        self.owen = make_staff(StaffRole.OFFICER, full_name="Owen Officer")
        account = make_account(surname="Archer", reference="DB000001")
        self.account = account
        for pence in (12_000, 30_000):
            _plan(account, ArrangementStatus.PROPOSED, total_pence=pence)
        _plan(account, ArrangementStatus.BROKEN, ended_at=datetime(2026, 6, 1, 9))
        _plan(
            account,
            ArrangementStatus.BROKEN,
            ended_at=datetime(2026, 6, 2, 9),
            broken_reviewed_at=datetime(2026, 6, 3, 9),
        )
        _plan(account, ArrangementStatus.ACTIVE)
        # Unallocated: two payments to an account with nothing to pay.
        spare = make_account(surname="Grundy", reference="DB000002")
        for pence in (1_234, 5_000):
            ledger.record_payment(
                account_id=spare.id, amount_pence=pence, method=PaymentMethod.CHEQUE, actor=SYSTEM
            )
        # Approvals: two pending write-offs, one decided.
        for pence, status in ((7_000, "pending"), (8_000, "pending"), (9_000, "rejected")):
            db.session.add(
                ApprovalRequest(
                    account_id=account.id,
                    kind=ApprovalKind.WRITE_OFF,
                    amount_pence=pence,
                    reason_code="other",
                    status=status,
                    requested_by_staff_id=self.olive.id,
                    decided_by_staff_id=None if status == "pending" else self.owen.id,
                    decided_at=None if status == "pending" else datetime(2026, 6, 1, 9),
                )
            )
        db.session.commit()
        # The diary: Olive has one overdue and one due today; Owen's overdue one is
        # dealt with by his later contact on the account.
        on(time_machine, date(2026, 6, 1))
        for staff, follow_up in (
            (self.olive, date(2026, 6, 10)),
            (self.olive, TODAY),
            (self.owen, date(2026, 6, 5)),
        ):
            other = make_account(surname="Diary", reference=f"DY{follow_up:%m%d}{staff.id:02d}")
            db.session.add(
                ContactEvent(
                    account_id=other.id,
                    kind=ContactKind.CALL_OUT,
                    summary="Call back",
                    follow_up_date=follow_up,
                    staff_id=staff.id,
                )
            )
            if staff is self.owen:
                db.session.add(
                    ContactEvent(
                        account_id=other.id,
                        kind=ContactKind.NOTE,
                        summary="Done",
                        staff_id=staff.id,
                    )
                )
        db.session.commit()
        on(time_machine, TODAY)
        # A built print batch of 3 letters, and 2 letters waiting for the next.
        db.session.add(PrintBatch(batch_date=TODAY, letter_count=3, page_count=4))
        for _ in range(2):
            db.session.add(
                OutboxMessage(
                    account_id=account.id,
                    channel=OutboxChannel.LETTER,
                    template="officer.general",
                    recipient="post",
                    body="Dear",
                    created_at=datetime(2026, 6, 16, 9),
                )
            )
        # An invoice waiting to be checked.
        code = IncomeCode(
            department_id=self.dept.id,
            code="M1",
            description="Bins",
            cost_centre="C1",
            ledger_code="L1",
        )
        db.session.add(code)
        db.session.flush()
        db.session.add(
            InvoiceDraft(
                account_id=account.id,
                department_id=self.dept.id,
                income_code_id=code.id,
                description="Bins",
                status=DraftStatus.AWAITING_CHECK,
                raised_by_staff_id=self.owen.id,
                submitted_at=datetime(2026, 6, 16, 9),
            )
        )
        # A refused card event.
        checkout = CardCheckout(
            reference="c0ffee00-0000-0000-0000-000000000001",
            account_id=account.id,
            amount_pence=4_500,
            allocations=[],
            status=CheckoutStatus.REFUSED,
            submission_key="k" * 20,
        )
        db.session.add(checkout)
        db.session.flush()
        db.session.add(
            RefusedCardEvent(
                provider="stripe",
                event_id="evt_1",
                event_type="checkout.session.completed",
                checkout_id=checkout.id,
                account_id=account.id,
                expected_amount_pence=4_500,
                expected_currency="gbp",
                reported_amount_pence=450,
                reported_currency="gbp",
                reason="Amount differs",
            )
        )
        db.session.commit()
        # A Bacs return no mandate matches: it waits for an officer.
        returns.import_report(SYSTEM, "arudd.xml", arudd([Return("ZZ0000000-01", "9.99", "0")]))


@pytest.fixture
def queues_world(app, time_machine):
    return Queues(time_machine)


def test_each_queue_count_is_the_queues_own(queues_world):
    got = {q.key: q for q in board.dashboard(TODAY).queues}
    decision = plan_queues.awaiting_decision(TODAY)
    assert (
        (got["plans_to_decide"].count, got["plans_to_decide"].value_pence)
        == (
            decision.count,
            sum(p.total_pence for p in decision.items),
        )
        == (2, 42_000)
    )
    assert got["broken_plans"].count == plan_queues.broken_to_review(TODAY).count == 1
    page = unallocated.queue_page(TODAY)
    assert (
        (got["unallocated"].count, got["unallocated"].value_pence)
        == (
            page.count,
            page.total_pence,
        )
        == (2, 6_234)
    )
    pending = approval_queues.pending_queue(TODAY)
    assert (
        (got["approvals"].count, got["approvals"].value_pence)
        == (
            len(pending),
            sum(p.amount_pence for p in pending),
        )
        == (2, 15_000)
    )
    due = [
        f
        for staff in (queues_world.olive, queues_world.owen)
        for f in contacts.due_follow_ups(staff.id, TODAY)
    ]
    assert got["follow_ups_overdue"].count == sum(f.days_overdue > 0 for f in due) == 1
    assert got["follow_ups_due"].count == sum(f.days_overdue == 0 for f in due) == 1
    assert got["print_batch"].count == print_batch_reads.batch_in_play().letter_count == 3
    waiting = sum(n for _template, n in print_batch_reads.waiting_by_template())
    assert got["letters_waiting"].count == waiting == 2
    assert got["invoice_checks"].count == invoice_reads.waiting_count() == 1
    refusals = card_event_refusals.recent_refusals()
    assert got["refused_card_events"].count == len(refusals) == 1
    assert got["refused_card_events"].value_pence == 4_500
    assert got["bacs_returns"].count == returns_queue.waiting_count() == 1
    assert got["bacs_returns"].value_pence == 999


def test_empty_queues_count_nought(app):
    got = board.dashboard(TODAY)
    assert all(q.count == 0 for q in got.queues)
    assert all(f.value == 0 and f.previous == 0 for f in got.figures)
    assert got.chart.series[0].values == (0,) * 12


class Money:
    """Payments, invoices and broken plans this month and last, and old debt."""

    def __init__(self, time_machine):
        dept = make_department("TW", name="Trade waste")
        payer = make_account(surname="Payer", reference="MY000001")

        def pay(pence, day):
            return ledger.record_payment(
                account_id=payer.id,
                amount_pence=pence,
                method=PaymentMethod.BANK_TRANSFER,
                effective_date=day,
                actor=SYSTEM,
            ).entry

        on(time_machine, date(2026, 5, 1))
        pay(1_000, date(2026, 5, 1))  # last month, in the same days
        pay(2_000, date(2026, 5, 17))  # the same day last month: in
        pay(4_000, date(2026, 5, 18))  # after the same days: out
        on(time_machine, date(2026, 6, 3))
        pay(10_000, date(2026, 6, 3))
        returned = pay(3_000, date(2026, 6, 3))
        on(time_machine, TODAY)
        pay(500, TODAY)
        ledger.reverse(entry_id=returned.id, reason="Returned", actor=SYSTEM)
        # Raised: 60,000 on 2 June less a 5,000 credit note; 25,000 on 10 May.
        raiser = make_account(surname="Raised", reference="MY000002")
        june = _invoice(raiser, dept, "R-1", 60_000, date(2026, 6, 2), date(2026, 7, 2))
        _invoice(raiser, dept, "R-2", 25_000, date(2026, 5, 10), date(2026, 6, 9))
        ledger.raise_credit_note(
            invoice_id=june.id, amount_pence=5_000, reason="Over-charged", actor=SYSTEM
        )
        # Old debt: due 1 March (108 days past due today, 77 on 17 May) and 15 January
        # (153 and 122), 40,000 each; 15,000 paid to the January one on 10 June.
        old = make_account(surname="Old", reference="MY000003")
        on(time_machine, date(2026, 1, 1))
        _invoice(old, dept, "O-1", 40_000, date(2025, 12, 16), date(2026, 1, 15))
        _invoice(old, dept, "O-2", 40_000, date(2026, 2, 1), date(2026, 3, 1))
        on(time_machine, date(2026, 6, 10))
        ledger.record_payment(
            account_id=old.id,
            amount_pence=15_000,
            method=PaymentMethod.CHEQUE,
            effective_date=date(2026, 6, 10),
            actor=SYSTEM,
        )
        on(time_machine, TODAY)
        # Broken plans: 2 this month, 1 in the same days last month, 1 after them.
        for ended in (
            datetime(2026, 6, 2, 9),
            datetime(2026, 6, 16, 22, 30),  # 23:30 BST on 16 June
            datetime(2026, 5, 16, 23, 30),  # 00:30 BST on 17 May: in
            datetime(2026, 5, 17, 23, 30),  # 00:30 BST on 18 May: out
        ):
            _plan(payer, ArrangementStatus.BROKEN, ended_at=ended)


@pytest.fixture
def money_world(app, time_machine):
    return Money(time_machine)


def test_month_back_is_the_same_day_or_the_months_last():
    assert board.month_back(date(2026, 6, 17)) == date(2026, 5, 17)
    assert board.month_back(date(2026, 3, 31)) == date(2026, 2, 28)
    assert board.month_back(date(2026, 1, 15)) == date(2025, 12, 15)


def test_headline_figures_compare_this_month_with_the_same_days_last_month(money_world):
    figures = {f.label: f for f in board.dashboard(TODAY).figures}
    collected = figures["Collected this month"]
    # 10,000 + 3,000 - 3,000 returned + 500 + 15,000 (the cheque on 10 June) in June;
    # 1,000 + 2,000 from 1 to 17 May.
    assert (collected.value, collected.previous) == (25_500, 3_000)
    raised = figures["New debt raised this month"]
    assert (raised.value, raised.previous) == (55_000, 25_000)
    broken = figures["Payment plans broken this month"]
    assert (broken.value, broken.previous) == (2, 1)
    over = figures["Debt over 90 days past due"]
    # Today both old invoices are over 90 days, less the 15,000 paid on 10 June (to the
    # oldest); on 17 May only the January one was, with nothing paid yet.
    assert (over.value, over.previous) == (65_000, 40_000)


def test_the_weekly_chart_puts_each_payment_in_its_week(money_world):
    chart = board.dashboard(TODAY).chart
    spans = board.weeks(TODAY)
    assert len(spans) == 12 and spans[-1] == (date(2026, 6, 15), TODAY)
    assert spans[0][0] == date(2026, 6, 15) - timedelta(weeks=11)
    values = dict(zip([start for start, _end in spans], chart.series[0].values, strict=True))
    # The 3,000 paid on 3 June was returned today: the return counts in this week.
    assert values[date(2026, 6, 15)] == 500 - 3_000
    assert values[date(2026, 6, 8)] == 15_000
    assert values[date(2026, 6, 1)] == 13_000
    assert values[date(2026, 5, 11)] == 2_000  # Sunday 17 May ends that week
    assert values[date(2026, 5, 18)] == 4_000
    assert values[date(2026, 4, 27)] == 1_000
    assert sum(chart.series[0].values) == 32_500


def test_a_team_leader_sees_every_count_linked_to_its_queue(queues_world, client):
    signed_in_session(client, make_staff(StaffRole.TEAM_LEADER, full_name="Tess Leader"))
    response = client.get("/backoffice/reports/dashboard")
    assert response.status_code == 200
    page = parse(response)
    assert title(page).startswith("Team dashboard")
    links = {
        row["id"]: row.select_one("td a")["href"] if row.select_one("td a") else None
        for row in page.select("tr[id^=queue-]")
    }
    assert links["queue-plans_to_decide"] == "/backoffice/plans"
    assert links["queue-unallocated"] == "/backoffice/unallocated"
    assert links["queue-approvals"] == "/backoffice/approvals"
    assert links["queue-bacs_returns"] == "/backoffice/bacs-reports/returns"
    assert all(links.values()), links
    plans = page.select_one("#queue-plans_to_decide td a").get_text(" ", strip=True)
    assert plans.startswith("2")
    assert page.select("figure svg"), "the weekly chart"


def test_an_auditor_sees_the_counts_but_no_links_to_queues_they_cannot_work(queues_world, client):
    signed_in_session(client, make_staff(StaffRole.AUDITOR))
    page = parse(client.get("/backoffice/reports/dashboard"))
    approvals = page.select_one("#queue-approvals")
    assert approvals.select_one("a") is None
    assert "2" in approvals.select("td")[0].get_text()
    assert page.select_one("#queue-unallocated a") is not None  # VIEW_CASES


def test_an_officer_may_not_open_the_dashboard(app, client):
    signed_in_session(client, make_staff(StaffRole.OFFICER))
    assert client.get("/backoffice/reports/dashboard").status_code == 403
