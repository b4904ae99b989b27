"""Each department's monthly report pack: built once per department and month, kept with
its SHA-256 and page count, and emailed to the department's contact with the PDF
attached.

The promise: run it as often as you like, each department gets one pack a month. The
ReportPack row (unique per department and month) is the record of that, and the outbox
message carrying the PDF is written in the same transaction as the row, so a pack is
never recorded as sent without its email, nor emailed twice (the message's dedupe key
is the department and month too). A department whose pack could not be built gets a
`failed` row saying why, and the next run builds it again; a department with no
contact email gets its pack built and kept (`no_contact`), to download from the back
office. Each department is its own transaction: one department's failure leaves the
others sent.

The email goes to council staff, not to a debtor, so it is written as an outbox row
directly and meets none of the debtor contact rules (as staff emails do,
shared/services/notifications.py). The PDF travels by name, not by value: the row's
payload names the "report_pack" document, which the outbox worker renders from the
stored pack when it sends (shared/documents.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from shared import clock, documents
from shared.domain.reporting import month_end
from shared.extensions import db
from shared.models import (
    Invoice,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
    ReportPack,
    ReportPackStatus,
    ServiceDepartment,
)
from shared.reports.packs import (
    BuiltPack,
    PackBuildError,
    PackDepartment,
    month_words,
    render_pack,
)
from shared.services.actors import Actor
from shared.services.errors import InvalidRequest, NotFound
from shared.services.history import record_audit
from shared.services.unit_of_work import read_only, use_case

__all__ = [
    "DOCUMENT",
    "PackListing",
    "PackOutcome",
    "SendResult",
    "check_month",
    "download_pack",
    "last_month",
    "recent_packs",
    "send_monthly_packs",
]

logger = logging.getLogger(__name__)

DOCUMENT = "report_pack"
AUDIT_OBJECT = "report_pack"
ERROR_LENGTH = 500  # ReportPack.error


def last_month(today: date) -> date:
    """The first day of the month before `today`'s: the month the scheduled run sends."""
    first = today.replace(day=1)
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def check_month(month: date, today: date) -> date:
    """The first day of `month`, refused (InvalidRequest) unless the month has ended:
    a pack is for a whole month, so this month's and later months' cannot be built."""
    first = month.replace(day=1)
    if first >= today.replace(day=1):
        raise InvalidRequest(
            f"{month_words(first)} has not ended yet: a pack is for a whole month, so the "
            f"latest month it can be sent for is {month_words(last_month(today))}"
        )
    return first


@dataclass(frozen=True)
class PackOutcome:
    department_code: str
    department_name: str
    # queued, no_contact or failed as now recorded; "already" when this run left it.
    status: str
    pack_id: int | None
    sent_to: str | None = None
    page_count: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class SendResult:
    month: date
    outcomes: tuple[PackOutcome, ...]

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


@dataclass(frozen=True)
class _Department:
    id: int
    code: str
    name: str
    contact_email: str | None


def _departments(month_last: date) -> list[_Department]:
    """The departments that had raised any invoice by the end of the month, by name."""
    has_invoice = (
        sa.select(Invoice.id)
        .where(Invoice.department_id == ServiceDepartment.id, Invoice.issue_date <= month_last)
        .exists()
    )
    rows = db.session.execute(
        sa.select(
            ServiceDepartment.id,
            ServiceDepartment.code,
            ServiceDepartment.name,
            ServiceDepartment.contact_email,
        )
        .where(has_invoice)
        .order_by(ServiceDepartment.name, ServiceDepartment.id)
    ).all()
    db.session.rollback()  # end the read: each department is its own transaction
    return [
        _Department(r.id, r.code, r.name, (r.contact_email or "").strip() or None) for r in rows
    ]


def send_monthly_packs(month: date, actor: Actor) -> SendResult:
    """Build, keep and email the pack of every department with invoices for `month`
    (a month that has ended), once per department and month; retry the failed ones."""
    first = check_month(month, clock.today())
    outcomes = tuple(_send_one(d, first, actor) for d in _departments(month_end(first)))
    return SendResult(first, outcomes)


def _existing(department_id: int, month: date) -> ReportPack | None:
    return db.session.scalar(
        sa.select(ReportPack).where(
            ReportPack.department_id == department_id, ReportPack.month == month
        )
    )


def _send_one(department: _Department, month: date, actor: Actor) -> PackOutcome:
    existing = _existing(department.id, month)
    if existing is not None and existing.status != ReportPackStatus.FAILED:
        outcome = PackOutcome(department.code, department.name, "already", existing.id)
        db.session.rollback()
        return outcome
    try:
        built = render_pack(PackDepartment(department.id, department.code, department.name), month)
    except Exception as exc:  # recorded, shown in the back office, retried next run
        db.session.rollback()
        logger.exception("report pack for %s, %s failed", department.code, month_words(month))
        why = str(exc) if isinstance(exc, PackBuildError) else f"{type(exc).__name__}: {exc}"
        return _record_failure(department, month, why, actor)
    db.session.rollback()  # the reports only read: end their transaction before writing
    try:
        return _record_built(department, month, built, actor)
    except IntegrityError:
        # Another run recorded this department's month between our look and our write.
        db.session.rollback()
        pack = _existing(department.id, month)
        db.session.rollback()
        return PackOutcome(department.code, department.name, "already", pack and pack.id)


def _pack_row(department: _Department, month: date) -> ReportPack:
    pack = _existing(department.id, month)
    if pack is None:
        pack = ReportPack(department_id=department.id, month=month)
        db.session.add(pack)
    return pack


@use_case
def _record_failure(department: _Department, month: date, error: str, actor: Actor) -> PackOutcome:
    pack = _pack_row(department, month)
    if pack.status is not None and pack.status != ReportPackStatus.FAILED:
        db.session.rollback()  # another run sent it meanwhile
        return PackOutcome(department.code, department.name, "already", pack.id)
    pack.status = ReportPackStatus.FAILED
    pack.error = error[:ERROR_LENGTH]
    pack.pdf = pack.pdf_sha256 = pack.page_count = pack.sent_to = None
    db.session.flush()
    record_audit(
        actor,
        "report_pack.failed",
        AUDIT_OBJECT,
        pack.id,
        after={
            "department": department.code,
            "month": month.isoformat(),
            "error": pack.error,
        },
    )
    db.session.commit()
    return PackOutcome(department.code, department.name, "failed", pack.id, error=pack.error)


@use_case
def _record_built(
    department: _Department, month: date, built: BuiltPack, actor: Actor
) -> PackOutcome:
    pack = _pack_row(department, month)
    if pack.status is not None and pack.status != ReportPackStatus.FAILED:
        db.session.rollback()
        return PackOutcome(department.code, department.name, "already", pack.id)
    retried = pack.status == ReportPackStatus.FAILED
    pack.pdf = built.pdf
    pack.pdf_sha256 = built.sha256
    pack.page_count = built.page_count
    pack.error = None
    pack.sent_to = department.contact_email
    pack.status = (
        ReportPackStatus.QUEUED if department.contact_email else ReportPackStatus.NO_CONTACT
    )
    db.session.flush()
    if department.contact_email:
        message = _email(department, month, built, pack.id)
        db.session.add(message)
        db.session.flush()
        pack.outbox_message_id = message.id
    record_audit(
        actor,
        f"report_pack.{pack.status.value}",
        AUDIT_OBJECT,
        pack.id,
        after={
            "department": department.code,
            "month": month.isoformat(),
            "sha256": pack.pdf_sha256,
            "page_count": pack.page_count,
            "reports": list(built.reports),
            "sent_to": pack.sent_to,
            "retried_after_failure": retried,
        },
    )
    db.session.commit()
    return PackOutcome(
        department.code,
        department.name,
        pack.status.value,
        pack.id,
        sent_to=pack.sent_to,
        page_count=pack.page_count,
    )


def _email(department: _Department, month: date, built: BuiltPack, pack_id: int) -> OutboxMessage:
    council = current_app.config["COUNCIL_NAME"]
    recovery = current_app.config["COUNCIL_EMAIL"]
    words = month_words(month)
    pages = f"{built.page_count} page{'' if built.page_count == 1 else 's'}"
    return OutboxMessage(
        channel=OutboxChannel.EMAIL,
        template="report_pack",
        recipient=department.contact_email,
        subject=f"{department.name}: income recovery report pack for {words}",
        body=(
            f"The income recovery report pack for {department.name} for {words} is "
            f"attached ({pages}, PDF), with your department's figures only.\n\n"
            + (
                "It holds:\n" + "".join(f"- {title}\n" for title in built.titles)
                if built.titles
                else "It holds no report yet: the reports in the pack are being chosen.\n"
            )
            + "\nIt may hold personal data about debtors: keep it within the council.\n\n"
            f"Questions about the figures: {recovery}.\n\n{council} income recovery"
        ),
        status=OutboxStatus.PENDING,
        payload={"attachment": {"document": DOCUMENT, "id": pack_id}},
        # One email per department and month, whatever happens to the run.
        dedupe_key=f"report-pack:{department.id}:{month:%Y-%m}",
    )


def _filename(code: str, month: date) -> str:
    safe = "".join(ch for ch in code.lower() if ch.isalnum() or ch in "-_") or "department"
    return f"report-pack-{safe}-{month:%Y-%m}.pdf"


def _attachment(pack_id: int) -> documents.Attachment:
    row = db.session.execute(
        sa.select(ReportPack.pdf, ReportPack.month, ServiceDepartment.code)
        .join(ServiceDepartment, ServiceDepartment.id == ReportPack.department_id)
        .where(ReportPack.id == pack_id)
    ).one_or_none()
    if row is None or row.pdf is None:
        raise NotFound(f"No report pack {pack_id} with a PDF")
    return documents.Attachment(_filename(row.code, row.month), "application/pdf", bytes(row.pdf))


# The outbox worker attaches the stored PDF when it sends the email. This module is
# imported by the back office blueprint (backoffice/report_packs.py), so by every
# process that builds the app, the worker included.
documents.register(DOCUMENT, _attachment)


# --- the back office ----------------------------------------------------------------------


@dataclass(frozen=True)
class PackListing:
    pack_id: int
    month: date
    department_code: str
    department_name: str
    status: str
    sent_to: str | None
    page_count: int | None
    sha256: str | None
    error: str | None
    created_at: datetime
    has_pdf: bool
    email_status: str | None  # the outbox message's: pending, sent, delivered, failed

    @property
    def filename(self) -> str:
        return _filename(self.department_code, self.month)


@read_only
def recent_packs(limit: int = 600) -> list[PackListing]:
    """The packs kept, newest month first, by department name within a month."""
    rows = db.session.execute(
        sa.select(
            ReportPack.id,
            ReportPack.month,
            ServiceDepartment.code,
            ServiceDepartment.name,
            ReportPack.status,
            ReportPack.sent_to,
            ReportPack.page_count,
            ReportPack.pdf_sha256,
            ReportPack.error,
            ReportPack.created_at,
            OutboxMessage.status.label("email_status"),
        )
        .join(ServiceDepartment, ServiceDepartment.id == ReportPack.department_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == ReportPack.outbox_message_id)
        .order_by(ReportPack.month.desc(), ServiceDepartment.name, ReportPack.id)
        .limit(limit)
    ).all()
    return [
        PackListing(
            pack_id=r.id,
            month=r.month,
            department_code=r.code,
            department_name=r.name,
            status=ReportPackStatus(r.status).value,
            sent_to=r.sent_to,
            page_count=r.page_count,
            sha256=r.pdf_sha256,
            error=r.error,
            created_at=r.created_at,
            has_pdf=r.pdf_sha256 is not None,
            email_status=None if r.email_status is None else OutboxStatus(r.email_status).value,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class PackFile:
    filename: str
    pdf: bytes
    sha256: str


@use_case
def download_pack(pack_id: int, actor: Actor) -> PackFile:
    """The stored PDF of a pack, for a person to download; who took a copy is recorded."""
    row = db.session.execute(
        sa.select(ReportPack.pdf, ReportPack.pdf_sha256, ReportPack.month, ServiceDepartment.code)
        .join(ServiceDepartment, ServiceDepartment.id == ReportPack.department_id)
        .where(ReportPack.id == pack_id)
    ).one_or_none()
    if row is None or row.pdf is None:
        raise NotFound(f"No report pack {pack_id} with a PDF")
    record_audit(
        actor,
        "report_pack.downloaded",
        AUDIT_OBJECT,
        pack_id,
        after={"department": row.code, "month": row.month.isoformat(), "sha256": row.pdf_sha256},
    )
    db.session.commit()
    return PackFile(_filename(row.code, row.month), bytes(row.pdf), row.pdf_sha256)
