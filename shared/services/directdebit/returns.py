"""Importing a report from Bacs (AUDDIS, ARUDD, ADDACS, DDIC) and acting on it.

One transaction per report: the report row, one item per advice with what was done
in words, the ledger reversals, the mandate and collection changes, the payer
messages (outbox) and the timeline and audit rows are committed together, or (a
file refused, any error) nothing is.

- The same file twice (same SHA-256) changes nothing: AlreadyImported says when and
  by whom it was imported. A different report naming a return already applied finds
  the collection returned and does nothing again (one effect).
- A file that is not a Bacs report, is malformed, holds a DTD, or is for another
  service user number is refused whole (ReportRejected, one line).
- An advice naming a reference no mandate has is kept as an item for an officer.
- The file is kept with every payer account number and sort code masked.

What each reason asks for is shared/domain/bacs/reasons.py; carrying it out is
returns_apply.py.
"""

from __future__ import annotations

import hashlib
import logging

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from shared.domain.bacs import reports
from shared.domain.bacs.reports import MAX_REPORT_BYTES, ReportRefused
from shared.extensions import db
from shared.formatting import london_time
from shared.jobs.outbox import enqueue_messages
from shared.models import BacsReport, BacsReportItem, BacsReportKind, StaffUser
from shared.money import format_gbp
from shared.services.actors import Actor
from shared.services.bank_statements import bulk
from shared.services.directdebit.returns_apply import Applier, Outcome
from shared.services.directdebit.returns_ledger import AuditRow, write_history
from shared.services.errors import Conflict, InvalidRequest
from shared.services.history import record_audit
from shared.services.unit_of_work import use_case

__all__ = ["MAX_REPORT_BYTES", "AlreadyImported", "ReportRejected", "import_report"]

logger = logging.getLogger(__name__)

KIND_WORDS = {"arudd": "ARUDD", "addacs": "ADDACS", "auddis": "AUDDIS", "ddic": "DDIC"}


class ReportRejected(InvalidRequest):
    """The file was refused whole; the message is one line saying why."""


class AlreadyImported(Conflict):
    """This very file was imported before; nothing changed."""

    def __init__(self, message: str, report_id: int) -> None:
        super().__init__(message)
        self.report_id = report_id


def _already(digest: str) -> AlreadyImported | None:
    row = db.session.execute(
        sa.select(BacsReport.id, BacsReport.imported_at, StaffUser.full_name)
        .outerjoin(StaffUser, StaffUser.id == BacsReport.imported_by_staff_id)
        .where(BacsReport.sha256 == digest)
    ).first()
    if row is None:
        return None
    who = row.full_name or "the system"
    return AlreadyImported(
        f"This file was already imported on {london_time(row.imported_at)} by {who}: "
        "nothing was changed",
        row.id,
    )


@use_case
def import_report(actor: Actor, file_name: str | None, content: bytes) -> BacsReport:
    """Import one Bacs report file and act on every advice in it (one commit)."""
    digest = hashlib.sha256(content).hexdigest()
    earlier = _already(digest)
    if earlier is not None:
        raise earlier
    try:
        report = reports.read_report(
            content, service_user_number=current_app.config["BACS_SERVICE_USER_NUMBER"]
        )
    except ReportRefused as exc:
        raise ReportRejected(f"{exc}. Nothing was imported") from None
    row = BacsReport(
        kind=BacsReportKind(report.kind),
        sha256=digest,
        file_name=(file_name or "report.xml")[:200],
        report_date=report.report_date,
        advice_number=(report.advice_number or None) and report.advice_number[:40],
        item_count=len(report.items),
        applied_count=0,
        routed_count=0,
        content=reports.redacted_text(content),
        imported_by_staff_id=actor.staff_id,
    )
    try:
        db.session.add(row)
        db.session.flush()
        applier = Applier(report, actor)
        outcomes = applier.run()
        _store(row, outcomes, actor)
        row.routed_count = sum(o.needs_officer for o in outcomes)
        row.applied_count = len(outcomes) - row.routed_count
        record_audit(
            actor,
            "bacs_report.imported",
            "bacs_report",
            row.id,
            after={
                "kind": report.kind,
                "sha256": digest,
                "file_name": row.file_name,
                "report_date": report.report_date.isoformat() if report.report_date else None,
                "advice_number": row.advice_number,
                "items": row.item_count,
                "applied": row.applied_count,
                "routed": row.routed_count,
            },
        )
        db.session.commit()
        _enqueue(applier.message_ids)
    except IntegrityError:
        db.session.rollback()
        earlier = _already(digest)
        if earlier is not None:
            raise earlier from None
        raise Conflict(
            "Another change to the same mandates finished first, so nothing was imported. "
            "Import the file again"
        ) from None
    return row


def _enqueue(message_ids: list[int]) -> None:
    """Send the payer messages now (written in bulk, the session hook does not see
    them); if Redis is down the outbox sweeper sends them later."""
    if not message_ids:
        return
    try:
        enqueue_messages(message_ids, new_rows=True)
    except Exception:  # committed already: a queue problem must not undo the import
        logger.exception("enqueueing outbox messages failed; the sweeper will")


def _timeline(kind: str, outcome: Outcome) -> str:
    item, t = outcome.item, outcome.treatment
    label = KIND_WORDS[kind]
    if kind == "arudd":
        amount = format_gbp(item.amount_pence or 0)
        return f"Direct Debit of {amount} returned unpaid ({label}): {t.words}"
    if kind == "ddic":
        return f"Direct Debit indemnity claim of {format_gbp(item.amount_pence or 0)}: {t.words}"
    return f"Direct Debit {outcome.mandate.reference}: {t.words} ({label})"


def _store(row: BacsReport, outcomes: list[Outcome], actor: Actor) -> None:
    """The items (the returns queue), with a timeline entry and an audit row each."""
    ids = bulk.insert(
        BacsReportItem,
        [
            dict(
                report_id=row.id,
                reference=o.item.reference[:18],
                reason_code=o.item.reason_code[:4],
                bacs_code=o.item.bacs_code,
                description=o.item.description[:200],
                amount_pence=o.item.amount_pence,
                original_processing_day=o.item.original_processing_day,
                account_id=o.account_id,
                mandate_id=o.mandate.id if o.mandate is not None else None,
                collection_id=o.collection.id if o.collection is not None else None,
                action=o.action,
                needs_officer=o.needs_officer,
            )
            for o in outcomes
        ],
        returning_ids=True,
    )
    write_history(
        (
            (
                o.account_id,
                _timeline(row.kind.value, o) if o.account_id is not None else None,
                o.action,
                AuditRow(
                    f"bacs_report.{row.kind.value}_item",
                    "bacs_report_item",
                    item_id,
                    {
                        "report_id": row.id,
                        "reference": o.item.reference,
                        "reason_code": o.item.reason_code,
                        "reason": o.treatment.words,
                        "mandate_id": o.mandate.id if o.mandate is not None else None,
                        "collection_id": o.collection.id if o.collection is not None else None,
                        "action": o.action,
                        "needs_officer": o.needs_officer,
                    },
                ),
            )
            for o, item_id in zip(outcomes, ids, strict=True)
        ),
        actor,
    )
