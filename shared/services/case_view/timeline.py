"""The case page's timeline section: every contact and event on the account, newest
first, a page at a time (contact_events (account_id, occurred_at) finds them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from shared.extensions import db
from shared.models import ContactEvent, ContactKind, StaffUser
from shared.services.case_view.paging import PAGE_SIZE, Page, page_of

CONTACT_KIND_WORDS = {
    ContactKind.NOTE: "Note",
    ContactKind.CALL_IN: "Call in",
    ContactKind.CALL_OUT: "Call out",
    ContactKind.LETTER: "Letter",
    ContactKind.EMAIL: "Email",
    ContactKind.SMS: "Text message",
    ContactKind.VISIT: "Visit",
    ContactKind.PORTAL: "Portal",
    ContactKind.SYSTEM: "System",
}


@dataclass(frozen=True)
class TimelineItem:
    occurred_at: datetime
    kind: str
    summary: str
    detail: str | None
    outcome: str | None
    actor: str


@dataclass(frozen=True)
class TimelineSection:
    items: list[TimelineItem]
    page: Page


_TIMELINE = (
    sa.select(
        ContactEvent.occurred_at,
        ContactEvent.kind,
        ContactEvent.summary,
        ContactEvent.detail,
        ContactEvent.outcome,
        ContactEvent.portal_user_id,
        StaffUser.full_name.label("staff_name"),
    )
    .outerjoin(StaffUser, StaffUser.id == ContactEvent.staff_id)
    .where(ContactEvent.account_id == sa.bindparam("account_id"))
    .order_by(ContactEvent.occurred_at.desc(), ContactEvent.id.desc())
    .limit(sa.bindparam("limit"))
    .offset(sa.bindparam("offset"))
)


def _actor(r) -> str:
    if r.staff_name:
        return r.staff_name
    if r.portal_user_id is not None:
        return "Debtor (portal)"
    return "System"


def timeline_section(account_id: int, page: int = 1) -> TimelineSection:
    """One page of the account's timeline, newest first."""
    page = max(page, 1)
    rows = db.session.execute(
        _TIMELINE,
        {"account_id": account_id, "limit": PAGE_SIZE + 1, "offset": (page - 1) * PAGE_SIZE},
    ).all()
    rows, where = page_of(page, rows)
    items = [
        TimelineItem(
            occurred_at=r.occurred_at,
            kind=CONTACT_KIND_WORDS[ContactKind(r.kind)],
            summary=r.summary,
            detail=r.detail,
            outcome=r.outcome,
            actor=_actor(r),
        )
        for r in rows
    ]
    return TimelineSection(items, where)
