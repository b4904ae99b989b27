"""Choosing the demo's Direct Debit payers (shared/demo/direct_debit.py): the accounts a
council would take a Direct Debit from, the active plans to be paid by one, and accounts
with bills falling due to collect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from shared.extensions import db
from shared.models import (
    Allocation,
    Arrangement,
    ArrangementStatus,
    DebtorAccount,
    DebtorKind,
    Invoice,
    OutboxChannel,
    PaymentRoute,
    RecoveryStage,
)
from shared.services import notifications


@dataclass
class Payer:
    account_id: int
    reference: str
    holder_name: str
    email: str | None
    may_email: bool
    plan_id: int | None = None


def holder_name(account: DebtorAccount) -> str:
    if account.kind != DebtorKind.PERSON or not account.surname:
        words = "".join(c if c.isalnum() else " " for c in account.organisation_name or "")
        return " ".join(words.split())[:18].strip() or "ACCOUNT HOLDER"
    full = f"{account.forename or ''} {account.surname}".strip()
    return full if len(full) <= 18 else f"{(account.forename or 'X')[0]} {account.surname}"[:18]


def payer(account: DebtorAccount, plan_id: int | None = None) -> Payer:
    channel = notifications.channel_for(account, allow_sms=False)
    return Payer(
        account.id,
        account.reference,
        holder_name(account),
        account.email,
        channel == OutboxChannel.EMAIL,
        plan_id,
    )


def callable_accounts(first_id: int, last_id: int):
    """Accounts a council would take a Direct Debit from without a conversation first."""
    return sa.and_(
        DebtorAccount.id.between(first_id, last_id),
        ~DebtorAccount.deceased,
        DebtorAccount.breathing_space_type.is_(None),
    )


def plan_payers(first_id: int, last_id: int) -> list[Payer]:
    rows = db.session.execute(
        sa.select(DebtorAccount, Arrangement.id)
        .join(Arrangement, Arrangement.account_id == DebtorAccount.id)
        .where(
            callable_accounts(first_id, last_id),
            Arrangement.status == ArrangementStatus.ACTIVE,
            Arrangement.payment_route == PaymentRoute.DIRECT_DEBIT,
        )
        .order_by(Arrangement.id)
    ).all()
    return [payer(account, plan_id) for account, plan_id in rows]


def invoice_payers(first_id: int, last_id: int, start: date, end: date) -> list[Payer]:
    """Accounts with a bill due from `start` to `end` still open and nothing issued since
    `start` (a mandate made on `start` collects what was known then), in no plan."""
    paid = (
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
        .where(Allocation.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    )
    open_due = (
        sa.select(Invoice.account_id)
        .where(Invoice.due_date.between(start, end), Invoice.total_pence > paid)
        .distinct()
    )
    # Collected when due, so never reminded: none already on the recovery ladder.
    laddered = sa.select(Invoice.account_id).where(
        Invoice.due_date >= start,
        Invoice.total_pence > paid,
        Invoice.recovery_stage != RecoveryStage.NONE,
    )
    issued_since = sa.select(Invoice.account_id).where(Invoice.issue_date >= start)
    in_plan = sa.select(Arrangement.account_id)
    accounts = db.session.scalars(
        sa.select(DebtorAccount)
        .where(
            callable_accounts(first_id, last_id),
            DebtorAccount.id.in_(open_due),
            DebtorAccount.id.not_in(issued_since),
            DebtorAccount.id.not_in(laddered),
            DebtorAccount.id.not_in(in_plan),
        )
        .order_by(DebtorAccount.id)
    ).all()
    return [payer(account) for account in accounts]


def proposal_payers(first_id: int, last_id: int) -> list[Payer]:
    """Accounts that proposed a plan to be paid by Direct Debit, waiting for a decision:
    the payer sets the Direct Debit up online once it is agreed (or now, for the plan)."""
    rows = db.session.execute(
        sa.select(DebtorAccount, Arrangement.id)
        .join(Arrangement, Arrangement.account_id == DebtorAccount.id)
        .where(
            callable_accounts(first_id, last_id),
            Arrangement.status.in_([ArrangementStatus.PROPOSED, ArrangementStatus.COUNTER_OFFERED]),
            Arrangement.payment_route == PaymentRoute.DIRECT_DEBIT,
            DebtorAccount.email.is_not(None),
        )
        .order_by(Arrangement.id)
    ).all()
    return [payer(account, plan_id) for account, plan_id in rows]
