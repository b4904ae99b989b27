"""Bringing one account's Direct Debit collections into line with what it owes.

`sync_account` reads the account's mandates, the Direct Debit plans and invoices its
live mandate collects, the collections already there and the last advance notice,
asks the pure rules (shared/domain/bacs/schedule.py) what to change, and writes it in
one transaction under the account lock: collections created (linked to the advance
notice that allows them), scheduled ones cancelled or re-coded, a new advance notice
with its outbox message when the payer must be told, one timeline line and one audit
row per mandate that changed. Running it again changes nothing.

What a live mandate (pending submission, submitted or active; none while its
collections are stopped) collects: the instalments of the account's active Direct
Debit plans, and, if it collects invoices, the open invoices due on or after the day
it was made that are in no live plan and not disputed or queried. A cancelled or
failed mandate collects nothing: its scheduled collections are cancelled.

`sync_accounts_with_live_mandates` is the daily sweep (shared/jobs/directdebit.py):
every account with a live mandate or a scheduled collection, one transaction each,
so one account's failure is logged and counted and the others go on.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from shared import clock
from shared.domain import holds as hold_rules
from shared.domain.bacs import schedule as rules
from shared.domain.plan_monitoring import assess
from shared.extensions import db
from shared.models import (
    LIVE_MANDATE_STATUSES,
    AccountHold,
    AdvanceNotice,
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
    Mandate,
    MandateStatus,
    OutboxChannel,
    PaymentRoute,
)
from shared.models.plans import LIVE_ARRANGEMENT_STATUSES
from shared.money import format_gbp
from shared.services import ledger
from shared.services.actors import SYSTEM
from shared.services.directdebit import notices
from shared.services.history import record_audit, record_timeline
from shared.services.unit_of_work import use_case

logger = logging.getLogger(__name__)

AUDIT_OBJECT = "mandate"


@dataclass(frozen=True)
class SyncResult:
    created: int = 0
    cancelled: int = 0
    notices: int = 0

    def __add__(self, other: SyncResult) -> SyncResult:
        return SyncResult(
            self.created + other.created,
            self.cancelled + other.cancelled,
            self.notices + other.notices,
        )


@use_case
def sync_account(account_id: int, *, today: date | None = None) -> SyncResult:
    """Create, cancel and notify so the account's collections match what it owes; one commit."""
    today = today or clock.today()
    account = ledger.lock_account(account_id)
    holds = _holds_in_force(account.id, today)
    deceased = account.deceased or any(h.kind == "deceased" for h in holds)
    breathing_space = account.in_breathing_space(today) or any(
        h.kind == "breathing_space" and h.invoice_id is None for h in holds
    )
    collections = db.session.scalars(
        sa.select(Collection)
        .join(Mandate, Mandate.id == Collection.mandate_id)
        .where(Mandate.account_id == account.id)
        .order_by(Collection.id)
    ).all()
    returned = {_target_key(c) for c in collections if c.status == CollectionStatus.RETURNED}
    with_scheduled = {c.mandate_id for c in collections if c.status == CollectionStatus.SCHEDULED}
    mandates = db.session.scalars(
        sa.select(Mandate)
        .where(
            Mandate.account_id == account.id,
            sa.or_(
                Mandate.status.in_(LIVE_MANDATE_STATUSES),
                Mandate.id.in_(sorted(with_scheduled)),
            ),
        )
        .order_by(Mandate.id)
    ).all()
    result = SyncResult()
    for mandate in mandates:
        own = [c for c in collections if c.mandate_id == mandate.id]
        stop = _mandate_stop(mandate)
        targets = (
            [] if stop is not None else _targets(account, mandate, own, holds, returned, today)
        )
        facts = rules.MandateFacts(
            stop_reason=stop, deceased=deceased, breathing_space=breathing_space
        )
        result += _apply(account, mandate, facts, targets, own, today)
    db.session.commit()
    return result


def _target_key(c: Collection) -> tuple[str, int]:
    if c.instalment_id is not None:
        return rules.INSTALMENT, c.instalment_id
    return rules.INVOICE, c.invoice_id


def _mandate_stop(mandate: Mandate) -> str | None:
    if mandate.status == MandateStatus.CANCELLED:
        return "the Direct Debit instruction was cancelled"
    if mandate.status == MandateStatus.FAILED:
        return "the payer's bank rejected the Direct Debit instruction"
    if mandate.collections_stopped_reason:
        return f"collections stopped: {mandate.collections_stopped_reason}"
    return None


def _holds_in_force(account_id: int, on: date) -> list[hold_rules.HoldInForce]:
    rows = db.session.execute(
        sa.select(
            AccountHold.kind, AccountHold.invoice_id, AccountHold.starts_on, AccountHold.expires_on
        ).where(AccountHold.account_id == account_id, AccountHold.lifted_at.is_(None))
    )
    found = [hold_rules.HoldInForce(k.value, i, s, e) for k, i, s, e in rows]
    return [h for h in found if hold_rules.in_force(h, on)]


# --- what the mandate may collect ---------------------------------------------------------------


def _targets(
    account: DebtorAccount,
    mandate: Mandate,
    own: list[Collection],
    holds: list[hold_rules.HoldInForce],
    returned: set[tuple[str, int]],
    today: date,
) -> list[rules.Target]:
    targets = _instalment_targets(account.id, own, today)
    targets += _invoice_targets(account.id, mandate, own, holds, today)
    return [
        rules.Target(
            t.kind, t.id, t.due_date, t.owed_pence, t.stop_reason, (t.kind, t.id) in returned
        )
        for t in targets
    ]


def _instalment_targets(account_id: int, own: list[Collection], today: date) -> list[rules.Target]:
    """Every instalment of the account's active Direct Debit plans with what it owes,
    and the instalments of other plans this mandate has collections for (to cancel)."""
    referenced = {c.instalment_id for c in own if c.instalment_id is not None}
    plans = db.session.scalars(
        sa.select(Arrangement)
        .where(
            Arrangement.account_id == account_id,
            sa.or_(
                sa.and_(
                    Arrangement.status == ArrangementStatus.ACTIVE,
                    Arrangement.payment_route == PaymentRoute.DIRECT_DEBIT,
                ),
                Arrangement.id.in_(
                    sa.select(Instalment.arrangement_id).where(
                        Instalment.id.in_(sorted(referenced))
                    )
                ),
            ),
        )
        .order_by(Arrangement.id)
    ).all()
    targets: list[rules.Target] = []
    for plan in plans:
        instalments = db.session.scalars(
            sa.select(Instalment)
            .where(Instalment.arrangement_id == plan.id)
            .order_by(Instalment.sequence)
        ).all()
        if not instalments:
            continue
        stop = None
        if plan.status != ArrangementStatus.ACTIVE:
            stop = f"payment plan {plan.id} is {plan.status.value}"
        elif plan.payment_route != PaymentRoute.DIRECT_DEBIT:
            stop = f"payment plan {plan.id} is no longer paid by Direct Debit"
        if stop is not None:
            targets += [
                rules.Target(rules.INSTALMENT, i.id, i.due_date, i.amount_pence, stop)
                for i in instalments
                if i.id in referenced
            ]
            continue
        # What the plan has been paid, filled earliest first, as the plan monitor reads it
        # (read now, not the monitor's last reading, so a card payment today counts).
        state = assess(instalments, max(_paid(plan), 0), today)
        owed = {s.sequence: s.owed_pence for s in state.instalments}
        targets += [
            rules.Target(rules.INSTALMENT, i.id, i.due_date, owed[i.sequence]) for i in instalments
        ]
    return targets


def _paid(plan: Arrangement) -> int:
    """Net money allocated to the plan's debts since it became active (plan_monitor._paid)."""
    query = (
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
        .join(ArrangementDebt, ArrangementDebt.invoice_id == Allocation.invoice_id)
        .where(ArrangementDebt.arrangement_id == plan.id)
    )
    if plan.activated_at is not None:
        query = query.where(Allocation.created_at >= plan.activated_at)
    return int(db.session.scalar(query) or 0)


def _invoice_targets(
    account_id: int,
    mandate: Mandate,
    own: list[Collection],
    holds: list[hold_rules.HoldInForce],
    today: date,
) -> list[rules.Target]:
    referenced = {c.invoice_id for c in own if c.invoice_id is not None}
    if not mandate.collects_invoices and not referenced:
        return []
    allocated = (
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
        .where(Allocation.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    )
    in_live_plan = (
        sa.select(ArrangementDebt.invoice_id)
        .join(Arrangement, Arrangement.id == ArrangementDebt.arrangement_id)
        .where(
            ArrangementDebt.invoice_id == Invoice.id,
            Arrangement.status.in_(LIVE_ARRANGEMENT_STATUSES),
        )
        .exists()
    )
    conditions = [Invoice.id.in_(sorted(referenced))]
    if mandate.collects_invoices:
        conditions.append(
            sa.and_(
                Invoice.due_date >= mandate.created_at.date(),
                Invoice.total_pence > allocated,
            )
        )
    rows = db.session.execute(
        sa.select(Invoice.id, Invoice.due_date, Invoice.total_pence - allocated, in_live_plan)
        .where(Invoice.account_id == account_id, sa.or_(*conditions))
        .order_by(Invoice.due_date, Invoice.id)
    ).all()
    held = hold_rules.held_from_allocation(holds, [r[0] for r in rows], today)
    targets = []
    for invoice_id, due, owed, planned in rows:
        stop = None
        if not mandate.collects_invoices:
            stop = "the instruction no longer collects invoices"
        elif due < mandate.created_at.date():
            stop = "the invoice was due before the instruction was given"
        elif planned:
            stop = "the invoice is in a payment plan"
        elif invoice_id in held:
            stop = "the invoice is disputed or queried"
        targets.append(rules.Target(rules.INVOICE, invoice_id, due, max(int(owed), 0), stop))
    return targets


# --- writing the decision ------------------------------------------------------------------------


def _apply(
    account: DebtorAccount,
    mandate: Mandate,
    facts: rules.MandateFacts,
    targets: list[rules.Target],
    own: list[Collection],
    today: date,
) -> SyncResult:
    last = db.session.scalars(
        sa.select(AdvanceNotice)
        .where(AdvanceNotice.mandate_id == mandate.id)
        .order_by(AdvanceNotice.id.desc())
        .limit(1)
    ).first()
    told = (
        rules.Told(notices.told_schedule(last), last.earliest_entry_day)
        if last is not None
        else None
    )
    timing = notices.timing(account, today)
    decision = rules.decide(
        today=today,
        mandate=facts,
        targets=targets,
        collections=[
            rules.Existing(
                c.id,
                *_target_key(c),
                c.amount_pence,
                c.collection_date,
                c.status.value,
                c.transaction_code,
            )
            for c in own
        ],
        told=told,
        timing=timing,
    )
    if decision.changes_nothing:
        return SyncResult()
    by_id = {c.id: c for c in own}
    for collection_id, reason in decision.cancel:
        row = by_id[collection_id]
        row.status = CollectionStatus.CANCELLED
        row.cancelled_reason = reason[:200]
    for collection_id, code in decision.recode:
        by_id[collection_id].transaction_code = code
    db.session.flush()  # cancelled before new ones: one live collection per instalment

    notice = None
    create = decision.create
    if decision.notice is not None:
        notice = notices.write_notice(
            account,
            mandate,
            kind=decision.notice.kind,
            description=decision.notice.description,
            schedule=decision.notice.schedule,
            timing_=timing,
        )
        if notice is None:
            create = ()  # the payer cannot be told, so nothing may be collected
            _record_once(
                account.id,
                "Direct Debit collections not scheduled: no email address or postal "
                "address to send the advance notice to",
            )
    linked = notice.id if notice is not None else (last.id if last is not None else None)
    made = [
        Collection(
            mandate_id=mandate.id,
            instalment_id=n.target_id if n.kind == rules.INSTALMENT else None,
            invoice_id=n.target_id if n.kind == rules.INVOICE else None,
            amount_pence=n.amount_pence,
            transaction_code=n.transaction_code,
            collection_date=n.collection_date,
            status=CollectionStatus.SCHEDULED,
            advance_notice_id=linked,
        )
        for n in create
    ]
    db.session.add_all(made)
    db.session.flush()
    if not (made or decision.cancel or decision.recode or notice):
        return SyncResult()
    _history(account, mandate, made, decision, notice)
    return SyncResult(len(made), len(decision.cancel), 1 if notice is not None else 0)


def _history(account, mandate, made, decision, notice) -> None:
    """One timeline line and one audit row for what this sync did under the mandate."""
    parts = []
    if made:
        first = min(c.collection_date for c in made)
        total = sum(c.amount_pence for c in made)
        noun = "collection" if len(made) == 1 else "collections"
        parts.append(f"{len(made)} {noun} of {format_gbp(total)} scheduled from {first:%-d %B %Y}")
    if decision.cancel:
        reasons = sorted({reason for _, reason in decision.cancel})
        noun = "collection" if len(decision.cancel) == 1 else "collections"
        parts.append(f"{len(decision.cancel)} {noun} cancelled ({'; '.join(reasons)})")
    if notice is not None:
        how = notices.channel(account)
        parts.append(
            "advance notice queued for the print batch"
            if how == OutboxChannel.LETTER
            else f"advance notice sent by {how.value}"
        )
    summary = "Direct Debit: " + ", ".join(parts) if parts else "Direct Debit codes corrected"
    detail = (
        "\n".join(f"{c.collection_date:%d/%m/%Y}: {format_gbp(c.amount_pence)}" for c in made)
        or None
    )
    record_timeline(account.id, SYSTEM, summary[:300], detail=detail)
    record_audit(
        SYSTEM,
        "dd.collections.synced",
        AUDIT_OBJECT,
        mandate.id,
        account_id=account.id,
        after={
            "created": [
                {
                    "id": c.id,
                    "date": c.collection_date.isoformat(),
                    "amount_pence": c.amount_pence,
                    "transaction_code": c.transaction_code,
                }
                for c in made
            ],
            "cancelled": [[i, reason] for i, reason in decision.cancel],
            "recoded": [[i, code] for i, code in decision.recode],
            "advance_notice_id": notice.id if notice is not None else None,
        },
    )


def _record_once(account_id: int, summary: str) -> None:
    exists = db.session.scalar(
        sa.select(ContactEvent.id).where(
            ContactEvent.account_id == account_id, ContactEvent.summary == summary
        )
    )
    if exists is None:
        record_timeline(account_id, SYSTEM, summary, follow_up_date=clock.today())


# --- the daily sweep -----------------------------------------------------------------------------


@dataclass
class SweepCounts:
    accounts: int = 0
    created: int = 0
    cancelled: int = 0
    notices: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def accounts_to_sync() -> list[int]:
    """Accounts with a live mandate, or with a scheduled collection left to settle."""
    live = sa.select(Mandate.account_id).where(Mandate.status.in_(LIVE_MANDATE_STATUSES))
    scheduled = (
        sa.select(Mandate.account_id)
        .join(Collection, Collection.mandate_id == Mandate.id)
        .where(Collection.status == CollectionStatus.SCHEDULED)
    )
    return sorted(set(db.session.scalars(sa.union(live, scheduled))))


def sync_accounts_with_live_mandates(today: date | None = None) -> SweepCounts:
    """sync_account for every account that may have collections, each committed on its own;
    a failure is logged and counted and the sweep goes on."""
    today = today or clock.today()
    counts = SweepCounts()
    for n, account_id in enumerate(accounts_to_sync(), start=1):
        counts.accounts += 1
        try:
            result = sync_account(account_id, today=today)
        except Exception:
            db.session.rollback()
            counts.failed += 1
            logger.exception("Direct Debit sync failed for account %s", account_id)
            continue
        counts.created += result.created
        counts.cancelled += result.cancelled
        counts.notices += result.notices
        if n % 200 == 0:
            db.session.expunge_all()  # memory flat however many accounts
    return counts


def scheduled_by_target(account_id: int) -> dict[tuple[str, int], list[Collection]]:
    """The account's collections by what they collect (for pages and tests)."""
    found: dict[tuple[str, int], list[Collection]] = defaultdict(list)
    for c in db.session.scalars(
        sa.select(Collection)
        .join(Mandate, Mandate.id == Collection.mandate_id)
        .where(Mandate.account_id == account_id)
        .order_by(Collection.id)
    ):
        found[_target_key(c)].append(c)
    return found
