"""Officers record their contact with a debtor (calls, letters, emails, visits, notes),
with an outcome and, if something must happen later, a follow-up date; the diary
lists each officer's follow-ups that are due.

A follow-up stays in the diary until the same officer records anything further on
that account after it: the timeline is append-only, so "done" is read from what
happened next rather than set on the old entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from shared.domain.names import display_name
from shared.extensions import db
from shared.models import ContactEvent, ContactKind, DebtorAccount
from shared.services.actors import Actor
from shared.services.errors import InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.unit_of_work import use_case

# What an officer can record; emails, texts and letters we send are recorded by the
# outbox, and portal and system entries by what caused them.
KIND_WORDS = {
    ContactKind.CALL_IN: "Phone call from the debtor",
    ContactKind.CALL_OUT: "Phone call to the debtor",
    ContactKind.LETTER: "Letter received",
    ContactKind.EMAIL: "Email received",
    ContactKind.VISIT: "Visit",
    ContactKind.NOTE: "Note",
}
OUTCOMES = (
    "Spoke to the debtor",
    "Spoke to someone acting for the debtor",
    "No answer",
    "Left a message",
    "Wrong or unobtainable number",
    "Promise to pay",
    "Dispute or query raised",
    "Said they cannot pay",
    "Other",
)
MAX_SUMMARY = 300
MAX_DETAIL = 5000


@dataclass(frozen=True)
class ContactRecord:
    kind: ContactKind
    summary: str
    detail: str | None = None
    outcome: str | None = None
    follow_up_date: date | None = None


def contact_problems(record: ContactRecord, today: date) -> dict[str, str]:
    """Each field's problem in GOV.UK words (empty when the record will do)."""
    problems = {}
    if record.kind not in KIND_WORDS:
        problems["kind"] = "Select what kind of contact it was"
    if not record.summary.strip():
        problems["summary"] = "Enter a summary of the contact"
    elif len(record.summary) > MAX_SUMMARY:
        problems["summary"] = f"Summary must be {MAX_SUMMARY} characters or fewer"
    if record.detail and len(record.detail) > MAX_DETAIL:
        problems["detail"] = f"Notes must be {MAX_DETAIL:,} characters or fewer"
    if record.outcome and record.outcome not in OUTCOMES:
        problems["outcome"] = "Select an outcome from the list"
    if record.follow_up_date is not None and record.follow_up_date < today:
        problems["follow_up_date"] = "Follow-up date must be today or in the future"
    return problems


@use_case
def record_contact(
    account_id: int, record: ContactRecord, actor: Actor, *, today: date
) -> ContactEvent:
    """Put the contact on the account's timeline and in the audit log (one commit)."""
    if actor.staff_id is None:
        raise InvalidRequest("Only staff record contacts")
    if db.session.get(DebtorAccount, account_id) is None:
        raise NotFound(f"No debtor account {account_id}")
    problems = contact_problems(record, today)
    if problems:
        raise InvalidRequest(next(iter(problems.values())))
    event = record_timeline(
        account_id,
        actor,
        record.summary.strip(),
        kind=record.kind,
        detail=(record.detail or "").strip() or None,
        outcome=record.outcome or None,
        follow_up_date=record.follow_up_date,
    )
    db.session.flush()
    record_audit(
        actor,
        "case.contact_recorded",
        "contact_event",
        event.id,
        account_id=account_id,
        after={
            "kind": record.kind.value,
            "outcome": record.outcome,
            "follow_up_date": record.follow_up_date.isoformat() if record.follow_up_date else None,
        },
    )
    db.session.commit()
    return event


@dataclass(frozen=True)
class FollowUp:
    due: date
    days_overdue: int
    account_reference: str
    account_name: str
    summary: str
    recorded_at: datetime


def due_follow_ups(staff_id: int, today: date, *, limit: int = 200) -> list[FollowUp]:
    """This officer's follow-ups due today or earlier that nothing later has dealt with,
    most overdue first (the index on (staff_id, follow_up_date) finds them)."""
    later = sa.orm.aliased(ContactEvent)
    rows = db.session.execute(
        sa.select(
            ContactEvent.follow_up_date,
            ContactEvent.summary,
            ContactEvent.occurred_at,
            DebtorAccount.reference,
            DebtorAccount.kind,
            DebtorAccount.title,
            DebtorAccount.forename,
            DebtorAccount.surname,
            DebtorAccount.organisation_name,
        )
        .join(DebtorAccount, DebtorAccount.id == ContactEvent.account_id)
        .where(
            ContactEvent.staff_id == staff_id,
            ContactEvent.follow_up_date.is_not(None),
            ContactEvent.follow_up_date <= today,
            ~sa.exists().where(
                later.account_id == ContactEvent.account_id,
                later.staff_id == staff_id,
                later.id > ContactEvent.id,
            ),
        )
        .order_by(ContactEvent.follow_up_date, ContactEvent.id)
        .limit(limit)
    ).all()
    return [
        FollowUp(
            due=r.follow_up_date,
            days_overdue=(today - r.follow_up_date).days,
            account_reference=r.reference,
            account_name=display_name(r.kind, r.title, r.forename, r.surname, r.organisation_name),
            summary=r.summary,
            recorded_at=r.occurred_at,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class CaseHeading:
    id: int
    reference: str
    name: str


def case_heading(reference: str) -> CaseHeading | None:
    """The account an officer's page is about, by its reference (None if none)."""
    row = db.session.execute(
        sa.select(
            DebtorAccount.id,
            DebtorAccount.reference,
            DebtorAccount.kind,
            DebtorAccount.title,
            DebtorAccount.forename,
            DebtorAccount.surname,
            DebtorAccount.organisation_name,
        ).where(DebtorAccount.reference == reference)
    ).one_or_none()
    if row is None:
        return None
    name = display_name(row.kind, row.title, row.forename, row.surname, row.organisation_name)
    return CaseHeading(row.id, row.reference, name)
