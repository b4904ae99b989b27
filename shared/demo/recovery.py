"""The demo's recovery ladder, made by the product itself: the default templates and a
ladder for every department (as `flask dunning install-defaults` makes them), the
commercial departments' ladders run automatically, a few debtors who asked for Welsh,
and today's dunning run, as the 07:00 job would have run it. Its letters wait for an
officer to build and release the day's print batch.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from shared.extensions import db
from shared.models import (
    AuditLog,
    ContactEvent,
    DebtorAccount,
    DebtorKind,
    DunningMove,
    DunningPolicy,
    DunningRun,
    LetterOfClaim,
    OutboxMessage,
    ServiceDepartment,
)
from shared.services.actors import SYSTEM
from shared.services.dunning import runs
from shared.services.messages.templates import install_defaults

# One person in this many asked for Welsh (a Welsh-speaking household in the demo book).
WELSH_ONE_IN = 25


# Tables the templates, ladders and run add rows to, counted before and after.
_WRITES = (AuditLog, ContactEvent, OutboxMessage, DunningMove, DunningRun, LetterOfClaim)


def _counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in _WRITES
    }


def seed_recovery(*, first_account_id: int, last_account_id: int, today: date) -> dict[str, int]:
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
    runs.execute(today, SYSTEM)
    added = {table: n - before[table] for table, n in _counts().items()}
    return {
        **added,
        "message_templates": installed.templates_added,
        "dunning_policies": installed.policies_added,
    }
