"""The Direct Debit accounts `flask demo logins` names (shared/demo/direct_debit.py made
them): one to set a Direct Debit up for online, one with an active Direct Debit, and one
on the returns queue."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from shared.extensions import db
from shared.models import (
    Arrangement,
    ArrangementStatus,
    BacsReportItem,
    DebtorAccount,
    Mandate,
    MandateStatus,
    PaymentRoute,
    PortalUser,
    PortalUserAccount,
)
from shared.services.directdebit import mandates


@dataclass(frozen=True)
class DemoDirectDebits:
    """The accounts `flask demo logins` names, with a portal login each where there is one."""

    sign_up_reference: str | None
    sign_up_email: str | None
    active_reference: str | None
    active_email: str | None
    returns_reference: str | None


def demo_direct_debits() -> DemoDirectDebits:
    """An account to set up a Direct Debit for online (a proposed plan to be paid by one),
    one with an active mandate, and one on the returns queue."""
    login = (
        sa.select(PortalUser.email)
        .join(PortalUserAccount, PortalUserAccount.portal_user_id == PortalUser.id)
        .where(PortalUserAccount.account_id == DebtorAccount.id)
        .correlate(DebtorAccount)
        .limit(1)
        .scalar_subquery()
    )
    live = sa.select(Mandate.account_id).where(
        Mandate.status.in_([s.value for s in mandates.LIVE_MANDATE_STATUSES])
    )
    waiting = db.session.execute(
        sa.select(DebtorAccount.reference, login)
        .join(Arrangement, Arrangement.account_id == DebtorAccount.id)
        .where(
            # A proposal to be paid by Direct Debit: no active plan goes without one.
            Arrangement.status.in_([ArrangementStatus.PROPOSED, ArrangementStatus.COUNTER_OFFERED]),
            Arrangement.payment_route == PaymentRoute.DIRECT_DEBIT,
            DebtorAccount.id.not_in(live),
            login.is_not(None),
        )
        .order_by(DebtorAccount.id)
        .limit(1)
    ).first()
    active = db.session.execute(
        sa.select(DebtorAccount.reference, login)
        .join(Mandate, Mandate.account_id == DebtorAccount.id)
        .where(Mandate.status == MandateStatus.ACTIVE, login.is_not(None))
        .order_by(Mandate.id)
        .limit(1)
    ).first()
    queued = db.session.scalar(
        sa.select(DebtorAccount.reference)
        .join(BacsReportItem, BacsReportItem.account_id == DebtorAccount.id)
        .where(BacsReportItem.needs_officer, BacsReportItem.resolved_at.is_(None))
        .order_by(BacsReportItem.id)
        .limit(1)
    )
    return DemoDirectDebits(
        waiting[0] if waiting else None,
        waiting[1] if waiting else None,
        active[0] if active else None,
        active[1] if active else None,
        queued,
    )
