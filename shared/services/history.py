"""Writing the account's timeline and the audit log, inside the caller's transaction.

These helpers add rows to the session and never commit: the service that
calls them commits once, so the change, its timeline entry and its audit row
land together or not at all.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.extensions import db
from shared.models import ActorType, AuditLog, ContactEvent, ContactKind
from shared.services.actors import Actor


def record_audit(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any,
    *,
    account_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditLog:
    row = AuditLog(
        actor_type=actor.type,
        actor_id=actor.id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        account_id=account_id,
        before=before,
        after=after,
        source_ip=actor.source_ip,
    )
    db.session.add(row)
    return row


def record_timeline(
    account_id: int,
    actor: Actor,
    summary: str,
    *,
    kind: ContactKind | None = None,
    detail: str | None = None,
    outcome: str | None = None,
    follow_up_date: date | None = None,
) -> ContactEvent:
    if kind is None:
        kind = {
            ActorType.PORTAL_USER: ContactKind.PORTAL,
            ActorType.SYSTEM: ContactKind.SYSTEM,
        }.get(actor.type, ContactKind.NOTE)
    event = ContactEvent(
        account_id=account_id,
        kind=kind,
        summary=summary,
        detail=detail,
        outcome=outcome,
        follow_up_date=follow_up_date,
        staff_id=actor.staff_id,
        portal_user_id=actor.portal_user_id,
    )
    db.session.add(event)
    return event
