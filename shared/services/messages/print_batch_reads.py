"""Reading the print batches: the view an officer checks, the list, the letters waiting,
a batch's files as written (the PDF checked against its SHA-256) and a letter's PDF for
the case (shared/services/messages/print_batches.py builds, releases and withdraws)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from shared import clock
from shared.extensions import db
from shared.models import (
    LetterDocument,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
    PrintBatch,
    PrintBatchStatus,
    StaffUser,
)
from shared.services.actors import Actor
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.history import record_audit
from shared.services.messages import letters


@dataclass(frozen=True)
class BatchView:
    batch_id: int
    batch_date: date
    status: PrintBatchStatus
    letter_count: int
    page_count: int
    pdf_path: str | None
    manifest_path: str | None
    pdf_sha256: str | None
    built_at: datetime
    built_by: str
    released_at: datetime | None
    released_by: str | None
    withdrawn_reason: str | None

    @property
    def name(self) -> str:
        return f"{self.batch_date.isoformat()}-{self.batch_id}"


_BUILT_BY, _RELEASED_BY = aliased(StaffUser), aliased(StaffUser)


def _views(where, limit: int | None = None) -> list[BatchView]:
    query = (
        sa.select(PrintBatch, _BUILT_BY.full_name, _RELEASED_BY.full_name)
        .outerjoin(_BUILT_BY, _BUILT_BY.id == PrintBatch.built_by_staff_id)
        .outerjoin(_RELEASED_BY, _RELEASED_BY.id == PrintBatch.released_by_staff_id)
        .where(where)
        .order_by(PrintBatch.id.desc())
        .limit(limit)
    )
    return [
        BatchView(
            batch_id=row.id,
            batch_date=row.batch_date,
            status=row.status,
            letter_count=row.letter_count,
            page_count=row.page_count,
            pdf_path=row.pdf_path,
            manifest_path=row.manifest_path,
            pdf_sha256=row.pdf_sha256,
            built_at=row.built_at,
            built_by=built or "the system",
            released_at=row.released_at,
            released_by=released if row.released_at else None,
            withdrawn_reason=row.withdrawn_reason,
        )
        for row, built, released in db.session.execute(query)
    ]


def get_batch(batch_id: int) -> BatchView:
    found = _views(PrintBatch.id == batch_id)
    if not found:
        raise NotFound(f"No print batch {batch_id}")
    return found[0]


def batch_in_play() -> BatchView | None:
    found = _views(PrintBatch.status == PrintBatchStatus.BUILT, limit=1)
    return found[0] if found else None


def recent_batches(limit: int = 30) -> list[BatchView]:
    return _views(sa.true(), limit=limit)


def waiting_filter(now: datetime):
    return sa.and_(
        OutboxMessage.channel == OutboxChannel.LETTER,
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.print_batch_id.is_(None),
        OutboxMessage.created_at <= now,
        sa.or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now),
    )


def waiting_by_template() -> list[tuple[str, int]]:
    """The letters waiting for the next batch, counted by template, most first."""
    count = sa.func.count(OutboxMessage.id)
    rows = db.session.execute(
        sa.select(OutboxMessage.template, count)
        .where(waiting_filter(clock.utcnow()))
        .group_by(OutboxMessage.template)
        .order_by(count.desc(), OutboxMessage.template)
    )
    return [(template, int(n)) for template, n in rows]


def letter_pdf(message_id: int) -> bytes:
    """A letter's PDF for the case page: as stored (printed), else rendered now."""
    stored = db.session.get(LetterDocument, message_id)
    if stored is not None:
        return stored.pdf
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.channel != OutboxChannel.LETTER:
        raise NotFound(f"No letter {message_id}")
    return letters.render_letter(message).pdf


def download(batch_id: int, which: str = "pdf", *, actor: Actor | None = None) -> bytes:
    """The batch's merged PDF (checked against its SHA-256) or manifest CSV; the download
    is recorded in the audit log when an actor is given."""
    view = get_batch(batch_id)
    if which not in ("pdf", "manifest"):
        raise InvalidRequest("Choose the PDF or the manifest")
    path = view.pdf_path if which == "pdf" else view.manifest_path
    if not path or not Path(path).is_file():
        raise NotFound(f"The {which} of print batch {view.name} is not on disk")
    content = Path(path).read_bytes()
    if which == "pdf" and hashlib.sha256(content).hexdigest() != view.pdf_sha256:
        raise Conflict(
            f"The PDF of print batch {view.name} has changed since it was built (its "
            "SHA-256 differs): do not print it; withdraw the batch and build it again"
        )
    if actor is not None:
        record_audit(
            actor, "print_batch.downloaded", "print_batch", batch_id, after={"which": which}
        )
        db.session.commit()
    return content


def download_name(view: BatchView, which: str) -> str:
    return Path((view.pdf_path if which == "pdf" else view.manifest_path) or "").name
