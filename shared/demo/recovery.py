"""The demo's recovery ladder, made by the product itself: the default templates and a
ladder for every department (as `flask dunning install-defaults` makes them), the
commercial departments' ladders run automatically, a few debtors who asked for Welsh,
and the ladder's runs of the last few weeks and of today.

Every recovery stage in the demo comes from a run (the generator puts no invoice on the
ladder): the runs of RUN_DAYS_BACK days ago (fortnightly, the ladder's gap between
stages, so a debt long overdue climbs reminder, final demand, letter before claim), each
at 07:00 of its day with the one clock moved there (shared/demo/moved_clock.py), as the
scheduled job would have run it. So each stage has its DunningMove, its message and its
timeline line, dated when it happened. The runs' emails and texts went when written (the
dispatcher's part); their letters wait for an officer to build and release a print batch.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import sqlalchemy as sa

from shared import clock
from shared.demo.moved_clock import clock_at
from shared.extensions import db
from shared.models import (
    AuditLog,
    ContactEvent,
    DebtorAccount,
    DebtorKind,
    DunningMove,
    DunningPolicy,
    DunningRun,
    Invoice,
    InvoiceLine,
    LatePaymentCharge,
    LedgerEntry,
    LetterOfClaim,
    OutboxChannel,
    OutboxMessage,
    ServiceDepartment,
)
from shared.models.messaging import OutboxStatus
from shared.services.actors import SYSTEM
from shared.services.dunning import runs
from shared.services.messages.templates import install_defaults

# One person in this many asked for Welsh (a Welsh-speaking household in the demo book).
WELSH_ONE_IN = 25
# The days (before the seed's today) the ladder ran, oldest first; today's run follows.
# Plans that ended did so before the first (plan_values.ENDED_BEFORE_LADDER).
RUN_DAYS_BACK = (28, 14)
RUN_TIME = time(7, 0)  # the scheduled dunning run (shared/jobs/cron_config.py)
# A batch larger than this gets the ladders but no runs: the first run chases the whole
# back book (the "go-live day"), and its Late Payment Act charges are posted one at a
# time (about 13 ms each; issue 14's note): 26 minutes for the first run at 20,000
# debtors, hours at 200,000. Its debts stay at no stage, as before any run; an officer
# can start the run from Dunning runs.
LADDER_HISTORY_MAX_DEBTORS = 5_000

# Tables the templates, ladders and runs add rows to, counted before and after.
_WRITES = (
    AuditLog,
    ContactEvent,
    OutboxMessage,
    DunningMove,
    DunningRun,
    LetterOfClaim,
    # Late Payment Act charges on commercial debts the runs moved: an invoice each.
    LatePaymentCharge,
    Invoice,
    InvoiceLine,
    LedgerEntry,
)


def _counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in _WRITES
    }


def run_days(today: date) -> list[date]:
    """The days the demo's ladder ran, oldest first, today last."""
    return [today - timedelta(days=back) for back in RUN_DAYS_BACK] + [today]


def seed_recovery(*, first_account_id: int, last_account_id: int, today: date) -> dict[str, int]:
    """Install the ladders and, for a batch of up to LADDER_HISTORY_MAX_DEBTORS, run them
    over the last few weeks and today; rows added per table."""
    before = _counts()
    installed = install_defaults(SYSTEM)
    commercial = sa.select(ServiceDepartment.id).where(ServiceDepartment.is_commercial)
    db.session.execute(
        sa.update(DunningPolicy)
        .where(DunningPolicy.department_id.in_(commercial))
        .values(automatic=True)
    )
    db.session.execute(
        sa.update(DebtorAccount)
        .where(
            DebtorAccount.id.between(first_account_id, last_account_id),
            DebtorAccount.kind == DebtorKind.PERSON,
            DebtorAccount.id % WELSH_ONE_IN == 3,
        )
        .values(language="cy")
    )
    db.session.commit()
    first_message_id = (db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0) + 1
    batch = last_account_id - first_account_id + 1
    for day in run_days(today) if batch <= LADDER_HISTORY_MAX_DEBTORS else ():
        with clock_at(day, RUN_TIME):
            runs.execute(day, SYSTEM)
        _emails_and_texts_sent(first_message_id)
    added = {table: n - before[table] for table, n in _counts().items()}
    return {
        **added,
        "message_templates": installed.templates_added,
        "dunning_policies": installed.policies_added,
    }


def _emails_and_texts_sent(first_message_id: int) -> None:
    """The runs' emails and texts went when written, or when quiet hours ended (the
    dispatcher's part), so seeding floods no mail viewer; a text still held by quiet hours
    waits for the worker."""
    sent_at = sa.case(
        (OutboxMessage.not_before > OutboxMessage.created_at, OutboxMessage.not_before),
        else_=OutboxMessage.created_at,
    )
    db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id >= first_message_id,
            OutboxMessage.channel.in_([OutboxChannel.EMAIL, OutboxChannel.SMS]),
            OutboxMessage.status == OutboxStatus.PENDING,
            sa.or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= clock.utcnow()),
        )
        .values(status=OutboxStatus.SENT, sent_at=sent_at, attempts=1)
    )
    db.session.commit()
