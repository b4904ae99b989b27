"""The returns queue: reports imported from Bacs, what was done with each advice, and
the advices waiting for an officer (oldest first), which an officer resolves with a
note. Reads return frozen rows; resolve_item is one transaction and has one effect
however often it is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from shared import clock
from shared.domain.bacs import reasons
from shared.domain.names import display_name
from shared.extensions import db
from shared.models import BacsReport, BacsReportItem, DebtorAccount, StaffUser
from shared.services.actors import Actor
from shared.services.errors import InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.unit_of_work import use_case

QUEUE_LIMIT = 200
NOTE_MAX = 1000
KIND_WORDS = {"arudd": "ARUDD", "addacs": "ADDACS", "auddis": "AUDDIS", "ddic": "DDIC"}


@dataclass(frozen=True)
class ReportRow:
    report_id: int
    kind: str  # "ARUDD", ...
    file_name: str
    report_date: date | None
    advice_number: str | None
    item_count: int
    applied_count: int
    routed_count: int
    waiting_count: int
    imported_at: datetime
    imported_by: str


@dataclass(frozen=True)
class ItemRow:
    item_id: int
    report_id: int
    report_kind: str
    reference: str
    reason_code: str
    bacs_code: str | None
    description: str  # the bank's words
    reason_words: str  # what the reason means, in our words
    amount_pence: int | None
    original_processing_day: date | None
    account_reference: str | None
    account_name: str | None
    action: str
    needs_officer: bool
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None

    @property
    def waiting(self) -> bool:
        return self.needs_officer and self.resolved_at is None


@dataclass(frozen=True)
class ReportDetail:
    report: ReportRow
    items: list[ItemRow]


@dataclass(frozen=True)
class Resolved:
    item_id: int
    created: bool  # False: it had been resolved already; nothing changed


def _waiting_clause():
    return sa.and_(BacsReportItem.needs_officer.is_(True), BacsReportItem.resolved_at.is_(None))


def waiting_count() -> int:
    """How many advices wait for an officer."""
    return int(db.session.scalar(sa.select(sa.func.count()).where(_waiting_clause())))


def _report_rows(query) -> list[ReportRow]:
    waiting = (
        sa.select(sa.func.count())
        .where(BacsReportItem.report_id == BacsReport.id, _waiting_clause())
        .correlate(BacsReport)
        .scalar_subquery()
    )
    rows = db.session.execute(
        query.add_columns(StaffUser.full_name, waiting).outerjoin(
            StaffUser, StaffUser.id == BacsReport.imported_by_staff_id
        )
    ).all()
    return [
        ReportRow(
            report_id=r.id,
            kind=KIND_WORDS[r.kind.value],
            file_name=r.file_name,
            report_date=r.report_date,
            advice_number=r.advice_number,
            item_count=r.item_count,
            applied_count=r.applied_count,
            routed_count=r.routed_count,
            waiting_count=int(count),
            imported_at=r.imported_at,
            imported_by=name or "The system",
        )
        for r, name, count in rows
    ]


def recent_reports(limit: int = 30) -> list[ReportRow]:
    """The latest reports imported, newest first."""
    return _report_rows(
        sa.select(BacsReport)
        .order_by(BacsReport.imported_at.desc(), BacsReport.id.desc())
        .limit(limit)
    )


def _item_rows(where, *, order, limit: int | None = None) -> list[ItemRow]:
    resolver = sa.orm.aliased(StaffUser)
    query = (
        sa.select(BacsReportItem, BacsReport.kind, DebtorAccount, resolver.full_name)
        .join(BacsReport, BacsReport.id == BacsReportItem.report_id)
        .outerjoin(DebtorAccount, DebtorAccount.id == BacsReportItem.account_id)
        .outerjoin(resolver, resolver.id == BacsReportItem.resolved_by_staff_id)
        .where(where)
        .order_by(*order)
    )
    if limit is not None:
        query = query.limit(limit)
    out = []
    for item, kind, account, resolved_by in db.session.execute(query):
        treatment = reasons.treatment(
            kind.value,
            item.reason_code,
            claim_cancelled=item.description.startswith("Claim withdrawn"),
        )
        out.append(
            ItemRow(
                item_id=item.id,
                report_id=item.report_id,
                report_kind=KIND_WORDS[kind.value],
                reference=item.reference,
                reason_code=item.reason_code,
                bacs_code=item.bacs_code,
                description=item.description,
                reason_words=treatment.words,
                amount_pence=item.amount_pence,
                original_processing_day=item.original_processing_day,
                account_reference=account.reference if account is not None else None,
                account_name=display_name(
                    account.kind,
                    account.title,
                    account.forename,
                    account.surname,
                    account.organisation_name,
                )
                if account is not None
                else None,
                action=item.action,
                needs_officer=item.needs_officer,
                created_at=item.created_at,
                resolved_at=item.resolved_at,
                resolved_by=resolved_by,
                resolution_note=item.resolution_note,
            )
        )
    return out


def report_detail(report_id: int) -> ReportDetail:
    """A report with every advice in it and what was done."""
    rows = _report_rows(sa.select(BacsReport).where(BacsReport.id == report_id))
    if not rows:
        raise NotFound(f"No Bacs report {report_id}")
    items = _item_rows(BacsReportItem.report_id == report_id, order=(BacsReportItem.id,))
    return ReportDetail(rows[0], items)


def waiting_items(limit: int = QUEUE_LIMIT) -> list[ItemRow]:
    """Advices waiting for an officer, oldest first."""
    return _item_rows(
        _waiting_clause(), order=(BacsReportItem.created_at, BacsReportItem.id), limit=limit
    )


def item(item_id: int) -> ItemRow:
    """One advice (waiting or not)."""
    found = _item_rows(BacsReportItem.id == item_id, order=(BacsReportItem.id,))
    if not found:
        raise NotFound(f"No Bacs report item {item_id}")
    return found[0]


def account_items(account_id: int, limit: int = 20) -> list[ItemRow]:
    """An account's advices from Bacs, newest first (for the case page)."""
    return _item_rows(
        BacsReportItem.account_id == account_id,
        order=(BacsReportItem.created_at.desc(), BacsReportItem.id.desc()),
        limit=limit,
    )


@use_case
def resolve_item(item_id: int, note: str, actor: Actor) -> Resolved:
    """Mark a waiting advice as dealt with, with the officer's note (once)."""
    note = (note or "").strip()
    if not note:
        raise InvalidRequest("Enter what you did about this advice")
    if len(note) > NOTE_MAX:
        raise InvalidRequest(f"The note must be {NOTE_MAX} characters or fewer")
    row = db.session.get(BacsReportItem, item_id)
    if row is None or not row.needs_officer:
        raise NotFound("That advice is not waiting for an officer")
    now = clock.utcnow()
    changed = db.session.execute(
        sa.update(BacsReportItem)
        .where(BacsReportItem.id == item_id, BacsReportItem.resolved_at.is_(None))
        .values(resolved_at=now, resolved_by_staff_id=actor.staff_id, resolution_note=note)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.rollback()
        return Resolved(item_id, created=False)
    if row.account_id is not None:
        record_timeline(
            row.account_id,
            actor,
            f"Bacs advice for Direct Debit {row.reference} dealt with",
            detail=note,
        )
    record_audit(
        actor,
        "bacs_report.item_resolved",
        "bacs_report_item",
        item_id,
        account_id=row.account_id,
        after={"note": note},
    )
    db.session.commit()
    return Resolved(item_id, created=True)
