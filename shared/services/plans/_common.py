"""What the plans services share (not for callers): look-ups that refuse the same way,
and the steps more than one use case takes inside its own transaction (a conditional
status change, writing a schedule, making a plan active, telling the debtor)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from shared import clock
from shared.extensions import db
from shared.jobs.directdebit import sync_after_commit
from shared.models import (
    Arrangement,
    ArrangementStatus,
    DebtorAccount,
    Frequency,
    Instalment,
    PaymentRoute,
    StaffUser,
)
from shared.models.plans import LIVE_ARRANGEMENT_STATUSES
from shared.services.actors import Actor
from shared.services.errors import Forbidden, NotFound
from shared.services.history import record_audit
from shared.services.notifications import Message, notify_debtor
from shared.services.plans import wording

# Statuses in which a plan holds its debts (no second plan may cover them).
LIVE = LIVE_ARRANGEMENT_STATUSES
# The audit log's object type for a plan.
AUDIT_OBJECT = "arrangement"


def account(account_id: int) -> DebtorAccount:
    found = db.session.get(DebtorAccount, account_id)
    if found is None:
        raise NotFound(f"No account {account_id}")
    return found


def arrangement(arrangement_id: int) -> Arrangement:
    found = db.session.get(Arrangement, arrangement_id)
    if found is None:
        raise NotFound(f"No payment plan {arrangement_id}")
    return found


def staff(actor: Actor) -> StaffUser:
    """The staff member acting; anyone else may not decide plans or change policy."""
    found = db.session.get(StaffUser, actor.staff_id) if actor.staff_id else None
    if found is None:
        raise Forbidden("Only council staff can decide payment plans")
    return found


def move(arrangement_id: int, from_: Sequence[ArrangementStatus], **values) -> bool:
    """A conditional status change: False when someone else changed it first."""
    result = db.session.execute(
        sa.update(Arrangement)
        .where(Arrangement.id == arrangement_id, Arrangement.status.in_(from_))
        .values(updated_at=clock.utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def write_instalments(plan: Arrangement, schedule) -> None:
    db.session.add_all(
        Instalment(
            arrangement_id=plan.id,
            sequence=i.sequence,
            due_date=i.due_date,
            amount_pence=i.amount_pence,
        )
        for i in schedule
    )


def notify(debtor: DebtorAccount, template: str, notice: wording.Notice, dedupe_key: str):
    """The notice, by the debtor's preferred channel, in the caller's transaction."""
    notify_debtor(
        debtor,
        Message(template=template, subject=notice.subject, body=notice.body, sms=notice.sms),
        dedupe_key=dedupe_key,
    )


def activate(
    plan: Arrangement,
    debtor: DebtorAccount,
    actor: Actor,
    *,
    decided_by: int | None,
    reason: str,
) -> None:
    """Proposed or counter-offered -> active, in the caller's transaction."""
    now = clock.utcnow()
    plan.status = ArrangementStatus.ACTIVE
    plan.activated_at = now
    plan.decided_at = plan.decided_at or now
    plan.decided_by_staff_id = decided_by
    plan.decision_reason = plan.decision_reason or reason
    db.session.flush()
    schedule = db.session.scalars(
        sa.select(Instalment)
        .where(Instalment.arrangement_id == plan.id)
        .order_by(Instalment.sequence)
    ).all()
    record_audit(
        actor,
        "plan.activated",
        AUDIT_OBJECT,
        plan.id,
        account_id=debtor.id,
        after={"status": ArrangementStatus.ACTIVE.value, "reason": reason},
    )
    notice = wording.active_notice(
        plan.total_pence,
        schedule,
        Frequency(plan.frequency).value,
        by_direct_debit=plan.payment_route == PaymentRoute.DIRECT_DEBIT,
    )
    notify(debtor, "plan_active", notice, f"plan-active:{plan.id}")
    if plan.payment_route == PaymentRoute.DIRECT_DEBIT:
        # The mandate's collections and advance notice, once this activation commits.
        sync_after_commit([debtor.id])
