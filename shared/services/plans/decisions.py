"""An officer's decisions on a plan: approving, rejecting or counter-offering a plan
that policy referred to them, and reviewing a broken plan.

Each is one transaction: the change, its timeline entry, its audit row and the
notice to the debtor commit together. Each is a conditional update on the status,
so a second click or a second officer changes nothing.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from shared import clock
from shared.domain.permissions import Permission, role_has
from shared.extensions import db
from shared.models import Arrangement, ArrangementStatus, Frequency, Instalment, StaffUser
from shared.money import format_gbp
from shared.services.actors import Actor
from shared.services.errors import Forbidden, InvalidRequest
from shared.services.history import record_audit, record_timeline
from shared.services.plans import _common, wording
from shared.services.plans._common import AUDIT_OBJECT
from shared.services.plans.terms import Terms, check_start, schedule_for
from shared.services.unit_of_work import use_case


def _check_decider(arrangement: Arrangement, staff: StaffUser) -> None:
    if not role_has(staff.role, Permission.DECIDE_PLANS):
        raise Forbidden("You cannot decide payment plans")
    if arrangement.needs_team_leader and not role_has(staff.role, Permission.APPROVE):
        raise Forbidden(
            f"A plan of {format_gbp(arrangement.total_pence)} must be decided by a team leader"
        )


def _not_pending(arrangement: Arrangement) -> InvalidRequest:
    words = arrangement.status.value.replace("_", " ")
    return InvalidRequest(f"That plan is no longer waiting for a decision: it is {words}")


@use_case
def approve(*, arrangement_id: int, actor: Actor, note: str | None = None) -> Arrangement:
    """An officer approves a referred plan: it becomes active."""
    staff = _common.staff(actor)
    arrangement = _common.arrangement(arrangement_id)
    if arrangement.status == ArrangementStatus.ACTIVE:  # a repeated click
        return arrangement
    if arrangement.status != ArrangementStatus.PROPOSED:
        raise _not_pending(arrangement)
    _check_decider(arrangement, staff)
    if not _common.move(
        arrangement.id,
        [ArrangementStatus.PROPOSED],
        decided_by_staff_id=staff.id,
        decided_at=clock.utcnow(),
        decision_reason=(note or "").strip() or wording.APPROVED_BY_OFFICER,
    ):
        db.session.rollback()
        return _common.arrangement(arrangement_id)
    db.session.refresh(arrangement)
    account = _common.account(arrangement.account_id)
    record_timeline(
        account.id,
        actor,
        wording.plan_approved(arrangement.total_pence),
        detail=(note or "").strip() or None,
    )
    _common.activate(
        arrangement, account, actor, decided_by=staff.id, reason=wording.APPROVED_BY_OFFICER
    )
    db.session.commit()
    return arrangement


@use_case
def reject(*, arrangement_id: int, reason: str, actor: Actor) -> Arrangement:
    """An officer rejects a referred plan with a reason the debtor is told."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidRequest("Enter the reason, which the debtor will see")
    staff = _common.staff(actor)
    arrangement = _common.arrangement(arrangement_id)
    if arrangement.status == ArrangementStatus.CANCELLED and arrangement.decided_by_staff_id:
        return arrangement
    if arrangement.status != ArrangementStatus.PROPOSED:
        raise _not_pending(arrangement)
    _check_decider(arrangement, staff)
    now = clock.utcnow()
    if not _common.move(
        arrangement.id,
        [ArrangementStatus.PROPOSED],
        status=ArrangementStatus.CANCELLED,
        decided_by_staff_id=staff.id,
        decided_at=now,
        decision_reason=reason,
        ended_at=now,
        end_reason=wording.rejected_end_reason(reason),
    ):
        db.session.rollback()
        return _common.arrangement(arrangement_id)
    db.session.refresh(arrangement)
    account = _common.account(arrangement.account_id)
    record_timeline(
        account.id, actor, wording.plan_rejected(arrangement.total_pence), detail=reason
    )
    record_audit(
        actor,
        "plan.rejected",
        AUDIT_OBJECT,
        arrangement.id,
        account_id=account.id,
        before={"status": ArrangementStatus.PROPOSED.value},
        after={"status": ArrangementStatus.CANCELLED.value, "reason": reason},
    )
    _common.notify(
        account,
        "plan_rejected",
        wording.rejected_notice(reason),
        f"plan-rejected:{arrangement.id}",
    )
    db.session.commit()
    return arrangement


@use_case
def counter_offer(
    *, arrangement_id: int, terms: Terms, reason: str, actor: Actor, today: date | None = None
) -> Arrangement:
    """An officer offers different terms for the same debts; the debtor accepts or
    declines them in the portal. The debtor's own terms are kept."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidRequest("Enter why you are offering different terms (the debtor sees it)")
    today = today or clock.today()
    staff = _common.staff(actor)
    arrangement = _common.arrangement(arrangement_id)
    if arrangement.status != ArrangementStatus.PROPOSED:
        raise _not_pending(arrangement)
    _check_decider(arrangement, staff)
    check_start(terms.start, today)
    schedule = schedule_for(arrangement.total_pence, terms)
    original = {
        "frequency": arrangement.frequency.value,
        "start": arrangement.start_date.isoformat(),
        "instalment_pence": arrangement.instalment_pence,
        "count": arrangement.instalment_count,
    }
    now = clock.utcnow()
    if not _common.move(
        arrangement.id,
        [ArrangementStatus.PROPOSED],
        status=ArrangementStatus.COUNTER_OFFERED,
        frequency=Frequency(terms.frequency),
        start_date=terms.start,
        instalment_pence=terms.instalment_pence,
        instalment_count=terms.count,
        original_terms=original,
        counter_offered_by_staff_id=staff.id,
        counter_offered_at=now,
        decision_reason=reason,
    ):
        db.session.rollback()
        raise _not_pending(_common.arrangement(arrangement_id))
    # The schedule is a plan's terms, not a financial record: the new terms replace it.
    db.session.execute(sa.delete(Instalment).where(Instalment.arrangement_id == arrangement.id))
    db.session.refresh(arrangement)
    _common.write_instalments(arrangement, schedule)
    words = wording.schedule_words(schedule, Frequency(terms.frequency).value)
    account = _common.account(arrangement.account_id)
    record_timeline(account.id, actor, wording.counter_offer_made(words), detail=reason)
    record_audit(
        actor,
        "plan.counter_offered",
        AUDIT_OBJECT,
        arrangement.id,
        account_id=account.id,
        before={"status": ArrangementStatus.PROPOSED.value, "terms": original},
        after={
            "status": ArrangementStatus.COUNTER_OFFERED.value,
            "terms": terms.as_dict(),
            "reason": reason,
        },
    )
    _common.notify(
        account,
        "plan_counter_offer",
        wording.counter_offer_notice(words, reason),
        f"plan-counter-offer:{arrangement.id}",
    )
    db.session.commit()
    return arrangement


@use_case
def review_broken(arrangement_id: int, note: str | None, actor: Actor) -> Arrangement:
    """An officer has looked at a broken plan: it leaves the broken-plans queue. Twice is once."""
    staff = _common.staff(actor)
    if not role_has(staff.role, Permission.DECIDE_PLANS):
        raise Forbidden("You cannot review broken payment plans")
    arrangement = _common.arrangement(arrangement_id)
    if arrangement.status != ArrangementStatus.BROKEN:
        raise InvalidRequest("That payment plan is not broken")
    if arrangement.broken_reviewed_at is not None:
        return arrangement
    note = (note or "").strip() or None
    now = clock.utcnow()
    # Conditional, so two officers clicking at once record one review.
    reviewed = db.session.execute(
        sa.update(Arrangement)
        .where(
            Arrangement.id == arrangement.id,
            Arrangement.status == ArrangementStatus.BROKEN,
            Arrangement.broken_reviewed_at.is_(None),
        )
        .values(broken_reviewed_at=now, broken_reviewed_by_staff_id=staff.id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if reviewed.rowcount != 1:
        db.session.rollback()
        return _common.arrangement(arrangement_id)
    db.session.refresh(arrangement)
    record_timeline(
        arrangement.account_id,
        actor,
        wording.broken_plan_reviewed(arrangement.total_pence),
        detail=note,
    )
    record_audit(
        actor,
        "plan.broken_reviewed",
        AUDIT_OBJECT,
        arrangement.id,
        account_id=arrangement.account_id,
        before={"broken_reviewed_at": None},
        after={"broken_reviewed_at": now.isoformat(), "note": note},
    )
    db.session.commit()
    return arrangement
