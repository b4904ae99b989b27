"""Instalment plans through the service layer: policy decides or refers, officers
approve, reject or counter-offer, the debtor accepts or declines."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

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
from shared.services import actors, ledger, plans
from shared.services.actors import SYSTEM
from shared.services.errors import Forbidden, InvalidRequest
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock


@pytest.fixture
def debtor(db):
    account = make_account(email="debtor@example.com")
    department = make_department(name="Trade waste")
    invoices = [
        ledger.raise_invoice(
            account_id=account.id,
            department_id=department.id,
            number=f"INV-PL{n}",
            issue_date=TODAY - timedelta(days=60),
            due_date=TODAY - timedelta(days=30),
            description="Trade waste collections",
            lines=[ledger.LineInput("Collections", 1, pence)],
            actor=SYSTEM,
        )
        for n, pence in ((1, 48_000), (2, 12_000))
    ]
    return account, department, invoices


def portal_actor():
    return actors.Actor(actors.ActorType.PORTAL_USER, None)


def monthly(count=None, instalment=None, start=None):
    return plans.Terms(
        Frequency.MONTHLY,
        start or TODAY + timedelta(days=7),
        instalment_pence=instalment,
        count=count,
    )


def timeline(db, account_id):
    return db.session.scalars(
        sa.select(ContactEvent.summary).where(ContactEvent.account_id == account_id)
    ).all()


def test_a_plan_every_rule_allows_is_approved_at_once_and_the_debtor_told(db, debtor):
    account, _, invoices = debtor
    arrangement = plans.propose(
        account_id=account.id,
        invoice_ids=[invoices[1].id],
        terms=monthly(count=4),
        payment_route=PaymentRoute.CARD,
        actor=SYSTEM,
    )
    assert arrangement.status == ArrangementStatus.ACTIVE
    assert arrangement.policy_outcome == "approve"
    assert all(r["passed"] for r in arrangement.policy_rules)
    amounts = db.session.scalars(
        sa.select(Instalment.amount_pence).where(Instalment.arrangement_id == arrangement.id)
    ).all()
    assert sum(amounts) == 12_000
    [notice] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert notice.template == "plan_active"
    assert any(s.startswith("Payment plan of £120.00 set up") for s in timeline(db, account.id))


def test_a_plan_breaking_a_rule_is_referred_with_the_rule_named(db, debtor):
    account, department, invoices = debtor
    db.session.add(
        PlanPolicy(
            department_id=department.id,
            max_length_months=3,
            min_instalment_pence=500,
            max_auto_approve_pence=100_000,
            no_broken_plan_within_months=12,
            refer_if_legal=True,
            income_expenditure_above_pence=100_000,
            team_leader_above_pence=300_000,
        )
    )
    db.session.commit()
    arrangement = plans.propose(
        account_id=account.id,
        invoice_ids=[i.id for i in invoices],
        terms=monthly(count=6),
        payment_route=PaymentRoute.CARD,
        actor=SYSTEM,
    )
    assert arrangement.status == ArrangementStatus.PROPOSED
    failed = [r for r in arrangement.policy_rules if not r["passed"]]
    assert [r["rule"] for r in failed] == ["length"]
    assert "Trade waste" in failed[0]["explanation"]


def test_a_large_plan_needs_an_income_and_expenditure_statement(db, debtor):
    account, _, invoices = debtor
    with pytest.raises(InvalidRequest, match="income and spending"):
        plans.propose(
            account_id=account.id,
            invoice_ids=[i.id for i in invoices],
            terms=monthly(count=6),
            payment_route=PaymentRoute.CARD,
            actor=SYSTEM,
        )
    assert db.session.scalars(sa.select(Arrangement)).all() == []


def test_one_debt_cannot_be_in_two_plans(db, debtor):
    account, _, invoices = debtor
    plans.propose(
        account_id=account.id,
        invoice_ids=[invoices[1].id],
        terms=monthly(count=4),
        payment_route=PaymentRoute.CARD,
        actor=SYSTEM,
    )
    with pytest.raises(InvalidRequest, match="already"):
        plans.propose(
            account_id=account.id,
            invoice_ids=[invoices[1].id],
            terms=monthly(count=2),
            payment_route=PaymentRoute.CARD,
            actor=SYSTEM,
        )


def _referred(db, account, invoices):
    statement = plans.save_statement(
        account_id=account.id,
        amounts={"wages": 180_000, "rent": 70_000},
        actor=SYSTEM,
        submit=True,
    )
    return plans.propose(
        account_id=account.id,
        invoice_ids=[i.id for i in invoices],
        terms=monthly(count=20),
        payment_route=PaymentRoute.CARD,
        actor=SYSTEM,
        ie_statement_id=statement.id,
    )


def test_an_officer_counter_offers_and_the_debtor_accepts(db, debtor):
    account, _, invoices = debtor
    arrangement = _referred(db, account, invoices)
    assert arrangement.status == ArrangementStatus.PROPOSED
    officer = make_staff(StaffRole.OFFICER)

    offered = plans.counter_offer(
        arrangement_id=arrangement.id,
        terms=monthly(count=10),
        reason="Twelve months is our longest plan",
        actor=actors.staff(officer.id),
    )
    assert offered.status == ArrangementStatus.COUNTER_OFFERED
    assert offered.original_terms["count"] == 20
    accepted = plans.accept_counter_offer(
        arrangement_id=arrangement.id, account_ids=[account.id], actor=portal_actor()
    )
    assert accepted.status == ArrangementStatus.ACTIVE
    assert len(accepted.instalments) == 10
    templates = db.session.scalars(sa.select(OutboxMessage.template)).all()
    assert templates == ["plan_received", "plan_counter_offer", "plan_active"]
    # Twice is once.
    assert (
        plans.accept_counter_offer(
            arrangement_id=arrangement.id, account_ids=[account.id], actor=portal_actor()
        ).status
        == ArrangementStatus.ACTIVE
    )


def test_another_account_cannot_answer_a_counter_offer(db, debtor):
    account, _, invoices = debtor
    arrangement = _referred(db, account, invoices)
    officer = make_staff(StaffRole.OFFICER)
    plans.counter_offer(
        arrangement_id=arrangement.id,
        terms=monthly(count=10),
        reason="Shorter",
        actor=actors.staff(officer.id),
    )
    other = make_account()
    with pytest.raises(Exception, match="No payment plan"):
        plans.accept_counter_offer(
            arrangement_id=arrangement.id, account_ids=[other.id], actor=portal_actor()
        )


def test_a_rejection_tells_the_debtor_why_and_frees_the_debts(db, debtor):
    account, _, invoices = debtor
    arrangement = _referred(db, account, invoices)
    officer = make_staff(StaffRole.OFFICER)
    rejected = plans.reject(
        arrangement_id=arrangement.id, reason="Please call us", actor=actors.staff(officer.id)
    )
    assert rejected.status == ArrangementStatus.CANCELLED
    assert len(plans.plannable_debts(account.id)) == 2
    actions = db.session.scalars(sa.select(AuditLog.action)).all()
    assert "plan.rejected" in actions


def test_a_plan_above_the_team_leader_total_cannot_be_approved_by_an_officer(db, debtor):
    account, department, invoices = debtor
    db.session.add(
        PlanPolicy(
            department_id=department.id,
            max_length_months=12,
            min_instalment_pence=500,
            max_auto_approve_pence=100_000,
            no_broken_plan_within_months=12,
            refer_if_legal=True,
            income_expenditure_above_pence=100_000,
            team_leader_above_pence=20_000,
        )
    )
    db.session.commit()
    arrangement = plans.propose(
        account_id=account.id,
        invoice_ids=[invoices[0].id],
        terms=monthly(count=6),
        payment_route=PaymentRoute.CARD,
        actor=SYSTEM,
    )
    assert arrangement.status == ArrangementStatus.PROPOSED
    assert arrangement.needs_team_leader
    officer = make_staff(StaffRole.OFFICER)
    with pytest.raises(Forbidden, match="team leader"):
        plans.approve(arrangement_id=arrangement.id, actor=actors.staff(officer.id))
    leader = make_staff(StaffRole.TEAM_LEADER)
    assert (
        plans.approve(arrangement_id=arrangement.id, actor=actors.staff(leader.id)).status
        == ArrangementStatus.ACTIVE
    )
