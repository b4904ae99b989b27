"""What the debtor (or an officer on their behalf) does to a plan: proposing it, the
income and expenditure statement behind it, and the answer to a counter-offer.

Each use case is one transaction: the change, its timeline entry, its audit row and
the notice to the debtor (an outbox row, by their preferred channel) commit together.
Policy approves a proposal at once or refers it to an officer (decisions.py); it
never refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from shared import clock
from shared.domain import plan_policy
from shared.domain.income_expenditure import IncomeExpenditureError, Statement
from shared.extensions import db
from shared.models import (
    Arrangement,
    ArrangementDebt,
    ArrangementStatus,
    Frequency,
    IncomeExpenditureStatement,
    PaymentRoute,
)
from shared.services import ledger
from shared.services.actors import Actor
from shared.services.errors import InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.plans import _common, reads, wording
from shared.services.plans._common import AUDIT_OBJECT
from shared.services.plans.terms import Terms
from shared.services.unit_of_work import use_case

# --- proposing --------------------------------------------------------------------------------


@use_case
def propose(
    *,
    account_id: int,
    invoice_ids: Sequence[int],
    terms: Terms,
    payment_route: PaymentRoute,
    actor: Actor,
    ie_statement_id: int | None = None,
    today: date | None = None,
) -> Arrangement:
    """Propose a plan (from the portal, or an officer on the debtor's behalf). Policy
    approves it at once, making it active, or refers it to the officers' queue."""
    today = today or clock.today()
    # The account lock serialises proposals, so two tabs cannot put one debt in two plans.
    account = ledger.lock_account(account_id)
    result = reads.preview(
        account_id, invoice_ids, terms, ie_statement_id=ie_statement_id, today=today
    )
    if result.needs_income_expenditure and ie_statement_id is None:
        raise InvalidRequest(
            "Tell us about your income and spending before you send this plan: "
            "for a plan of this size we need it to check the plan is affordable"
        )
    arrangement = Arrangement(
        account_id=account.id,
        status=ArrangementStatus.PROPOSED,
        frequency=Frequency(terms.frequency),
        total_pence=result.total_pence,
        start_date=terms.start,
        payment_route=PaymentRoute(payment_route),
        proposed_by_portal_user_id=actor.id if actor.type.value == "portal_user" else None,
        created_by_staff_id=actor.staff_id,
        instalment_pence=terms.instalment_pence,
        instalment_count=terms.count,
        ie_statement_id=ie_statement_id,
        policy_outcome=result.outcome,
        policy_rules=result.rules,
        needs_team_leader=result.needs_team_leader,
    )
    db.session.add(arrangement)
    db.session.flush()
    db.session.add_all(
        ArrangementDebt(
            arrangement_id=arrangement.id,
            invoice_id=d.invoice_id,
            amount_pence=d.outstanding_pence,
            stage_at_start=d.recovery_stage.value,
        )
        for d in result.debts
    )
    _common.write_instalments(arrangement, result.schedule)
    words = wording.schedule_words(result.schedule, result.frequency)
    failed = [r["explanation"] for r in result.rules if not r["passed"]]
    record_audit(
        actor,
        "plan.proposed",
        AUDIT_OBJECT,
        arrangement.id,
        account_id=account.id,
        after={
            "total_pence": result.total_pence,
            "terms": terms.as_dict(),
            "invoice_ids": [d.invoice_id for d in result.debts],
            "policy_outcome": result.outcome,
            "failed_rules": failed,
        },
    )
    if result.outcome == plan_policy.APPROVE and not result.needs_team_leader:
        record_timeline(
            account.id,
            actor,
            wording.plan_set_up(result.total_pence, words),
            detail=wording.APPROVED_AUTOMATICALLY_DETAIL,
        )
        _common.activate(
            arrangement, account, actor, decided_by=None, reason=wording.APPROVED_AUTOMATICALLY
        )
    else:
        record_timeline(
            account.id,
            actor,
            wording.plan_proposed(result.total_pence, words),
            detail=wording.referred_detail(failed),
        )
        _common.notify(
            account,
            "plan_received",
            wording.received_notice(result.total_pence, words),
            f"plan-received:{arrangement.id}",
        )
    db.session.commit()
    return arrangement


# --- the debtor's answer to a counter-offer ----------------------------------------------------


def _debtor_arrangement(arrangement_id: int, account_ids: Sequence[int]) -> Arrangement:
    arrangement = reads.debtor_plan(arrangement_id, account_ids)
    if arrangement is None:
        raise NotFound(f"No payment plan {arrangement_id}")
    return arrangement


@use_case
def accept_counter_offer(
    *, arrangement_id: int, account_ids: Sequence[int], actor: Actor
) -> Arrangement:
    """The debtor accepts the officer's terms: the plan becomes active."""
    arrangement = _debtor_arrangement(arrangement_id, account_ids)
    if arrangement.status == ArrangementStatus.ACTIVE:  # a repeated click
        return arrangement
    if arrangement.status != ArrangementStatus.COUNTER_OFFERED:
        raise InvalidRequest("That offer is no longer open")
    if not _common.move(arrangement.id, [ArrangementStatus.COUNTER_OFFERED]):
        db.session.rollback()
        return _common.arrangement(arrangement_id)
    account = _common.account(arrangement.account_id)
    record_timeline(account.id, actor, wording.counter_offer_accepted(arrangement.total_pence))
    _common.activate(
        arrangement,
        account,
        actor,
        decided_by=arrangement.counter_offered_by_staff_id,
        reason=wording.COUNTER_OFFER_ACCEPTED,
    )
    db.session.commit()
    return arrangement


@use_case
def decline_counter_offer(
    *, arrangement_id: int, account_ids: Sequence[int], actor: Actor
) -> Arrangement:
    """The debtor declines the officer's terms: the plan is cancelled and its debts are
    free again (to propose another plan, or for recovery to continue)."""
    arrangement = _debtor_arrangement(arrangement_id, account_ids)
    if arrangement.status == ArrangementStatus.CANCELLED and arrangement.counter_offered_at:
        return arrangement
    if arrangement.status != ArrangementStatus.COUNTER_OFFERED:
        raise InvalidRequest("That offer is no longer open")
    now = clock.utcnow()
    if not _common.move(
        arrangement.id,
        [ArrangementStatus.COUNTER_OFFERED],
        status=ArrangementStatus.CANCELLED,
        ended_at=now,
        end_reason=wording.COUNTER_OFFER_DECLINED,
    ):
        db.session.rollback()
        return _common.arrangement(arrangement_id)
    db.session.refresh(arrangement)
    record_timeline(
        arrangement.account_id,
        actor,
        wording.counter_offer_declined(arrangement.total_pence),
        detail=wording.COUNTER_OFFER_DECLINED_DETAIL,
    )
    record_audit(
        actor,
        "plan.counter_offer_declined",
        AUDIT_OBJECT,
        arrangement.id,
        account_id=arrangement.account_id,
        before={"status": ArrangementStatus.COUNTER_OFFERED.value},
        after={"status": ArrangementStatus.CANCELLED.value},
    )
    db.session.commit()
    return arrangement


# --- income and expenditure -------------------------------------------------------------------


@use_case
def save_statement(
    *,
    account_id: int,
    amounts: dict[str, int],
    actor: Actor,
    submit: bool,
    statement_id: int | None = None,
) -> IncomeExpenditureStatement:
    """Save an I&E statement as a draft (to return to later) or submit it. A submitted
    statement is evidence for a decision and is not changed again: a new one is made."""
    try:
        statement = Statement.from_amounts(amounts)
    except IncomeExpenditureError as exc:
        raise InvalidRequest(str(exc)) from None
    row = None
    if statement_id is not None:
        row = db.session.get(IncomeExpenditureStatement, statement_id)
        if row is None or row.account_id != account_id or row.submitted_at is not None:
            row = None
    if row is None:
        row = IncomeExpenditureStatement(
            account_id=account_id,
            portal_user_id=actor.id if actor.type.value == "portal_user" else None,
            staff_id=actor.staff_id,
        )
        db.session.add(row)
    row.items = statement.as_dict()
    if submit:
        row.submitted_at = clock.utcnow()
    db.session.flush()
    record_audit(
        actor,
        "income_expenditure.submitted" if submit else "income_expenditure.saved",
        "income_expenditure_statement",
        row.id,
        account_id=account_id,
        after={
            "disposable_pence": statement.disposable_income_pence,
            "income_pence": statement.income_pence,
        },
    )
    if submit:
        record_timeline(
            account_id, actor, wording.statement_sent(statement.disposable_income_pence)
        )
    db.session.commit()
    return row
