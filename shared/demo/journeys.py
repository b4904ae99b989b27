"""Demo accounts that make the remaining journeys reachable, made by the real services and
named by `flask demo logins` (so `make run` prints them):

- a debtor whose plan proposal needs an income and expenditure statement: what they owe
  outside any plan is over the policy's threshold, and they have a portal login (the demo
  password) to propose one with;
- a write-off above the officer's delegated limit, asked for yesterday by the officer
  (approvals.request_write_off), waiting for a team leader's approval.

`seed_demo` runs this last, over the batch it added, away from the accounts the other
parts name (the bills to pay, the Direct Debit journeys).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, time, timedelta

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from shared import clock
from shared.demo import catalogue
from shared.demo.moved_clock import clock_at
from shared.extensions import db
from shared.models import (
    Allocation,
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    Arrangement,
    ArrangementDebt,
    AuditLog,
    Channel,
    ContactEvent,
    DebtorAccount,
    DebtorKind,
    Invoice,
    PortalUser,
    PortalUserAccount,
    StaffUser,
)
from shared.models.plans import LIVE_ARRANGEMENT_STATUSES
from shared.services import approvals
from shared.services.actors import staff
from shared.services.plans import reads as plan_reads

WRITE_OFF_REASON = "The estate's administrator has confirmed there are no assets to pay this from"
WRITE_OFF_AT = time(14, 30)  # yesterday afternoon, in England
CANDIDATES = 200  # accounts looked at, largest debt first, for each journey


@dataclass(frozen=True)
class DemoJourneys:
    """What `flask demo logins` names (None where the demo has none)."""

    income_expenditure_reference: str | None
    income_expenditure_email: str | None
    write_off_reference: str | None
    write_off_invoice: str | None
    write_off_pence: int | None
    write_off_approver: str | None


def _outstanding():
    return (
        Invoice.total_pence
        - sa.func.coalesce(
            sa.select(sa.func.sum(Allocation.amount_pence))
            .where(Allocation.invoice_id == Invoice.id)
            .correlate(Invoice)
            .scalar_subquery(),
            0,
        )
    ).label("outstanding")


def _in_live_plan():
    return (
        sa.select(ArrangementDebt.invoice_id)
        .join(Arrangement, Arrangement.id == ArrangementDebt.arrangement_id)
        .where(
            ArrangementDebt.invoice_id == Invoice.id,
            Arrangement.status.in_(LIVE_ARRANGEMENT_STATUSES),
        )
        .correlate(Invoice)
        .exists()
    )


def _linked_accounts():
    return sa.select(PortalUserAccount.account_id)


def seed_journeys(
    *, first_account_id: int, last_account_id: int, today: date, avoid: Collection[int]
) -> dict[str, int]:
    """Make the batch's journey accounts; rows added per table."""
    before = _counts()
    _income_expenditure_login(first_account_id, last_account_id, avoid)
    _write_off_waiting(first_account_id, last_account_id, today, avoid)
    return {table: n - before[table] for table, n in _counts().items()}


# The tables the journeys add rows to, counted before and after.
_WRITES = (PortalUser, PortalUserAccount, ApprovalRequest, ContactEvent, AuditLog)


def _counts() -> dict[str, int]:
    counts = {
        model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in _WRITES
    }
    db.session.commit()
    return counts


def _income_expenditure_login(first_id: int, last_id: int, avoid: Collection[int]) -> int:
    """A portal login for a person owing over the I&E threshold outside any plan."""
    owed = (
        sa.select(Invoice.account_id, sa.func.sum(_outstanding()).label("owed"))
        .where(Invoice.account_id.between(first_id, last_id), ~_in_live_plan())
        .group_by(Invoice.account_id)
        .subquery()
    )
    accounts = db.session.scalars(
        sa.select(DebtorAccount)
        .join(owed, owed.c.account_id == DebtorAccount.id)
        .where(
            DebtorAccount.kind == DebtorKind.PERSON,
            DebtorAccount.email.is_not(None),
            ~DebtorAccount.vulnerable,
            ~DebtorAccount.deceased,
            DebtorAccount.breathing_space_type.is_(None),
            DebtorAccount.id.not_in(list(avoid) or [0]),
            DebtorAccount.id.not_in(_linked_accounts()),
            owed.c.owed > 0,
        )
        .order_by(owed.c.owed.desc(), DebtorAccount.id)
        .limit(CANDIDATES)
    ).all()
    for account in accounts:
        email = account.email.strip().lower()
        if db.session.scalar(sa.select(PortalUser.id).where(PortalUser.email == email)):
            continue
        debts = plan_reads.plannable_debts(account.id)
        # What the plan journey offers first: every bill the account owes and no plan covers.
        if not debts or not plan_reads.income_expenditure_needed(
            account.id, [d.invoice_id for d in debts]
        ):
            continue
        user = PortalUser(
            email=email,
            password_hash=generate_password_hash(catalogue.DEMO_PASSWORD),
            email_verified_at=clock.utcnow(),
        )
        db.session.add(user)
        db.session.flush()
        db.session.add(
            PortalUserAccount(
                portal_user_id=user.id, account_id=account.id, verified_via=Channel.EMAIL
            )
        )
        db.session.commit()
        return 1
    db.session.rollback()
    return 0


def _write_off_waiting(first_id: int, last_id: int, today: date, avoid: Collection[int]) -> int:
    """The officer asked yesterday to write off a deceased debtor's bill over their limit."""
    officer = db.session.scalars(
        sa.select(StaffUser).where(
            StaffUser.email == next(s.email for s in catalogue.STAFF if s.key == "officer")
        )
    ).one()
    outstanding = _outstanding()
    chosen = db.session.execute(
        sa.select(Invoice.id, outstanding)
        .join(DebtorAccount, DebtorAccount.id == Invoice.account_id)
        .where(
            Invoice.account_id.between(first_id, last_id),
            DebtorAccount.id.not_in(list(avoid) or [0]),
            ~_in_live_plan(),
            Invoice.charge_on_invoice_id.is_(None),
            outstanding > officer.write_off_limit_pence,
        )
        .order_by(DebtorAccount.deceased.desc(), Invoice.id)
        .limit(1)
    ).first()
    if chosen is None:
        db.session.rollback()
        return 0
    deceased = db.session.scalar(
        sa.select(DebtorAccount.deceased)
        .join(Invoice, Invoice.account_id == DebtorAccount.id)
        .where(Invoice.id == chosen.id)
    )
    db.session.rollback()
    with clock_at(today - timedelta(days=1), WRITE_OFF_AT):
        outcome = approvals.request_write_off(
            invoice_id=chosen.id,
            amount_pence=int(chosen.outstanding),
            reason_code="deceased_no_estate" if deceased else "uneconomical",
            reason=WRITE_OFF_REASON
            if deceased
            else "Trace unsuccessful and the cost of recovery is more than the debt",
            actor=staff(officer.id),
        )
    return int(outcome.request is not None)


def demo_journeys() -> DemoJourneys:
    """The accounts the journeys above start from, for `flask demo logins`."""
    login = db.session.execute(
        sa.select(DebtorAccount.id, DebtorAccount.reference, PortalUser.email)
        .join(PortalUserAccount, PortalUserAccount.account_id == DebtorAccount.id)
        .join(PortalUser, PortalUser.id == PortalUserAccount.portal_user_id)
        .where(DebtorAccount.kind == DebtorKind.PERSON)
        .order_by(PortalUser.id)
    ).all()
    needs_ie = next(
        (
            row
            for row in login
            if (debts := plan_reads.plannable_debts(row.id))
            and plan_reads.income_expenditure_needed(row.id, [d.invoice_id for d in debts])
        ),
        None,
    )
    waiting = db.session.execute(
        sa.select(DebtorAccount.reference, ApprovalRequest.amount_pence, ApprovalRequest.payload)
        .join(DebtorAccount, DebtorAccount.id == ApprovalRequest.account_id)
        .where(
            ApprovalRequest.kind == ApprovalKind.WRITE_OFF,
            ApprovalRequest.status == ApprovalStatus.PENDING,
        )
        .order_by(ApprovalRequest.id)
        .limit(1)
    ).first()
    leader = next(s.email for s in catalogue.STAFF if s.key == "team_leader")
    return DemoJourneys(
        needs_ie.reference if needs_ie else None,
        needs_ie.email if needs_ie else None,
        waiting.reference if waiting else None,
        (waiting.payload or {}).get("invoice_number") if waiting else None,
        int(waiting.amount_pence) if waiting else None,
        leader if waiting else None,
    )
