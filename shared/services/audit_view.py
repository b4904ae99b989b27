"""The audit log as auditors and administrators read it: filtered, newest first, a page
at a time.

Paging is by id ("entries older than this one"), not OFFSET, so the hundredth page
costs what the first does on a log of millions of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from shared import clock
from shared.extensions import db
from shared.models import ActorType, AuditLog, DebtorAccount, PortalUser, StaffUser

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""  # the start of an action name: "portal." or "outbox.failed"
    actor_type: ActorType | None = None
    staff_email: str = ""
    account_reference: str = ""
    on_or_after: date | None = None
    on_or_before: date | None = None


@dataclass(frozen=True)
class AuditRow:
    id: int
    occurred_at: datetime
    actor: str
    action: str
    object: str
    account_reference: str | None
    before: dict | None
    after: dict | None
    source_ip: str | None


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    older_than: int | None  # pass as `before_id` for the next page; None on the last


class NoSuchStaff(ValueError):
    pass


class NoSuchAccount(ValueError):
    pass


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def audit_page(wanted: AuditFilter, *, before_id: int | None = None) -> AuditPage:
    """One page of entries matching `wanted`, newest first.

    Raises NoSuchStaff or NoSuchAccount when a filter names someone who is not there,
    so the page can say so instead of showing an empty log."""
    query = sa.select(AuditLog).order_by(AuditLog.id.desc()).limit(PAGE_SIZE + 1)
    if wanted.action:
        query = query.where(AuditLog.action.like(_escape_like(wanted.action) + "%", escape="\\"))
    if wanted.actor_type is not None:
        query = query.where(AuditLog.actor_type == wanted.actor_type)
    if wanted.staff_email:
        staff_id = db.session.scalar(
            sa.select(StaffUser.id).where(
                sa.func.lower(StaffUser.email) == wanted.staff_email.strip().lower()
            )
        )
        if staff_id is None:
            raise NoSuchStaff(wanted.staff_email)
        query = query.where(AuditLog.actor_type == ActorType.STAFF, AuditLog.actor_id == staff_id)
    if wanted.account_reference:
        account_id = db.session.scalar(
            sa.select(DebtorAccount.id).where(DebtorAccount.reference == wanted.account_reference)
        )
        if account_id is None:
            raise NoSuchAccount(wanted.account_reference)
        query = query.where(AuditLog.account_id == account_id)
    # The dates are days in England, as the page shows the times.
    if wanted.on_or_after is not None:
        query = query.where(AuditLog.occurred_at >= clock.day_starts(wanted.on_or_after))
    if wanted.on_or_before is not None:
        next_day = clock.day_starts(wanted.on_or_before + timedelta(days=1))
        query = query.where(AuditLog.occurred_at < next_day)
    if before_id is not None:
        query = query.where(AuditLog.id < before_id)
    entries = db.session.scalars(query).all()
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    return AuditPage(
        rows=_describe(entries), older_than=entries[-1].id if more and entries else None
    )


def _describe(entries: list[AuditLog]) -> list[AuditRow]:
    # Names for the people and accounts on this page, in three queries, not one per row.
    staff_ids = {e.actor_id for e in entries if e.actor_type == ActorType.STAFF and e.actor_id}
    portal_ids = {
        e.actor_id for e in entries if e.actor_type == ActorType.PORTAL_USER and e.actor_id
    }
    account_ids = {e.account_id for e in entries if e.account_id}
    staff = dict(
        db.session.execute(
            sa.select(StaffUser.id, StaffUser.full_name).where(StaffUser.id.in_(staff_ids))
        ).all()
    )
    portal = dict(
        db.session.execute(
            sa.select(PortalUser.id, PortalUser.email).where(PortalUser.id.in_(portal_ids))
        ).all()
    )
    references = dict(
        db.session.execute(
            sa.select(DebtorAccount.id, DebtorAccount.reference).where(
                DebtorAccount.id.in_(account_ids)
            )
        ).all()
    )

    def actor(entry: AuditLog) -> str:
        if entry.actor_type == ActorType.STAFF:
            return staff.get(entry.actor_id, f"Staff #{entry.actor_id}")
        if entry.actor_type == ActorType.PORTAL_USER:
            return f"Portal login {portal.get(entry.actor_id, f'#{entry.actor_id}')}"
        return "System"

    return [
        AuditRow(
            id=e.id,
            occurred_at=e.occurred_at,
            actor=actor(e) if e.actor_id or e.actor_type == ActorType.SYSTEM else "Unknown",
            action=e.action,
            object=f"{e.object_type} {e.object_id}" if e.object_id else e.object_type,
            account_reference=references.get(e.account_id),
            before=e.before,
            after=e.after,
            source_ip=e.source_ip,
        )
        for e in entries
    ]
