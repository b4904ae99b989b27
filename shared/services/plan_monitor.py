"""The daily plan monitor: reads what each active plan has been paid and acts on it.

For one day, for every active arrangement: money allocated to the plan's debts
since the plan began (net of reversals) fills its instalments earliest first
(shared/domain/plan_monitoring.assess); changed readings are written; a missed
instalment gets one reminder; a plan with too many misses is broken and its
debts go back on the recovery ladder at the stage they had; a plan paid in full
is completed. Each step tells the debtor through the outbox and lands on the
timeline (and, for status changes, in the audit log).

Safe to run twice for one day: status changes are conditional on the plan still
being active, notices carry dedupe keys, reminders are marked once, and only
readings that changed are written. Only active plans are read, so a payment
after a plan broke does not revive it.

Breathing Space (shared/domain/holds.may_ask_for_payment, or the account's own
Breathing Space dates): no missed-payment reminder and no breaking the plan,
because both ask for payment and breaking restarts recovery. The skip is
recorded on the timeline once; the plan is assessed again when the space ends.
The same for any other hold in force on the plan's debts or the whole account
(dispute, query, vulnerability review, promise to pay: shared/domain/holds.
plan_paused_by), as the hold page promises: no reminder, no breaking, one
timeline note per step skipped.

Scale: plans are read in keyset pages of BATCH_SIZE by id, with one query each for
the money paid (GROUP BY plan), the instalments and (for the plans that need
action) their debts, holds and accounts. Changed readings are one executemany;
plans ending are one conditional UPDATE ... RETURNING; notices go through
notifications.notify_debtors (two queries a page, not two a notice); timeline,
audit and outbox rows are flushed together at the page's commit. The session
is emptied after each page, so memory does not grow with the number of plans
(bench/bench_plans_monitor.py). It leaves the caller's session empty too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app

from shared import clock
from shared.domain import holds as hold_rules
from shared.domain.plan_monitoring import DUE, MISSED, PAID, PART_PAID, Assessment, assess
from shared.extensions import db
from shared.jobs.directdebit import sync_after_commit
from shared.models import (
    AccountHold,
    Allocation,
    Arrangement,
    ArrangementDebt,
    ArrangementStatus,
    Collection,
    CollectionStatus,
    ContactEvent,
    DebtorAccount,
    Instalment,
    Invoice,
    MessagePurpose,
    OutboxMessage,
    PaymentRoute,
)
from shared.models.base import utcnow
from shared.models.invoices import RecoveryStage
from shared.money import format_gbp
from shared.services.actors import SYSTEM
from shared.services.history import record_audit, record_timeline
from shared.services.notifications import Message, notify_debtors
from shared.services.plans import wording

BATCH_SIZE = 500
AUDIT_OBJECT = "arrangement"


@dataclass
class MonitorCounts:
    """What one run did (the CLI prints it; the RQ job returns it)."""

    checked: int = 0
    paid_updates: int = 0  # instalment readings written (paid, paid_on, missed_on)
    reminders: int = 0
    broken: int = 0
    completed: int = 0
    skipped_breathing_space: int = 0
    skipped_deceased: int = 0  # routed to an officer's diary instead
    skipped_on_hold: int = 0  # a dispute, query, vulnerability review or promise hold
    due_reminders: int = 0  # "payment due soon" with a pay link (card-paid plans)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class _Plan:
    id: int
    account_id: int
    total_pence: int
    payment_route: PaymentRoute


@dataclass(frozen=True)
class _Reading:
    """One instalment as stored, before this run."""

    id: int
    sequence: int
    due_date: date
    amount_pence: int
    paid_pence: int
    paid_on: date | None
    missed_on: date | None
    reminded_at: datetime | None


@dataclass
class _Actions:
    """What one page of plans needs beyond its readings."""

    reminders: list[tuple[_Plan, _Reading, int]]  # (plan, instalment, pence owed)
    broken: list[tuple[_Plan, Assessment]]
    completed: list[_Plan]
    due_soon: list[tuple[_Plan, _Reading, int]]  # card plans: instalments due shortly

    @property
    def plan_ids(self) -> set[int]:
        return (
            {p.id for p, _, _ in self.reminders}
            | {p.id for p, _, _ in self.due_soon}
            | {p.id for p, _ in self.broken}
            | {p.id for p in self.completed}
        )


def due_dedupe_key(instalment_id: int) -> str:
    return f"plan-due:{instalment_id}"


def missed_dedupe_key(instalment_id: int) -> str:
    return f"plan-missed:{instalment_id}"


def run(
    on: date | None = None,
    *,
    tolerance_days: int | None = None,
    misses_to_break: int | None = None,
    batch_size: int = BATCH_SIZE,
) -> MonitorCounts:
    """Monitor every active plan for the day `on` (default today); commits per page."""
    on = on or clock.today()
    config = current_app.config
    tolerance = (
        int(config.get("PLAN_MISSED_TOLERANCE_DAYS", 7))
        if tolerance_days is None
        else tolerance_days
    )
    to_break = (
        int(config.get("PLAN_MISSES_TO_BREAK", 2)) if misses_to_break is None else misses_to_break
    )
    remind_before = int(config.get("PLAN_DUE_REMINDER_DAYS", 3))
    counts = MonitorCounts()
    after_id = 0
    while True:
        plans = [
            _Plan(*row)
            for row in db.session.execute(
                sa.select(
                    Arrangement.id,
                    Arrangement.account_id,
                    Arrangement.total_pence,
                    Arrangement.payment_route,
                )
                .where(Arrangement.status == ArrangementStatus.ACTIVE, Arrangement.id > after_id)
                .order_by(Arrangement.id)
                .limit(batch_size)
            )
        ]
        if not plans:
            break
        after_id = plans[-1].id
        _monitor_page(plans, on, tolerance, to_break, remind_before, counts)
        db.session.commit()
        # Nothing from this page is needed again: keep memory flat across pages.
        db.session.expunge_all()
    return counts


def _paid(first_id: int, last_id: int) -> dict[int, int]:
    """Net money allocated to each active plan's debts (plans first_id..last_id) since
    it became active.

    The page is named by its id range rather than an IN list of 500 ids: the SQL text
    is then the same for every page, so the driver parses and prepares it once
    instead of splitting a new 500-placeholder statement each time."""
    rows = db.session.execute(
        sa.select(ArrangementDebt.arrangement_id, sa.func.sum(Allocation.amount_pence))
        .join(Allocation, Allocation.invoice_id == ArrangementDebt.invoice_id)
        .join(Arrangement, Arrangement.id == ArrangementDebt.arrangement_id)
        .where(
            ArrangementDebt.arrangement_id.between(first_id, last_id),
            Arrangement.status == ArrangementStatus.ACTIVE,
            sa.or_(
                Arrangement.activated_at.is_(None),
                Allocation.created_at >= Arrangement.activated_at,
            ),
        )
        .group_by(ArrangementDebt.arrangement_id)
    )
    return {plan_id: int(total or 0) for plan_id, total in rows}


def _readings(first_id: int, last_id: int) -> dict[int, list[_Reading]]:
    """The stored instalments of the active plans first_id..last_id (see _paid)."""
    by_plan: dict[int, list[_Reading]] = defaultdict(list)
    rows = db.session.execute(
        sa.select(
            Instalment.arrangement_id,
            Instalment.id,
            Instalment.sequence,
            Instalment.due_date,
            Instalment.amount_pence,
            Instalment.paid_pence,
            Instalment.paid_on,
            Instalment.missed_on,
            Instalment.reminded_at,
        )
        .join(Arrangement, Arrangement.id == Instalment.arrangement_id)
        .where(
            Instalment.arrangement_id.between(first_id, last_id),
            Arrangement.status == ArrangementStatus.ACTIVE,
        )
    )
    for plan_id, *fields in rows:
        by_plan[plan_id].append(_Reading(*fields))
    return by_plan


def _collecting(instalment_ids: list[int]) -> set[int]:
    """The instalments (of Direct Debit plans) with a collection scheduled or in a Bacs
    file: not missed while it is under way (shared/domain/plan_monitoring.assess)."""
    if not instalment_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(Collection.instalment_id).where(
                Collection.instalment_id.in_(instalment_ids),
                Collection.status.in_([CollectionStatus.SCHEDULED, CollectionStatus.SUBMITTED]),
            )
        )
    )


def _monitor_page(
    plans: list[_Plan],
    on: date,
    tolerance: int,
    to_break: int,
    remind_before: int,
    counts: MonitorCounts,
) -> None:
    ids = [p.id for p in plans]
    paid = _paid(ids[0], ids[-1])
    readings = _readings(ids[0], ids[-1])
    dd_plans = [p for p in plans if p.payment_route == PaymentRoute.DIRECT_DEBIT]
    collecting = _collecting([r.id for p in dd_plans for r in readings.get(p.id, ())])
    changes: list[dict] = []
    actions = _Actions([], [], [], [])
    for plan in plans:
        instalments = readings.get(plan.id)
        if not instalments:
            continue  # an active plan always has a schedule; nothing to read without one
        counts.checked += 1
        by_sequence = {r.sequence: r for r in instalments}
        assessment = assess(
            instalments,
            max(paid.get(plan.id, 0), 0),  # reversals of older money can take it below 0
            on,
            tolerance_days=tolerance,
            misses_to_break=to_break,
            reminded={r.sequence for r in instalments if r.reminded_at is not None},
            collecting={r.sequence for r in instalments if r.id in collecting},
        )
        for state in assessment.instalments:
            reading = by_sequence[state.sequence]
            change = _changed_reading(reading, state.paid_pence, state.state, on)
            if change is not None:
                changes.append(change)
        if assessment.completed:
            actions.completed.append(plan)
        elif assessment.broken:
            actions.broken.append((plan, assessment))
        else:
            for sequence in assessment.reminders_due:
                reading = by_sequence[sequence]
                state = next(s for s in assessment.instalments if s.sequence == sequence)
                actions.reminders.append((plan, reading, state.owed_pence))
            if plan.payment_route == PaymentRoute.CARD:
                # Card plans are paid by the debtor each time: a reminder with a pay
                # link shortly before each instalment (direct debits collect themselves).
                actions.due_soon.extend(
                    (plan, by_sequence[s.sequence], s.owed_pence)
                    for s in assessment.instalments
                    if s.state in (DUE, PART_PAID) and 0 <= (s.due_date - on).days <= remind_before
                )
    if changes:
        # One executemany by primary key, not an ORM object per instalment.
        db.session.execute(sa.update(Instalment), changes)
        counts.paid_updates += len(changes)
    if actions.plan_ids:
        # The notices, timeline and audit rows are flushed together at the page's commit,
        # in batches, not one by one before each query. Every dedupe key and timeline
        # summary is unique within a page, so no query here needs to see them first.
        with db.session.no_autoflush:
            _act(actions, on, to_break, counts)


def _changed_reading(reading: _Reading, paid_pence: int, state: str, on: date) -> dict | None:
    paid_on = (reading.paid_on or on) if state == PAID else None
    missed_on = (reading.missed_on or on) if state == MISSED else None
    if (reading.paid_pence, reading.paid_on, reading.missed_on) == (paid_pence, paid_on, missed_on):
        return None
    return {"id": reading.id, "paid_pence": paid_pence, "paid_on": paid_on, "missed_on": missed_on}


# --- acting on the few plans that need it -----------------------------------------------------


def _act(actions: _Actions, on: date, to_break: int, counts: MonitorCounts) -> None:
    plan_ids = sorted(actions.plan_ids)
    debts: dict[int, list[tuple[int, str | None]]] = defaultdict(list)
    for plan_id, invoice_id, stage in db.session.execute(
        sa.select(
            ArrangementDebt.arrangement_id,
            ArrangementDebt.invoice_id,
            ArrangementDebt.stage_at_start,
        ).where(ArrangementDebt.arrangement_id.in_(plan_ids))
    ):
        debts[plan_id].append((invoice_id, stage))
    account_ids = sorted(
        {p.account_id for p, _, _ in actions.reminders}
        | {p.account_id for p, _, _ in actions.due_soon}
        | {p.account_id for p, _ in actions.broken}
        | {p.account_id for p in actions.completed}
    )
    accounts = {
        a.id: a
        for a in db.session.scalars(
            sa.select(DebtorAccount).where(DebtorAccount.id.in_(account_ids))
        )
    }
    holds = _holds_in_force(account_ids, on)

    def held_back(plan: _Plan) -> str | None:
        """Why the debtor may not be asked for payment today, or None if they may."""
        account = accounts[plan.account_id]
        if account.deceased:
            return DECEASED
        if account.in_breathing_space(on):
            return BREATHING_SPACE
        kind = hold_rules.plan_paused_by(
            holds.get(plan.account_id, []), [invoice_id for invoice_id, _ in debts[plan.id]], on
        )
        if kind is None:
            return None
        return {"breathing_space": BREATHING_SPACE, "deceased": DECEASED}.get(kind, _ON_HOLD[kind])

    skips: list[_Skip] = []
    sent_keys = set(
        db.session.scalars(
            sa.select(OutboxMessage.dedupe_key).where(
                OutboxMessage.dedupe_key.in_(
                    [missed_dedupe_key(r.id) for _, r, _ in actions.reminders]
                )
            )
        )
    )
    reminded: list[int] = []
    to_remind: list[tuple[_Plan, _Reading, int]] = []
    for plan, reading, owed in actions.reminders:
        if (reason := held_back(plan)) is not None:
            skips.append(
                _Skip(
                    plan.account_id,
                    f"Missed-payment reminder not sent for payment plan {plan.id}, payment "
                    f"{reading.sequence} due {reading.due_date:%d/%m/%Y}: {reason}",
                    _held_back(reason),
                    reason,
                    on,
                )
            )
            continue
        reminded.append(reading.id)
        if missed_dedupe_key(reading.id) not in sent_keys:  # else an earlier run sent it
            to_remind.append((plan, reading, owed))
    written = notify_debtors(
        [
            (
                accounts[plan.account_id],
                _missed_message(reading, owed, to_break),
                missed_dedupe_key(reading.id),
            )
            for plan, reading, owed in to_remind
        ],
        purpose=MessagePurpose.COLLECTION,
    )
    for plan, reading, _ in to_remind:
        counts.reminders += 1
        record_timeline(
            plan.account_id,
            SYSTEM,
            wording.payment_missed(
                plan.id, reading.sequence, reading.amount_pence, reading.due_date
            ),
            detail=wording.reminder_detail(
                written.get(missed_dedupe_key(reading.id)), wording.MISSED_REMINDER_SENT
            ),
        )
    if reminded:
        db.session.execute(
            sa.update(Instalment)
            .where(Instalment.id.in_(reminded), Instalment.reminded_at.is_(None))
            .values(reminded_at=utcnow())
            .execution_options(synchronize_session=False)
        )

    counts.due_reminders += _remind_due(actions.due_soon, accounts, held_back)

    breakable = []
    for plan, assessment in actions.broken:
        if (reason := held_back(plan)) is None:
            breakable.append((plan, assessment))
            continue
        skips.append(
            _Skip(
                plan.account_id,
                f"Payment plan {plan.id} not ended for missed payments on {on:%d/%m/%Y}: {reason}",
                f"{assessment.missed} payments missed. {_held_back(reason)}",
                reason,
                on,
            )
        )
    notices: list[tuple[DebtorAccount, Message, str]] = []
    counts.broken += _break(breakable, debts, accounts, notices)
    counts.completed += _complete(actions.completed, accounts, notices)
    notify_debtors(notices)
    _record_skips_once(skips)
    counts.skipped_breathing_space += sum(s.reason == BREATHING_SPACE for s in skips)
    counts.skipped_deceased += sum(s.reason == DECEASED for s in skips)
    counts.skipped_on_hold += sum(s.reason in _ON_HOLD.values() for s in skips)


def _holds_in_force(account_ids: list[int], on: date) -> dict[int, list[hold_rules.HoldInForce]]:
    found: dict[int, list[hold_rules.HoldInForce]] = defaultdict(list)
    rows = db.session.execute(
        sa.select(
            AccountHold.account_id,
            AccountHold.kind,
            AccountHold.invoice_id,
            AccountHold.starts_on,
            AccountHold.expires_on,
            AccountHold.lifted_at,
        ).where(
            AccountHold.account_id.in_(account_ids),
            AccountHold.lifted_at.is_(None),
        )
    )
    for account_id, kind, invoice_id, starts_on, expires_on, lifted_at in rows:
        hold = hold_rules.HoldInForce(
            kind=kind.value,
            invoice_id=invoice_id,
            starts_on=starts_on,
            expires_on=expires_on,
            lifted=lifted_at is not None,
        )
        if hold_rules.in_force(hold, on):
            found[account_id].append(hold)
    return found


BREATHING_SPACE = "Breathing Space"
DECEASED = "the debtor has died"
_HELD_BACK = {
    BREATHING_SPACE: "No contact asking for payment while the debtor is in Breathing Space. "
    "The plan is checked again when it ends.",
    # The domain's rule: a deceased debtor's debts go to an officer, not to the ladder.
    DECEASED: "No payment requests are sent to a deceased debtor's account: an officer "
    "deals with the estate. This is in the officers' diary.",
}
_ON_HOLD = {
    kind: f"a {words.lower()} hold is in force"
    for kind, words in {
        "dispute": "Dispute",
        "query": "Query",
        "vulnerability_review": "Vulnerability review",
        "promise_to_pay": "Promise to pay",
    }.items()
}


def _held_back(reason: str) -> str:
    return _HELD_BACK.get(
        reason,
        "No reminders go out and the plan is not ended while a hold is in force on its "
        "debts. The plan is checked again when the hold ends.",
    )


@dataclass(frozen=True)
class _Skip:
    account_id: int
    summary: str
    detail: str
    reason: str
    on: date


def _record_skips_once(skips: list[_Skip]) -> None:
    """Timeline entries for skipped steps, each written once however often the job runs.
    A deceased debtor's is also a follow-up for today, so it lands in the officers' diary."""
    if not skips:
        return
    already = set(
        db.session.execute(
            sa.select(ContactEvent.account_id, ContactEvent.summary).where(
                ContactEvent.account_id.in_({s.account_id for s in skips}),
                ContactEvent.summary.in_({s.summary for s in skips}),
            )
        ).all()
    )
    for skip in skips:
        if (skip.account_id, skip.summary) not in already:
            record_timeline(
                skip.account_id,
                SYSTEM,
                skip.summary,
                detail=skip.detail,
                follow_up_date=skip.on if skip.reason == DECEASED else None,
            )
            already.add((skip.account_id, skip.summary))


def _sync_direct_debits(ended: list[_Plan]) -> None:
    """A Direct Debit plan that ended: its scheduled collections are cancelled by the
    account's sync, queued once the page commits."""
    accounts = {p.account_id for p in ended if p.payment_route == PaymentRoute.DIRECT_DEBIT}
    if accounts:
        sync_after_commit(accounts)


def _end(plan_ids: list[int], status: ArrangementStatus, reason: str) -> set[int]:
    """Active -> status, conditionally: the ids of the plans that were still active."""
    if not plan_ids:
        return set()
    now = utcnow()
    return set(
        db.session.scalars(
            sa.update(Arrangement)
            .where(Arrangement.id.in_(plan_ids), Arrangement.status == ArrangementStatus.ACTIVE)
            .values(status=status, ended_at=now, end_reason=reason, updated_at=now)
            .returning(Arrangement.id)
            .execution_options(synchronize_session=False)
        )
    )


def _break(
    broken: list[tuple[_Plan, Assessment]],
    debts: dict[int, list[tuple[int, str | None]]],
    accounts: dict[int, DebtorAccount],
    notices: list[tuple[DebtorAccount, Message, str]],
) -> int:
    """Active -> broken; adds the notices to `notices` for the caller to send."""
    by_reason: dict[str, list[int]] = defaultdict(list)
    for plan, assessment in broken:
        by_reason[wording.broken_reason(assessment.missed)].append(plan.id)
    ended: set[int] = set()
    for reason, plan_ids in by_reason.items():
        ended |= _end(plan_ids, ArrangementStatus.BROKEN, reason)
    broken = [(plan, assessment) for plan, assessment in broken if plan.id in ended]
    if not broken:
        return 0
    _sync_direct_debits([plan for plan, _ in broken])
    # The debts re-enter the recovery ladder at the stage they had when the plan began.
    wanted = {
        invoice_id: RecoveryStage(stage)
        for plan, _ in broken
        for invoice_id, stage in debts[plan.id]
        if stage is not None
    }
    current = dict(
        db.session.execute(
            sa.select(Invoice.id, Invoice.recovery_stage).where(Invoice.id.in_(list(wanted)))
        ).all()
    )
    now = utcnow()
    restored = {
        invoice_id: stage
        for invoice_id, stage in wanted.items()
        if invoice_id in current and current[invoice_id] != stage
    }
    if restored:
        db.session.execute(
            sa.update(Invoice),
            [
                {"id": invoice_id, "recovery_stage": stage, "recovery_stage_at": now}
                for invoice_id, stage in restored.items()
            ],
        )
    for plan, assessment in broken:
        reason = wording.broken_reason(assessment.missed)
        owed = sum(s.owed_pence for s in assessment.instalments)
        record_timeline(
            plan.account_id,
            SYSTEM,
            wording.plan_broken(plan.id, plan.total_pence, reason),
            detail=wording.broken_detail(owed),
        )
        record_audit(
            SYSTEM,
            "plan.broken",
            AUDIT_OBJECT,
            plan.id,
            account_id=plan.account_id,
            before={"status": ArrangementStatus.ACTIVE.value},
            after={
                "status": ArrangementStatus.BROKEN.value,
                "reason": reason,
                "unpaid_pence": owed,
                "stages_restored": {
                    str(invoice_id): restored[invoice_id].value
                    for invoice_id, _ in debts[plan.id]
                    if invoice_id in restored
                },
            },
        )
        notices.append(
            (
                accounts[plan.account_id],
                Message(
                    template="plan_broken",
                    subject="Your payment plan has ended",
                    body=(
                        f"Your payment plan has ended because {reason}.\n\n"
                        f"{format_gbp(owed)} of the plan is still unpaid and we will now restart "
                        "recovery of the bills it covered.\n\n"
                        "If you can pay, or want to talk about what you can afford, contact us "
                        "straight away."
                    ),
                    sms=(
                        f"Your payment plan has ended: {reason}. {format_gbp(owed)} is unpaid. "
                        "Contact us straight away to avoid further action."
                    ),
                ),
                f"plan-broken:{plan.id}",
            )
        )
    return len(broken)


def _complete(
    completed: list[_Plan],
    accounts: dict[int, DebtorAccount],
    notices: list[tuple[DebtorAccount, Message, str]],
) -> int:
    """Active -> completed; adds the notices to `notices` for the caller to send."""
    ended = _end([p.id for p in completed], ArrangementStatus.COMPLETED, wording.PAID_IN_FULL)
    _sync_direct_debits([p for p in completed if p.id in ended])
    for plan in completed:
        if plan.id not in ended:
            continue
        record_timeline(
            plan.account_id,
            SYSTEM,
            wording.plan_completed(plan.id, plan.total_pence),
        )
        record_audit(
            SYSTEM,
            "plan.completed",
            AUDIT_OBJECT,
            plan.id,
            account_id=plan.account_id,
            before={"status": ArrangementStatus.ACTIVE.value},
            after={"status": ArrangementStatus.COMPLETED.value},
        )
        notices.append(
            (
                accounts[plan.account_id],
                Message(
                    template="plan_completed",
                    subject="Your payment plan is paid in full",
                    body=(
                        f"Thank you. You have paid the {format_gbp(plan.total_pence)} your payment "
                        "plan covered, so the plan is complete."
                    ),
                    sms=(
                        f"Thank you: your payment plan of {format_gbp(plan.total_pence)} is paid "
                        "in full and complete."
                    ),
                ),
                f"plan-completed:{plan.id}",
            )
        )
    return len(ended)


def _remind_due(due_soon, accounts, held_back) -> int:
    """ "Payment due soon" notices with a pay link, once per instalment (dedupe key),
    never in Breathing Space or to a deceased debtor's account."""
    wanted = [(plan, reading, owed) for plan, reading, owed in due_soon if not held_back(plan)]
    if not wanted:
        return 0
    sent = set(
        db.session.scalars(
            sa.select(OutboxMessage.dedupe_key).where(
                OutboxMessage.dedupe_key.in_([due_dedupe_key(r.id) for _, r, _ in wanted])
            )
        )
    )
    fresh = [(p, r, o) for p, r, o in wanted if due_dedupe_key(r.id) not in sent]
    written = notify_debtors(
        [
            (
                accounts[plan.account_id],
                _due_message(accounts[plan.account_id], reading, owed),
                due_dedupe_key(reading.id),
            )
            for plan, reading, owed in fresh
        ],
        purpose=MessagePurpose.COLLECTION,
    )
    for plan, reading, owed in fresh:
        record_timeline(
            plan.account_id,
            SYSTEM,
            wording.payment_due_reminder(plan.id, reading.sequence, owed, reading.due_date),
            detail=wording.reminder_detail(
                written.get(due_dedupe_key(reading.id)), wording.DUE_REMINDER_SENT
            ),
        )
    return len(fresh)


def _due_message(account: DebtorAccount, reading: _Reading, owed_pence: int) -> Message:
    due = f"{reading.due_date:%-d %B %Y}"
    link = f"{current_app.config['PUBLIC_BASE_URL']}/pay"
    return Message(
        template="plan_payment_due",
        subject="Your payment plan payment is due soon",
        body=(
            f"Your payment plan payment of {format_gbp(owed_pence)} is due on {due}.\n\n"
            f"Pay online at {link} with your account reference {account.reference}.\n\n"
            "If you cannot pay, contact us before the due date."
        ),
        sms=(
            f"Your payment plan payment of {format_gbp(owed_pence)} is due {due}. "
            f"Pay at {link} (ref {account.reference})."
        ),
    )


def _missed_message(reading: _Reading, owed_pence: int, to_break: int) -> Message:
    due = f"{reading.due_date:%-d %B %Y}"
    return Message(
        template="plan_missed_payment",
        subject="You have missed a payment plan payment",
        body=(
            f"We have not received your payment plan payment of {format_gbp(owed_pence)} "
            f"due on {due}.\n\nPlease pay it as soon as you can. If {to_break} payments are "
            "missed, the plan ends and we restart recovery of the full amount.\n\n"
            "If you cannot pay, contact us straight away."
        ),
        sms=(
            f"We have not received your payment plan payment of {format_gbp(owed_pence)} "
            f"due {due}. Please pay now or contact us to keep your plan."
        ),
    )
