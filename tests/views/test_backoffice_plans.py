"""Payment plans in the back office: the queue of referred plans, the plan page with
every policy rule and the I&E share, approving, rejecting and counter-offering,
who may decide what, the broken-plans queue, and each department's policy."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.clock import utcnow
from shared.models import (
    Arrangement,
    ArrangementStatus,
    AuditLog,
    ContactEvent,
    Frequency,
    Instalment,
    OutboxMessage,
    PaymentRoute,
    PlanPolicy,
    StaffRole,
)
from shared.services import ledger, plans
from shared.services.actors import SYSTEM
from shared.services.plans import queues
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import count_queries, csrf_token, error_summary, parse, text

pytestmark = frozen_clock
QUEUE = "/backoffice/plans"
BROKEN = "/backoffice/plans/broken"
POLICIES = "/backoffice/admin/plan-policies"


@pytest.fixture
def department(db):
    return make_department(name="Trade waste")


def debts(department, *amounts, surname="Smith"):
    account = make_account(surname=surname, email=f"{surname.lower()}@example.com")
    invoices = [
        ledger.raise_invoice(
            account_id=account.id,
            department_id=department.id,
            number=f"INV-{account.id}-{n}",
            issue_date=TODAY - timedelta(days=60),
            due_date=TODAY - timedelta(days=30),
            description="Trade waste collections",
            lines=[ledger.LineInput("Collections", 1, pence)],
            actor=SYSTEM,
        )
        for n, pence in enumerate(amounts, start=1)
    ]
    return account, invoices


def propose(account, invoices, count=20, statement=True):
    """A plan longer than the default 12 months, so policy refers it to an officer."""
    statement_id = None
    if statement:
        statement_id = plans.save_statement(
            account_id=account.id,
            amounts={"wages": 180_000, "rent": 70_000},
            actor=SYSTEM,
            submit=True,
        ).id
    return plans.propose(
        account_id=account.id,
        invoice_ids=[i.id for i in invoices],
        terms=plans.Terms(Frequency.MONTHLY, TODAY + timedelta(days=7), count=count),
        payment_route=PaymentRoute.CARD,
        actor=SYSTEM,
        ie_statement_id=statement_id,
    )


@pytest.fixture
def referred(db, department):
    account, invoices = debts(department, 48_000, 12_000)
    return account, propose(account, invoices)


@pytest.fixture
def officer(db):
    return make_staff(StaffRole.OFFICER, full_name="Olive Officer")


@pytest.fixture
def leader(db):
    return make_staff(StaffRole.TEAM_LEADER, full_name="Tess Leader")


def plan_path(arrangement, verb=None):
    return f"{QUEUE}/{arrangement.id}" + (f"/{verb}" if verb else "")


def post(client, path, **fields):
    return client.post(path, data={"csrf_token": csrf_token(client, QUEUE), **fields})


def reload(db, arrangement) -> Arrangement:
    db.session.expire_all()
    return db.session.get(Arrangement, arrangement.id)


def outbox_templates(db):
    return db.session.scalars(sa.select(OutboxMessage.template).order_by(OutboxMessage.id)).all()


def audit_actions(db):
    return db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()


def test_the_queue_lists_plans_awaiting_a_decision_oldest_first_with_their_age(
    client, db, department, officer
):
    newer_account, newer_invoices = debts(department, 30_000, surname="Newer")
    older_account, older_invoices = debts(department, 30_000, surname="Older")
    newer = propose(newer_account, newer_invoices)
    older = propose(older_account, older_invoices)
    db.session.execute(
        sa.update(Arrangement)
        .where(Arrangement.id == older.id)
        .values(created_at=utcnow() - timedelta(days=5))
    )
    db.session.commit()
    signed_in_session(client, officer)

    page = parse(client.get(QUEUE))

    rows = page.select("#plan-queue tbody tr")
    assert [int(r["data-plan-id"]) for r in rows] == [older.id, newer.id]
    first = text(rows[0])
    assert first.startswith("5 days")
    assert f"Alex Older ({older_account.reference})" in first
    assert "£300.00" in first
    assert "20 monthly payments of £15.00" in first
    assert text(rows[1]).startswith("0 days")


def test_the_queue_marks_plans_a_team_leader_must_decide_and_counts_failed_rules(
    client, db, department, officer
):
    db.session.add(_policy(department, team_leader_above_pence=20_000))
    db.session.commit()
    account, invoices = debts(department, 48_000)
    propose(account, invoices)
    signed_in_session(client, officer)

    [row] = parse(client.get(QUEUE)).select("#plan-queue tbody tr")

    assert "Team leader" in text(row)
    # Only the length rule fails (20 months against 12).
    assert text(row.select("td")[-1]) == "1"


def test_the_plan_page_shows_the_schedule_every_rule_and_the_share_of_disposable_income(
    client, db, referred, officer
):
    account, arrangement = referred
    signed_in_session(client, officer)

    page = parse(client.get(plan_path(arrangement)))

    assert "Payment plan for Alex Smith" in text(page.title)
    assert len(page.select("#schedule tbody tr")) == 20
    assert "£30.00" in text(page.select_one("#schedule tbody tr"))
    assert len(page.select("#debts tbody tr")) == 2
    rules = page.select("#rules tbody tr")
    assert [r["data-rule"] for r in rules] == [r["rule"] for r in arrangement.policy_rules]
    assert len(rules) == 7
    length = text(page.select_one("#rules tr[data-rule=length]"))
    assert "Failed" in length
    assert "Plan lasts 20 months; the limit for Trade waste is 12 months" in length
    assert "Passed" in text(page.select_one("#rules tr[data-rule=affordability]"))
    ie = text(page.select_one("#income-expenditure"))
    assert "Income £1,800.00 a month" in ie
    assert "Fixed costs £700.00 a month" in ie
    assert "Disposable income £1,100.00 a month" in ie
    # £30.00 a month of £1,100.00 left over: 2.7%, shown as 3%.
    assert text(page.select_one("#offer-share")) == "£30.00 a month: 3% of disposable income"


def test_an_officer_approves_a_plan_and_it_becomes_active_with_a_notice_to_the_debtor(
    client, db, referred, officer
):
    account, arrangement = referred
    signed_in_session(client, officer)

    response = post(client, plan_path(arrangement, "approve"), approve_note="Affordable")

    assert response.status_code == 302
    assert response.headers["Location"] == QUEUE
    arrangement = reload(db, arrangement)
    assert arrangement.status == ArrangementStatus.ACTIVE
    assert arrangement.decided_by_staff_id == officer.id
    assert outbox_templates(db)[-1] == "plan_active"
    assert "plan.activated" in audit_actions(db)
    assert parse(client.get(QUEUE)).select("#plan-queue tbody tr") == []


def test_rejecting_needs_a_reason_the_debtor_will_see(client, db, referred, officer):
    account, arrangement = referred
    signed_in_session(client, officer)

    response = post(client, plan_path(arrangement, "reject"), reject_reason="  ")

    assert response.status_code == 200
    assert error_summary(parse(response)) == [
        ("Enter why the plan is rejected (the debtor sees it)", "#reject_reason")
    ]
    assert reload(db, arrangement).status == ArrangementStatus.PROPOSED

    response = post(client, plan_path(arrangement, "reject"), reject_reason="Please call us")

    assert response.headers["Location"] == QUEUE
    arrangement = reload(db, arrangement)
    assert arrangement.status == ArrangementStatus.CANCELLED
    assert arrangement.decision_reason == "Please call us"
    rejected = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.template == "plan_rejected")
    ).one()
    assert "Reason: Please call us" in rejected.body


def _instalments(db, arrangement):
    db.session.expire_all()
    return db.session.execute(
        sa.select(Instalment.due_date, Instalment.amount_pence)
        .where(Instalment.arrangement_id == arrangement.id)
        .order_by(Instalment.sequence)
    ).all()


def test_a_counter_offer_with_bad_terms_is_refused_and_nothing_changes(
    client, db, referred, officer
):
    account, arrangement = referred
    before = _instalments(db, arrangement)
    signed_in_session(client, officer)
    terms = {
        "frequency": "monthly",
        "instalment_count": "10",
        "counter_reason": "Twelve months is our longest plan",
    }

    past = post(
        client,
        plan_path(arrangement, "counter-offer"),
        first_payment=(TODAY - timedelta(days=1)).strftime("%d/%m/%Y"),
        **terms,
    )
    both = post(
        client,
        plan_path(arrangement, "counter-offer"),
        first_payment=(TODAY + timedelta(days=3)).strftime("%d/%m/%Y"),
        instalment_amount="50",
        **terms,
    )

    assert past.status_code == 200
    assert error_summary(parse(past)) == [
        ("The first payment date must be today or in the future", "#decide")
    ]
    assert both.status_code == 200
    assert (
        "Enter either the amount of each payment or the number of payments",
        "#instalment_count",
    ) in error_summary(parse(both))
    arrangement = reload(db, arrangement)
    assert arrangement.status == ArrangementStatus.PROPOSED
    assert arrangement.original_terms is None
    assert _instalments(db, arrangement) == before
    assert outbox_templates(db) == ["plan_received"]


def test_a_counter_offer_with_good_terms_goes_to_the_debtor(client, db, referred, officer):
    account, arrangement = referred
    signed_in_session(client, officer)

    response = post(
        client,
        plan_path(arrangement, "counter-offer"),
        frequency="monthly",
        instalment_amount="50",
        first_payment=(TODAY + timedelta(days=3)).strftime("%d/%m/%Y"),
        counter_reason="Twelve months is our longest plan",
    )

    assert response.headers["Location"] == QUEUE
    arrangement = reload(db, arrangement)
    assert arrangement.status == ArrangementStatus.COUNTER_OFFERED
    assert arrangement.original_terms["count"] == 20
    assert [amount for _, amount in _instalments(db, arrangement)] == [5_000] * 12
    assert outbox_templates(db)[-1] == "plan_counter_offer"


def _policy(department, **overrides):
    values = dict(
        department_id=department.id,
        max_length_months=12,
        min_instalment_pence=500,
        max_auto_approve_pence=100_000,
        no_broken_plan_within_months=12,
        refer_if_legal=True,
        income_expenditure_above_pence=50_000,
        team_leader_above_pence=300_000,
    )
    return PlanPolicy(**(values | overrides))


def test_an_officer_cannot_decide_a_team_leader_plan_but_a_team_leader_can(
    client, db, department, officer, leader
):
    db.session.add(_policy(department, team_leader_above_pence=20_000))
    db.session.commit()
    account, invoices = debts(department, 48_000)
    arrangement = propose(account, invoices)
    assert arrangement.needs_team_leader
    signed_in_session(client, officer)

    page = parse(client.get(plan_path(arrangement)))
    assert "must be decided by a team leader" in text(page.select_one("#decide"))
    assert page.select_one(f"form[action='{plan_path(arrangement, 'approve')}']") is None
    refused = post(client, plan_path(arrangement, "approve"))

    assert refused.status_code == 200
    assert error_summary(parse(refused)) == [
        ("A plan of £480.00 must be decided by a team leader", "#decide")
    ]
    assert reload(db, arrangement).status == ArrangementStatus.PROPOSED

    signed_in_session(client, leader)
    approved = post(client, plan_path(arrangement, "approve"))

    assert approved.headers["Location"] == QUEUE
    assert reload(db, arrangement).status == ArrangementStatus.ACTIVE


def test_an_auditor_can_read_a_plan_but_not_decide_it(client, db, referred):
    account, arrangement = referred
    signed_in_session(client, make_staff(StaffRole.AUDITOR))

    page = client.get(plan_path(arrangement))
    refused = client.post(
        plan_path(arrangement, "approve"),
        data={"csrf_token": csrf_token(client, "/backoffice/sign-in")},
    )

    assert page.status_code == 200
    assert parse(page).select("#decide form") == []
    assert client.get(QUEUE).status_code == 200
    assert refused.status_code == 403
    assert reload(db, arrangement).status == ArrangementStatus.PROPOSED


def _broken(db, arrangement):
    db.session.execute(
        sa.update(Arrangement)
        .where(Arrangement.id == arrangement.id)
        .values(
            status=ArrangementStatus.BROKEN,
            ended_at=utcnow() - timedelta(days=2),
            end_reason="Two payments missed",
        )
    )
    db.session.commit()


def test_a_broken_plan_waits_on_its_queue_until_reviewed_once(client, db, referred, officer):
    account, arrangement = referred
    _broken(db, arrangement)
    signed_in_session(client, officer)

    page = parse(client.get(BROKEN))
    card = text(page.select_one(f"#broken-{arrangement.id}"))
    assert "2 days ago" in card
    assert "Two payments missed" in card

    first = post(client, plan_path(arrangement, "reviewed"), note="Called them")
    second = post(client, plan_path(arrangement, "reviewed"), note="Called them")

    assert first.headers["Location"] == BROKEN
    assert second.headers["Location"] == BROKEN
    arrangement = reload(db, arrangement)
    assert arrangement.broken_reviewed_by_staff_id == officer.id
    assert audit_actions(db).count("plan.broken_reviewed") == 1
    reviews = db.session.scalars(
        sa.select(ContactEvent).where(ContactEvent.summary.like("Broken payment plan%"))
    ).all()
    assert [(e.summary, e.detail) for e in reviews] == [
        ("Broken payment plan of £600.00 reviewed", "Called them")
    ]
    assert parse(client.get(BROKEN)).select(".govuk-summary-card") == []


def test_a_plan_that_is_not_broken_cannot_be_marked_reviewed(client, db, referred, officer):
    account, arrangement = referred
    signed_in_session(client, officer)

    post(client, plan_path(arrangement, "reviewed"))

    assert reload(db, arrangement).broken_reviewed_at is None
    assert "That payment plan is not broken" in text(parse(client.get(BROKEN)))


def _policy_form(**overrides):
    return {
        "max_length_months": "6",
        "min_instalment": "10",
        "max_auto_approve": "500",
        "no_broken_plan_within_months": "0",
        "refer_if_legal": "no",
        "income_expenditure_above": "250",
        "team_leader_above": "2,000",
    } | overrides


def test_an_admin_sets_a_departments_policy_and_it_is_audited(client, db, department):
    signed_in_session(client, make_staff(StaffRole.ADMIN))
    listing = text(parse(client.get(POLICIES)).select_one("#policies"))
    assert "Trade waste Default 12 months £1,000.00 £3,000.00" in listing
    path = f"{POLICIES}/{department.id}"

    response = client.post(path, data={"csrf_token": csrf_token(client, path), **_policy_form()})

    assert response.headers["Location"] == POLICIES
    row = db.session.scalars(sa.select(PlanPolicy)).one()
    assert (row.max_length_months, row.min_instalment_pence, row.team_leader_above_pence) == (
        6,
        1_000,
        200_000,
    )
    assert row.refer_if_legal is False
    [audit] = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "plan_policy.saved")
    ).all()
    assert audit.before is None
    assert audit.after["max_auto_approve_pence"] == 50_000

    client.post(
        path,
        data={"csrf_token": csrf_token(client, path), **_policy_form(max_length_months="9")},
    )

    latest = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "plan_policy.saved").order_by(AuditLog.id)
    ).all()[-1]
    assert (latest.before["max_length_months"], latest.after["max_length_months"]) == (6, 9)
    assert "Own policy 9 months" in text(parse(client.get(POLICIES)).select_one("#policies"))


def test_a_policy_with_negative_or_non_numeric_values_is_refused(client, db, department):
    signed_in_session(client, make_staff(StaffRole.ADMIN))
    path = f"{POLICIES}/{department.id}"

    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            **_policy_form(
                max_length_months="twelve",
                min_instalment="0",
                max_auto_approve="-5",
                no_broken_plan_within_months="-1",
            ),
        },
    )

    assert response.status_code == 200
    assert error_summary(parse(response)) == [
        ("Maximum length in months must be a whole number, like 12", "#max_length_months"),
        ("Minimum instalment must be more than £0", "#min_instalment"),
        ("Maximum for automatic approval must be £0 or more", "#max_auto_approve"),
        (
            "No broken plan within this many months must be 0 or more",
            "#no_broken_plan_within_months",
        ),
    ]
    assert db.session.scalars(sa.select(PlanPolicy)).all() == []
    assert "plan_policy.saved" not in audit_actions(db)


def test_only_admins_change_plan_policy(client, db, department, leader):
    signed_in_session(client, leader)

    assert client.get(POLICIES).status_code == 403
    assert client.get(f"{POLICIES}/{department.id}").status_code == 403


def test_the_case_view_links_each_plan_and_the_navigation_links_the_queue(
    client, db, referred, officer
):
    account, arrangement = referred
    signed_in_session(client, officer)

    page = parse(client.get(f"/backoffice/accounts/{account.reference}/plans"))

    assert page.select_one(f"#plans ~ table a[href='{plan_path(arrangement)}']")
    assert page.select_one(f".govuk-service-navigation a[href='{QUEUE}']")


# --- paging the queues ---------------------------------------------------------------------------


def _plans_at(db, department, *created_at) -> list[Arrangement]:
    """Proposed plans created at these times, in id order."""
    made = []
    for n, at in enumerate(created_at):
        account, invoices = debts(department, 30_000, surname=f"Queued{n}")
        made.append(propose(account, invoices, statement=False))
        db.session.execute(
            sa.update(Arrangement).where(Arrangement.id == made[-1].id).values(created_at=at)
        )
    db.session.commit()
    return made


def _broken_at(db, department, *ended_at) -> list[Arrangement]:
    """Broken, unreviewed plans that broke at these times, in id order. A time of None
    is a plan broken before ended_at was recorded: it broke when last changed, 3 days ago."""
    made = _plans_at(db, department, *[utcnow()] * len(ended_at))
    for arrangement, at in zip(made, ended_at, strict=True):
        db.session.execute(
            sa.update(Arrangement)
            .where(Arrangement.id == arrangement.id)
            .values(
                status=ArrangementStatus.BROKEN,
                ended_at=at,
                updated_at=utcnow() - timedelta(days=3),
            )
        )
    db.session.commit()
    return made


def _walk(client, path) -> list:
    """Every page of a queue, from the first by its "Next page" links."""
    pages = [parse(client.get(path))]
    while (link := pages[-1].select_one(".govuk-pagination__next a")) is not None:
        pages.append(parse(client.get(link["href"])))
    return pages


def _ranges(pages) -> list[str]:
    return [text(page.select_one("#queue-range")) for page in pages]


def test_the_decision_queue_pages_oldest_first_with_no_plan_repeated_or_skipped(
    client, db, department, officer, monkeypatch
):
    monkeypatch.setattr(queues, "QUEUE_PAGE_SIZE", 3)
    same_second = utcnow().replace(microsecond=0) - timedelta(days=2)
    # Four proposed in the same second, across the first page's end: their ids decide.
    made = _plans_at(
        db,
        department,
        same_second,
        same_second - timedelta(days=1),
        same_second,
        same_second,
        same_second + timedelta(hours=1),
        same_second,
        same_second - timedelta(days=3),
    )
    oldest_first = [a.id for a in sorted(made, key=lambda a: (a.created_at, a.id))]
    signed_in_session(client, officer)

    pages = _walk(client, QUEUE)

    shown = [[int(tr["data-plan-id"]) for tr in p.select("#plan-queue tbody tr")] for p in pages]
    assert shown == [oldest_first[:3], oldest_first[3:6], oldest_first[6:]]
    assert _ranges(pages) == ["Plans 1 to 3 of 7", "Plans 4 to 6 of 7", "Plan 7 of 7"]
    assert text(pages[1].title).startswith("Payment plans awaiting a decision (plans 4 to 6 of 7)")
    assert pages[0].select_one(".govuk-pagination__prev") is None
    for later in pages[1:]:
        assert later.select_one(".govuk-pagination__prev a")["href"] == QUEUE


def test_a_plan_decided_while_an_officer_pages_the_queue_moves_no_other_plan(
    client, db, department, officer, monkeypatch
):
    monkeypatch.setattr(queues, "QUEUE_PAGE_SIZE", 2)
    made = _plans_at(db, department, *[utcnow() - timedelta(days=d) for d in (5, 4, 3, 2)])
    signed_in_session(client, officer)
    first = parse(client.get(QUEUE))
    next_page = first.select_one(".govuk-pagination__next a")["href"]

    post(client, plan_path(made[0], "approve"))
    second = parse(client.get(next_page))

    assert [int(tr["data-plan-id"]) for tr in second.select("#plan-queue tbody tr")] == [
        made[2].id,
        made[3].id,
    ]
    # Counted as they are now: one plan ahead of this page, three in the queue.
    assert text(second.select_one("#queue-range")) == "Plans 2 to 3 of 3"


@pytest.mark.parametrize("path", [QUEUE, BROKEN])
@pytest.mark.parametrize(
    "after",
    [
        "nonsense",
        "2026-02-30T10:00:00.5",  # no such day
        "2026-01-01T10:00:00.1234567890123456789",  # an id no BIGINT holds
        "2026-01-01T10:00:00+01:00.5",  # an offset: the times are naive UTC
        "2026-01-01.5.5",
        "",
    ],
)
def test_a_cursor_no_page_made_shows_the_first_page_of_either_queue(
    client, db, department, officer, path, after
):
    made = _plans_at(db, department, utcnow())
    if path == BROKEN:
        _broken(db, made[0])
    signed_in_session(client, officer)

    response = client.get(path, query_string={"after": after})

    assert response.status_code == 200
    page = parse(response)
    assert text(page.select_one("#queue-range")) == "Plan 1 of 1"
    assert page.select_one(".govuk-pagination") is None


def test_a_cursor_past_the_end_of_the_queue_says_so_and_links_back_to_the_start(
    client, db, department, officer
):
    _plans_at(db, department, utcnow() - timedelta(days=1))
    signed_in_session(client, officer)

    page = parse(client.get(QUEUE, query_string={"after": "2999-01-01T00:00:00.1"}))

    assert page.select("#plan-queue") == []
    assert "No more payment plans are waiting for a decision" in text(page)
    assert page.select_one(f"main a[href='{QUEUE}']") is not None


def test_the_broken_queue_pages_longest_broken_first_including_plans_with_no_broken_date(
    client, db, department, officer, monkeypatch
):
    monkeypatch.setattr(queues, "QUEUE_PAGE_SIZE", 2)
    tie = utcnow().replace(microsecond=0) - timedelta(days=5)
    made = _broken_at(db, department, tie, None, tie - timedelta(days=1), tie, None)
    by_key = sorted(made, key=lambda a: (a.ended_at or a.updated_at, a.id))
    signed_in_session(client, officer)

    pages = _walk(client, BROKEN)

    shown = [
        [int(c["id"].removeprefix("broken-")) for c in p.select(".govuk-summary-card")]
        for p in pages
    ]
    assert shown == [[a.id for a in by_key[i : i + 2]] for i in (0, 2, 4)]
    assert _ranges(pages) == ["Plans 1 to 2 of 5", "Plans 3 to 4 of 5", "Plan 5 of 5"]
    undated = text(pages[-1].select_one(f"#broken-{made[4].id}"))
    assert "3 days ago" in undated


def test_reviewing_a_plan_from_a_later_page_returns_to_the_first_page_without_it(
    client, db, department, officer, monkeypatch
):
    monkeypatch.setattr(queues, "QUEUE_PAGE_SIZE", 2)
    made = _broken_at(db, department, *[utcnow() - timedelta(days=d) for d in (9, 8, 7)])
    signed_in_session(client, officer)
    [_, second] = _walk(client, BROKEN)
    assert second.select_one(f"form[action='{plan_path(made[2], 'reviewed')}']")

    response = post(client, plan_path(made[2], "reviewed"), note="Spoke to them")

    assert response.headers["Location"] == BROKEN
    [only] = _walk(client, BROKEN)
    assert [c["id"] for c in only.select(".govuk-summary-card")] == [
        f"broken-{made[0].id}",
        f"broken-{made[1].id}",
    ]
    assert text(only.select_one("#queue-range")) == "Plans 1 to 2 of 2"


@pytest.mark.parametrize("path", [QUEUE, BROKEN])
def test_a_queue_page_costs_the_same_queries_however_many_plans_are_on_it_or_in_the_queue(
    client, db, department, officer, monkeypatch, path
):
    monkeypatch.setattr(queues, "QUEUE_PAGE_SIZE", 3)
    make = _broken_at if path == BROKEN else _plans_at
    make(db, department, utcnow() - timedelta(days=30))
    signed_in_session(client, officer)
    one_plan = count_queries(db, lambda: client.get(path))

    make(db, department, *[utcnow() - timedelta(days=d) for d in range(1, 9)])
    next_page = parse(client.get(path)).select_one(".govuk-pagination__next a")["href"]
    full_page = count_queries(db, lambda: client.get(path))
    later_page = count_queries(db, lambda: client.get(next_page))

    assert full_page == one_plan
    assert later_page == one_plan
