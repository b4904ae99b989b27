"""What placing or lifting a Breathing Space or deceased hold does beyond the hold itself.

Helpers for shared/services/holds.py: they add rows to the caller's transaction
(timeline and audit included) and never commit.

- Breathing Space (and a death): messages already waiting in the outbox that ask
  the debtor for payment are withdrawn (cancelled, not deleted), so nothing queued
  before the notice (a letter waiting for the print run, a text waiting for a retry)
  asks for payment during the space. Messages that answer the debtor (receipts, a
  reply to their plan proposal, sign-in codes) are not asking for payment and still go.
- A death: every portal login's access to the account ends (the link is kept, for the
  record). A power of attorney, deputyship or appointeeship ends when the person dies,
  and nobody can act as the deceased through their own login either: whoever signs in
  with it now is someone else, and the estate is dealt with through the personal
  representative by an officer. Lifting the hold (it was placed in error) gives back
  exactly the access that hold ended.
"""

from __future__ import annotations

import sqlalchemy as sa

from shared.extensions import db
from shared.models import OutboxMessage, OutboxStatus, PortalUserAccount
from shared.models.base import utcnow
from shared.services.actors import Actor
from shared.services.history import record_audit, record_timeline

# Outbox templates that ask the debtor to pay (shared/services/plan_monitor.py).
ASKS_FOR_PAYMENT = frozenset({"plan_payment_due", "plan_missed_payment", "plan_broken"})


def withdraw_payment_requests(account_id: int, actor: Actor, why: str) -> int:
    """Cancel the account's unsent messages asking for payment; how many were cancelled."""
    ids = list(
        db.session.scalars(
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.account_id == account_id,
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.template.in_(ASKS_FOR_PAYMENT),
            )
            .values(status=OutboxStatus.CANCELLED, last_error=f"Withdrawn: {why}")
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
    )
    if ids:
        record_timeline(
            account_id,
            actor,
            f"{len(ids)} message{'s' if len(ids) != 1 else ''} asking for payment withdrawn "
            "before sending",
            detail=why,
        )
        record_audit(
            actor,
            "outbox.withdrawn",
            "outbox_message",
            None,
            account_id=account_id,
            after={"outbox_message_ids": sorted(ids), "reason": why},
        )
    return len(ids)


def end_portal_access(account_id: int, hold_id: int, actor: Actor) -> int:
    """End every portal login's access to a deceased debtor's account; how many ended."""
    links = list(
        db.session.scalars(
            sa.select(PortalUserAccount).where(
                PortalUserAccount.account_id == account_id,
                PortalUserAccount.access_ended_at.is_(None),
            )
        )
    )
    now = utcnow()
    for link in links:
        link.access_ended_at = now
        link.access_ended_by_hold_id = hold_id
    if links:
        db.session.flush()
        kinds = sorted({link.relationship_to_debtor.value for link in links})
        record_timeline(
            account_id,
            actor,
            f"Portal access ended for {len(links)} login{'s' if len(links) != 1 else ''}: "
            "the debtor has died",
            detail="Relationships: " + ", ".join(k.replace("_", " ") for k in kinds),
        )
        for link in links:
            record_audit(
                actor,
                "portal.access_ended",
                "portal_user_account",
                link.id,
                account_id=account_id,
                before={"access_ended_at": None},
                after={
                    "portal_user_id": link.portal_user_id,
                    "relationship": link.relationship_to_debtor.value,
                    "access_ended_by_hold_id": hold_id,
                },
            )
    return len(links)


def restore_portal_access(account_id: int, hold_id: int, actor: Actor) -> int:
    """Give back the access a deceased hold ended (it was placed in error)."""
    links = list(
        db.session.scalars(
            sa.select(PortalUserAccount).where(
                PortalUserAccount.account_id == account_id,
                PortalUserAccount.access_ended_by_hold_id == hold_id,
            )
        )
    )
    for link in links:
        link.access_ended_at = None
        link.access_ended_by_hold_id = None
    if links:
        record_timeline(
            account_id,
            actor,
            f"Portal access restored for {len(links)} login{'s' if len(links) != 1 else ''}",
        )
        for link in links:
            record_audit(
                actor,
                "portal.access_restored",
                "portal_user_account",
                link.id,
                account_id=account_id,
                before={"access_ended_by_hold_id": hold_id},
                after={"access_ended_at": None},
            )
    return len(links)
