"""The daily print batch: every letter waiting, in one print-ready PDF and a manifest.

build_batch takes every letter waiting (an outbox row on the "letter" channel, still
PENDING, in no batch), renders those not rendered yet (a chunk at a time, each chunk
committed: a build that stops half way resumes where it stopped), and writes under
PRINT_BATCH_DIR/<date>-<id>/ one merged PDF for duplex printing (each letter starts
on an odd page: a blank page follows a letter with an odd number of pages, and the
manifest says so) and a manifest CSV for the hybrid-mail provider, recording both
files' SHA-256 and the counts. One batch is in play (built) at a time, which a partial
unique index enforces: building again returns that batch and says so.

Nothing is recorded as sent until the batch is released (release_batch, by an officer
who checked it): then its letters become SENT, each account's timeline says "Letter
posted", and a Letter of Claim in it is posted today with 30 days to reply
(Pre-Action Protocol for Debt Claims). withdraw_batch puts the letters back to wait
for the next batch; its files are kept, renamed as withdrawn.

Memory: the merged PDF is assembled from stored letters read a chunk at a time and
written to disk; only pypdf's page objects for the batch stay in memory
(bench/bench_print_batch.py measures it).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from shared import clock
from shared.domain.names import display_name
from shared.extensions import db
from shared.formatting import long_date
from shared.models import (
    AuditLog,
    ContactEvent,
    ContactKind,
    DebtorAccount,
    LetterDocument,
    LetterOfClaim,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
    PrintBatch,
    PrintBatchStatus,
)
from shared.services.actors import Actor
from shared.services.bank_statements import bulk
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.history import record_audit
from shared.services.messages import letters
from shared.services.messages.print_batch_reads import (
    BatchView,
    batch_in_play,
    download,
    download_name,
    get_batch,
    letter_pdf,
    recent_batches,
    waiting_by_template,
    waiting_filter,
)
from shared.services.unit_of_work import use_case

CHUNK = 200  # letters read, marked or recorded at a time
PRE_ACTION_REPLY_DAYS = 30  # Pre-Action Protocol for Debt Claims: 30 days to reply
MANIFEST_COLUMNS = (
    "sequence",
    "outbox_message_id",
    "account_reference",
    "name",
    "address_line_1",
    "address_line_2",
    "address_line_3",
    "address_line_4",
    "address_line_5",
    "postcode",
    "pages",
    "first_page",
    "template",
    "language",
    "blank_page_after",
)
NOTHING_WAITING = "No letters waiting: nothing was built"

__all__ = [
    "AlreadyBuilt",
    "BatchView",
    "Built",
    "Change",
    "NothingWaiting",
    "batch_in_play",
    "build_batch",
    "download",
    "download_name",
    "get_batch",
    "letter_pdf",
    "recent_batches",
    "release_batch",
    "waiting_by_template",
    "withdraw_batch",
]


@dataclass(frozen=True)
class Built:
    """What build_batch did: `created` False when a batch was in play already."""

    batch: BatchView
    created: bool

    @property
    def message(self) -> str:
        b = self.batch
        if self.created:
            return (
                f"Print batch {b.name} built: {b.letter_count:,} letters, {b.page_count:,} "
                "pages. Check it, then release it to the printer"
            )
        return (
            f"Print batch {b.name} was already built on {long_date(b.batch_date)} by "
            f"{b.built_by} ({b.letter_count:,} letters) and waits for release: nothing new "
            "was built"
        )


@dataclass(frozen=True)
class Change:
    """What a release or withdrawal did: `changed` False when it had been done already."""

    batch: BatchView
    changed: bool


class AlreadyBuilt(Conflict):
    def __init__(self, batch: BatchView):
        self.batch = batch
        super().__init__(Built(batch, created=False).message)


class NothingWaiting(InvalidRequest):
    def __init__(self):
        super().__init__(NOTHING_WAITING)


# --- building -------------------------------------------------------------------------


def _chunks(ids: list[int], size: int = CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _folder(batch: PrintBatch) -> Path:
    return (
        Path(current_app.config["PRINT_BATCH_DIR"]) / f"{batch.batch_date.isoformat()}-{batch.id}"
    )


def build_batch(actor: Actor, on: date | None = None, *, alert_officers: bool = False) -> Built:
    """Build the print batch of every letter waiting (see the module docstring). Refused
    with NothingWaiting when no letter waits; a batch already built is returned."""
    on = on or clock.today()
    existing = batch_in_play()
    if existing is not None:
        return Built(existing, created=False)
    now = clock.utcnow()
    ids = list(
        db.session.scalars(
            sa.select(OutboxMessage.id).where(waiting_filter(now)).order_by(OutboxMessage.id)
        )
    )
    db.session.rollback()  # end the read: rendering commits a chunk at a time
    if not ids:
        raise NothingWaiting()
    letters.ensure_rendered(ids)
    return _assemble(actor, on, ids, now, alert_officers)


@use_case
def _assemble(actor: Actor, on: date, ids: list[int], now: datetime, alert: bool) -> Built:
    batch = PrintBatch(
        batch_date=on, status=PrintBatchStatus.BUILT, built_by_staff_id=actor.staff_id
    )
    db.session.add(batch)
    try:
        db.session.flush()
    except IntegrityError:
        # Built by someone else at the same moment (the job and an officer): theirs stands.
        db.session.rollback()
        existing = batch_in_play()
        if existing is None:
            raise Conflict("Another batch was built at the same moment: try again") from None
        return Built(existing, created=False)
    claimed = 0
    for part in _chunks(ids):
        claimed += db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_(part), waiting_filter(now))
            .values(print_batch_id=batch.id),
            execution_options={"synchronize_session": False},
        ).rowcount
    if not claimed:  # every one was cancelled or taken meanwhile
        raise NothingWaiting()
    folder = _folder(batch)
    folder.mkdir(parents=True, exist_ok=True)
    pdf_path = folder / f"letters-{batch.batch_date.isoformat()}-{batch.id}.pdf"
    manifest_path = folder / f"manifest-{batch.batch_date.isoformat()}-{batch.id}.csv"
    letter_count, page_count, sha256 = _write_files(batch.id, pdf_path, manifest_path)
    batch.letter_count, batch.page_count = letter_count, page_count
    batch.pdf_path, batch.manifest_path, batch.pdf_sha256 = (
        str(pdf_path),
        str(manifest_path),
        sha256,
    )
    record_audit(
        actor,
        "print_batch.built",
        "print_batch",
        batch.id,
        after={
            "batch_date": on.isoformat(),
            "letters": letter_count,
            "pages": page_count,
            "pdf_sha256": sha256,
            "manifest_sha256": hashlib.sha256(manifest_path.read_bytes()).hexdigest(),
        },
    )
    if alert:
        _alert(batch)
    db.session.commit()
    return Built(get_batch(batch.id), created=True)


def _in_batch(batch_id: int) -> Iterator[list]:
    """A row of plain columns (no ORM objects) per letter in the batch, in order, a chunk
    at a time, so only one chunk's PDFs are in memory."""
    ids = list(
        db.session.scalars(
            sa.select(OutboxMessage.id)
            .where(OutboxMessage.print_batch_id == batch_id)
            .order_by(OutboxMessage.id)
        )
    )
    for part in _chunks(ids):
        rows = db.session.execute(
            sa.select(
                OutboxMessage.id,
                OutboxMessage.template,
                OutboxMessage.recipient,
                OutboxMessage.payload,
                DebtorAccount.reference,
                DebtorAccount.kind,
                DebtorAccount.title,
                DebtorAccount.forename,
                DebtorAccount.surname,
                DebtorAccount.organisation_name,
                LetterDocument.pdf,
                LetterDocument.page_count,
                LetterDocument.sha256,
            )
            .join(LetterDocument, LetterDocument.outbox_message_id == OutboxMessage.id)
            .outerjoin(DebtorAccount, DebtorAccount.id == OutboxMessage.account_id)
            .where(OutboxMessage.id.in_(part))
            .order_by(OutboxMessage.id)
        ).all()
        if len(rows) != len(part):
            raise Conflict("Some letters in the batch have no stored PDF: build it again")
        yield rows


def _write_files(batch_id: int, pdf_path: Path, manifest_path: Path) -> tuple[int, int, str]:
    """Merge the letters into one PDF and write the manifest; (letters, pages, sha256)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    manifest = io.StringIO()
    out = csv.writer(manifest, lineterminator="\r\n")
    out.writerow(MANIFEST_COLUMNS)
    sequence = pages = 0
    for rows in _in_batch(batch_id):
        for row in rows:
            (message_id, template, recipient, payload, reference, *name_parts) = row[:10]
            pdf, page_count, sha256 = row[10:]
            if hashlib.sha256(pdf).hexdigest() != sha256:
                raise Conflict(f"The stored PDF of letter {message_id} is damaged: not built")
            sequence += 1
            first_page = pages + 1
            reader = PdfReader(io.BytesIO(pdf))
            for page in reader.pages:
                writer.add_page(page)
            pages += len(reader.pages)
            # Duplex: the next letter must start on the front of a new sheet.
            blank = len(reader.pages) % 2 == 1
            if blank:
                box = reader.pages[0].mediabox
                writer.add_blank_page(width=box.width, height=box.height)
                pages += 1
            account_name = display_name(*name_parts) if reference is not None else ""
            who = letters.addressee_from(payload, recipient, account_name)
            street = list(who.street_lines[:5]) + [""] * (5 - len(who.street_lines[:5]))
            out.writerow(
                [
                    sequence,
                    message_id,
                    reference or "",
                    who.name,
                    *street,
                    who.postcode,
                    page_count,
                    first_page,
                    template,
                    letters.language_in(payload),
                    "yes" if blank else "no",
                ]
            )
    tmp_pdf = pdf_path.with_suffix(".pdf.part")
    with open(tmp_pdf, "wb") as handle:
        writer.write(handle)
    os.replace(tmp_pdf, pdf_path)
    manifest_path.write_bytes(manifest.getvalue().encode("utf-8"))
    digest = hashlib.sha256()
    with open(pdf_path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return sequence, pages, digest.hexdigest()


def alert_dedupe_key(batch_id: int) -> str:
    return f"print-batch-ready:{batch_id}"


def _alert(batch: PrintBatch) -> None:
    """Tell the recovery team a batch waits to be checked and released (once a batch)."""
    config = current_app.config
    name = f"{batch.batch_date.isoformat()}-{batch.id}"
    db.session.add(
        OutboxMessage(
            channel=OutboxChannel.EMAIL,
            template="print_batch_ready",
            recipient=config["COUNCIL_EMAIL"],
            subject=f"Print batch {name} ready to check and release",
            body="\n".join(
                [
                    f"The print batch for {long_date(batch.batch_date)} is built and waits "
                    "for an officer to check it and release it to the printer.",
                    "",
                    f"Letters: {batch.letter_count:,}",
                    f"Pages (with blank backs for duplex printing): {batch.page_count:,}",
                    "",
                    "Its letters are not posted, and not recorded as sent, until it is "
                    f"released: {config['PUBLIC_BASE_URL']}/backoffice/print-batches",
                ]
            ),
            dedupe_key=alert_dedupe_key(batch.id),
        )
    )


# --- releasing and withdrawing --------------------------------------------------------


def _locked(batch_id: int) -> PrintBatch:
    row = db.session.scalar(
        sa.select(PrintBatch).where(PrintBatch.id == batch_id).with_for_update()
    )
    if row is None:
        raise NotFound(f"No print batch {batch_id}")
    return row


@use_case
def release_batch(actor: Actor, batch_id: int, checked: bool) -> Change:
    """Release a built batch to the printer: its letters are posted (SENT) today, each
    on its account's timeline, and a Letter of Claim in it gets 30 days to reply. A
    second release changes nothing; a withdrawn batch cannot be released."""
    if not checked:
        raise InvalidRequest("Confirm you have checked the batch")
    row = _locked(batch_id)
    if row.status == PrintBatchStatus.RELEASED:
        return Change(get_batch(batch_id), changed=False)
    if row.status != PrintBatchStatus.BUILT:
        raise Conflict(f"Print batch {batch_id} was withdrawn: it cannot be released")
    now, today = clock.utcnow(), clock.today()
    ids = list(
        db.session.scalars(
            sa.select(OutboxMessage.id).where(
                OutboxMessage.print_batch_id == batch_id,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
        )
    )
    for part in _chunks(ids, 1000):
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_(part), OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENT, sent_at=now),
            execution_options={"synchronize_session": False},
        )
        _history(actor, part, now)
    in_batch = sa.select(OutboxMessage.id).where(OutboxMessage.print_batch_id == batch_id)
    claims = db.session.execute(
        sa.update(LetterOfClaim)
        .where(LetterOfClaim.outbox_message_id.in_(in_batch), LetterOfClaim.posted_on.is_(None))
        .values(posted_on=today, respond_by=today + timedelta(days=PRE_ACTION_REPLY_DAYS)),
        execution_options={"synchronize_session": False},
    ).rowcount
    row.status = PrintBatchStatus.RELEASED
    row.released_at = now
    row.released_by_staff_id = actor.staff_id
    record_audit(
        actor,
        "print_batch.released",
        "print_batch",
        batch_id,
        before={"status": "built"},
        after={
            "status": "released",
            "letters_posted": len(ids),
            "letters_of_claim": claims,
            "pdf_sha256": row.pdf_sha256,
        },
    )
    db.session.commit()
    db.session.expire_all()
    return Change(get_batch(batch_id), changed=True)


def _history(actor: Actor, ids: list[int], now: datetime) -> None:
    """A "Letter posted" timeline line and an audit row per letter, written in bulk."""
    rows = db.session.execute(
        sa.select(
            OutboxMessage.id,
            OutboxMessage.account_id,
            OutboxMessage.subject,
            OutboxMessage.template,
        ).where(OutboxMessage.id.in_(ids), OutboxMessage.account_id.is_not(None))
    ).all()
    bulk.insert(
        ContactEvent,
        [
            {
                "account_id": account_id,
                "occurred_at": now,
                "kind": ContactKind.LETTER,
                "summary": f"Letter posted: {subject or template}"[:300],
                "staff_id": actor.staff_id,
                "portal_user_id": actor.portal_user_id,
                "outbox_message_id": message_id,
                "created_at": now,
            }
            for message_id, account_id, subject, template in rows
        ],
    )
    bulk.insert(
        AuditLog,
        [
            {
                "occurred_at": now,
                "actor_type": actor.type,
                "actor_id": actor.id,
                "action": "letter.posted",
                "object_type": "outbox_message",
                "object_id": str(message_id),
                "account_id": account_id,
                "after": {"status": "sent", "template": template},
                "source_ip": actor.source_ip,
            }
            for message_id, account_id, _, template in rows
        ],
    )


@use_case
def withdraw_batch(actor: Actor, batch_id: int, reason: str) -> Change:
    """Withdraw a built batch: its letters wait for the next batch again; its files are
    kept, renamed "WITHDRAWN-...", so nobody sends them to the printer by mistake."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidRequest("Enter why the batch is being withdrawn")
    if len(reason) > 200:
        raise InvalidRequest("The reason must be 200 characters or fewer")
    row = _locked(batch_id)
    if row.status == PrintBatchStatus.WITHDRAWN:
        return Change(get_batch(batch_id), changed=False)
    if row.status != PrintBatchStatus.BUILT:
        raise Conflict(
            f"Print batch {batch_id} was released to the printer: it cannot be withdrawn"
        )
    returned = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.print_batch_id == batch_id, OutboxMessage.status == OutboxStatus.PENDING
        )
        .values(print_batch_id=None),
        execution_options={"synchronize_session": False},
    ).rowcount
    row.status = PrintBatchStatus.WITHDRAWN
    row.withdrawn_reason = reason
    files = [
        (row.pdf_path, _withdrawn_name(row.pdf_path)),
        (row.manifest_path, _withdrawn_name(row.manifest_path)),
    ]
    row.pdf_path, row.manifest_path = files[0][1], files[1][1]
    record_audit(
        actor,
        "print_batch.withdrawn",
        "print_batch",
        batch_id,
        before={"status": "built"},
        after={"status": "withdrawn", "reason": reason, "letters_returned": returned},
    )
    db.session.commit()
    for old, new in files:  # renamed once the withdrawal is recorded
        if old and new and Path(old).is_file():
            os.replace(old, new)
    db.session.expire_all()
    return Change(get_batch(batch_id), changed=True)


def _withdrawn_name(path: str | None) -> str | None:
    if not path:
        return path
    return str(Path(path).with_name(f"WITHDRAWN-{Path(path).name}"))
