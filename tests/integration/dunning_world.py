"""A small recovery-ladder world for the dunning run tests: a department with the
standard ladder, its templates, and debtors with overdue invoices."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from shared.extensions import db
from shared.models import (
    Channel,
    ContactEvent,
    DunningMove,
    DunningPolicy,
    DunningStage,
    Invoice,
    MessageTemplate,
    OutboxMessage,
    RecoveryStage,
    TemplateChannel,
)
from shared.services import ledger
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department
from tests.frozen_clock import TODAY

LADDER = (
    (RecoveryStage.REMINDER, 14, ["letter", "email", "sms"], "dunning.reminder"),
    (RecoveryStage.FINAL_DEMAND, 28, ["letter", "email"], "dunning.final_demand"),
    (RecoveryStage.PRE_ACTION, 42, ["letter"], "dunning.pre_action"),
    (RecoveryStage.REFERRED_LEGAL, None, [], None),
)
REPLY = " Reply by {respond_by_date}."
BODY = "Dear {debtor_name}, you owe {amount_due} on {invoice_numbers}. Pay at {portal_url}."


def install_templates() -> None:
    wanted = [
        ("dunning.reminder", ("letter", "email", "sms")),
        ("dunning.final_demand", ("letter", "email")),
        ("dunning.pre_action", ("letter",)),
        ("letter_of_claim", ("letter",)),
    ]
    for key, channels in wanted:
        for channel in channels:
            db.session.add(
                MessageTemplate(
                    key=key,
                    channel=TemplateChannel(channel),
                    name=f"{key} {channel}",
                    subject=None if channel == "sms" else f"About {key}",
                    body=BODY + (REPLY if key == "letter_of_claim" else ""),
                )
            )
    db.session.commit()


def make_ladder(
    name: str = "Trade waste", *, automatic: bool = False, minimum: int = 1000, commercial=False
):
    department = make_department(name=name, is_commercial=commercial)
    policy = DunningPolicy(
        department_id=department.id, minimum_balance_pence=minimum, automatic=automatic
    )
    for position, (stage, days, channels, template) in enumerate(LADDER, start=1):
        policy.stages.append(
            DunningStage(
                stage=stage,
                position=position,
                days_after_due=days,
                channels=channels,
                template_key=template,
            )
        )
    db.session.add(policy)
    db.session.commit()
    return department


def emailable(**kw):
    kw.setdefault("email", f"debtor{kw.get('surname', 'x')}@example.com")
    return make_account(preferred_channel=Channel.EMAIL, consent_email=True, **kw)


_numbers = iter(range(1, 10_000))


def overdue(account, department, days_overdue: int, pence: int = 12_000, **kw) -> Invoice:
    due = TODAY - timedelta(days=days_overdue)
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number=kw.pop("number", f"INV-D{next(_numbers):04d}"),
        issue_date=due - timedelta(days=30),
        due_date=due,
        description="Trade waste collections",
        lines=[ledger.LineInput("Collections", 1, pence)],
        actor=SYSTEM,
    )


def stage_of(invoice_id: int) -> RecoveryStage:
    db.session.expire_all()
    return db.session.scalar(sa.select(Invoice.recovery_stage).where(Invoice.id == invoice_id))


def outbox(account_id: int | None = None) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if account_id is not None:
        query = query.where(OutboxMessage.account_id == account_id)
    return list(db.session.scalars(query))


def moves() -> list[DunningMove]:
    return list(db.session.scalars(sa.select(DunningMove).order_by(DunningMove.id)))


def timeline(account_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(ContactEvent.summary)
            .where(ContactEvent.account_id == account_id)
            .order_by(ContactEvent.id)
        )
    )
