"""Import an invoice file from the council's finance system: every row checked
before anything is written, then the whole file written in one transaction.

Pass 1 (validating) streams the file: each row is read and checked (the layout's
rules, shared.domain.invoice_import, against the departments, income codes and VAT
rates read once), rows are assembled into invoices, and the invoice numbers are
looked up a chunk at a time. Kept in memory: where each invoice and customer was
first seen, the numbers already imported, and the first ERRORS_KEPT errors with a
count of all. Any error rejects the whole file: nothing is written but the import's
record of why.

An invoice number already stored is "already imported" (skipped, counted) when it
is the same customer's and the same total; anything else under that number is an
error. So a file imported twice, or rows imported before, change nothing; and the
same bytes twice are known by their SHA-256 before a row is read.

Pass 2 (importing) writes the invoices pass 1 assembled (kept in a temporary file,
not in memory: _Spool) with writer.Writer, all in the import's one transaction: on
PostgreSQL a crash or error anywhere applies nothing (the statements are chunked; the
transaction is one). On SQLite too, which holds its
one write lock for the whole pass. The import's own row (status, progress) is
written apart from that transaction (progress.Progress) so the status page can follow
it; its final status and counts are committed with the invoices.
"""

from __future__ import annotations

import hashlib
import io
import logging
import pickle
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import IO

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared import clock
from shared.domain.invoice_import import (
    Assembler,
    Facts,
    FileError,
    FileFormat,
    Invoice,
    RowParser,
    detect_format,
    read_rows,
)
from shared.extensions import db
from shared.models import ImportStatus, InvoiceImport, InvoiceImportFile
from shared.models.invoice_imports import IMPORT_TRANSITIONS
from shared.money import format_gbp
from shared.services import actors
from shared.services.actors import Actor
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.history import record_audit
from shared.services.invoice_import import lookups
from shared.services.invoice_import.progress import Listener, Progress
from shared.services.invoice_import.writer import Counts, Writer
from shared.services.unit_of_work import use_case

logger = logging.getLogger(__name__)

ERRORS_KEPT = 1_000
MAX_FILE_BYTES = 100 * 1024 * 1024
_LIVE = (
    ImportStatus.QUEUED,
    ImportStatus.VALIDATING,
    ImportStatus.IMPORTING,
    ImportStatus.COMPLETED,
)

Opener = Callable[[], AbstractContextManager[IO[bytes]]]


@dataclass(frozen=True)
class Submitted:
    import_id: int
    # False: these very bytes were imported already, or are being imported now; the
    # earlier import's id is import_id, and nothing new was recorded.
    created: bool


@dataclass
class _Errors:
    kept: list[tuple[int, str]] = field(default_factory=list)
    count: int = 0

    def add(self, messages: list[str]) -> None:
        for message in messages:
            self.count += 1
            if len(self.kept) < ERRORS_KEPT:
                self.kept.append((_row_of(message), message))

    def sorted(self) -> list[str]:
        return [message for _, message in sorted(self.kept, key=lambda kept: kept[0])]


def _row_of(message: str) -> int:
    words = message.split(":", 1)[0].split()
    return int(words[1]) if len(words) == 2 and words[0] == "Row" and words[1].isdigit() else 0


class _Spool:
    """Pass 1's invoices, pickled one after another into a temporary file as they are
    assembled, for pass 2 to write without reading and checking the file again (memory
    stays flat: one invoice at a time either way). Left unwritten once any error is
    found: a rejected file writes nothing."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()

    def add(self, invoice: Invoice) -> None:
        # A pickle each: one pickler for the lot would remember every object it wrote.
        pickle.dump(invoice, self.file, protocol=pickle.HIGHEST_PROTOCOL)

    def invoices(self) -> Iterator[Invoice]:
        self.file.seek(0)
        while True:
            try:
                yield pickle.load(self.file)
            except EOFError:
                return

    def close(self) -> None:
        self.file.close()


@dataclass
class _Checked:
    spool: _Spool
    rows: int = 0
    invoices: int = 0
    skip: set[str] = field(default_factory=set)
    errors: _Errors = field(default_factory=_Errors)


def digest_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _earlier(digest: str) -> InvoiceImport | None:
    return db.session.scalars(
        sa.select(InvoiceImport)
        .where(InvoiceImport.sha256 == digest, InvoiceImport.status.in_(_LIVE))
        .order_by(InvoiceImport.id.desc())
    ).first()


def _format(head: bytes, file_name: str | None, wanted: str | None) -> FileFormat:
    try:
        found = detect_format(head, file_name)
    except FileError as exc:
        raise InvalidRequest(str(exc)) from None
    if wanted is not None and FileFormat(wanted) != found:
        raise InvalidRequest(
            f"The file is not {FileFormat(wanted).value.upper()}: it reads as {found.value.upper()}"
        )
    return found


def _record(
    digest: str, file_name: str | None, file_format: FileFormat, actor: Actor
) -> InvoiceImport:
    row = InvoiceImport(
        file_name=(file_name or "")[:200] or None,
        sha256=digest,
        format=file_format,
        status=ImportStatus.QUEUED,
        created_by_staff_id=actor.staff_id,
    )
    db.session.add(row)
    db.session.flush()
    return row


def _refused_twice(digest: str) -> Submitted:
    """A concurrent submission of the same bytes won the unique index."""
    db.session.rollback()
    earlier = _earlier(digest)
    if earlier is None:
        raise Conflict("Another import of this file started at the same moment; try again")
    return Submitted(earlier.id, created=False)


@use_case
def submit_file(
    content: bytes, *, file_name: str | None, actor: Actor, file_format: str | None = None
) -> Submitted:
    """Keep an uploaded file and queue its import (the caller enqueues the job after
    this commits); the same bytes again return the earlier import, changing nothing."""
    if not content:
        raise InvalidRequest("The file is empty")
    if len(content) > MAX_FILE_BYTES:
        raise InvalidRequest(
            f"The file must be smaller than {MAX_FILE_BYTES // (1024 * 1024)} MB: "
            "split it, or import it with the command line"
        )
    found = _format(content[:8], file_name, file_format)
    digest = digest_of(content)
    earlier = _earlier(digest)
    if earlier is not None:
        return Submitted(earlier.id, created=False)
    try:
        row = _record(digest, file_name, found, actor)
        db.session.add(InvoiceImportFile(import_id=row.id, content=content))
        record_audit(
            actor,
            "invoice_import.queued",
            "invoice_import",
            row.id,
            after={"file_name": row.file_name, "sha256": digest, "bytes": len(content)},
        )
        db.session.commit()
    except IntegrityError:
        return _refused_twice(digest)
    return Submitted(row.id, created=True)


@use_case
def start_file(
    path_head: bytes,
    digest: str,
    *,
    file_name: str | None,
    actor: Actor,
    file_format: str | None = None,
) -> Submitted:
    """Record a file to be imported at once from where it is (the command line): as
    submit_file, without keeping the bytes."""
    found = _format(path_head, file_name, file_format)
    earlier = _earlier(digest)
    if earlier is not None:
        return Submitted(earlier.id, created=False)
    try:
        row = _record(digest, file_name, found, actor)
        db.session.commit()
    except IntegrityError:
        return _refused_twice(digest)
    return Submitted(row.id, created=True)


def _check_existing(pending: list[Invoice], checked: _Checked) -> None:
    """Numbers already stored: skipped if the same customer's for the same total."""
    if not pending:
        return
    existing = lookups.existing_invoices([i.header.invoice_number for i in pending])
    for invoice in pending:
        found = existing.get(invoice.header.invoice_number)
        if found is None:
            continue
        if (
            found.finance_customer_id == invoice.customer.customer_id
            and found.total_pence == invoice.total_pence
        ):
            checked.skip.add(invoice.header.invoice_number)
        else:
            checked.errors.add(
                [
                    f"Row {invoice.first_row}: invoice number {invoice.header.invoice_number} "
                    f"is already used, by account {found.account_reference}'s invoice for "
                    f"{format_gbp(found.total_pence)} (customer "
                    f"{found.finance_customer_id or 'not from the finance system'}), not "
                    f"customer {invoice.customer.customer_id}'s for "
                    f"{format_gbp(invoice.total_pence)}"
                ]
            )


def _validate(
    stream, file_format: FileFormat, facts: Facts, progress: Progress, spool: _Spool
) -> _Checked:
    checked = _Checked(spool)
    assembler = Assembler()
    pending: list[Invoice] = []

    def finished(invoice: Invoice | None) -> None:
        nonlocal pending
        if invoice is None:
            return
        checked.invoices += 1
        if not checked.errors.count:
            spool.add(invoice)
        pending.append(invoice)
        if len(pending) >= lookups.CHUNK:
            _check_existing(pending, checked)
            pending = []

    parser = RowParser(facts)
    try:
        for raw in read_rows(stream, file_format):
            checked.rows += 1
            parsed = parser.parse(raw)
            if isinstance(parsed, list):
                checked.errors.add(parsed)
            else:
                errors, invoice = assembler.add(parsed)
                checked.errors.add(errors)
                finished(invoice)
            progress.advance()
        errors, invoice = assembler.finish()
        checked.errors.add(errors)
        finished(invoice)
    except FileError as exc:
        checked.errors.add([str(exc)])
        return checked
    _check_existing(pending, checked)
    if checked.rows == 0:
        checked.errors.add(["The file has a header row but no invoices"])
    progress.finish_pass()
    return checked


def _finish(import_id: int, status: ImportStatus, **values) -> None:
    """The import's last change of status, in the caller's transaction."""
    allowed = [s for s, onward in IMPORT_TRANSITIONS.items() if status in onward]
    result = db.session.execute(
        sa.update(InvoiceImport)
        .where(InvoiceImport.id == import_id, InvoiceImport.status.in_(allowed))
        .values(status=status, finished_at=clock.utcnow(), **values)
    )
    if result.rowcount != 1:
        raise Conflict(f"Import {import_id} was not {' or '.join(allowed)}")
    db.session.execute(sa.delete(InvoiceImportFile).where(InvoiceImportFile.import_id == import_id))


@dataclass(frozen=True)
class Outcome:
    import_id: int
    status: ImportStatus
    rows: int
    counts: Counts | None
    skipped: int
    errors: list[str]
    error_count: int


def run_import(
    import_id: int, open_stream: Opener, *, actor: Actor, listener: Listener | None = None
) -> Outcome:
    """Check every row of a queued import's file; if none is wrong, write its invoices,
    all in one transaction. Returns what happened (rejected with the row errors, or
    completed with the counts); an unexpected error marks the import failed and is
    raised again."""
    record = db.session.get(InvoiceImport, import_id)
    if record is None:
        raise NotFound(f"No invoice import {import_id}")
    if record.status != ImportStatus.QUEUED:
        raise Conflict(f"Import {import_id} is {record.status.value}, not queued: it has run")
    file_format = FileFormat(record.format)
    db.session.rollback()  # nothing held while the progress connection writes the row
    progress = Progress(import_id, listener)
    spool = _Spool()
    try:
        progress.move_to(ImportStatus.VALIDATING)
        facts = lookups.facts()
        with open_stream() as stream:
            checked = _validate(stream, file_format, facts, progress, spool)
        if checked.errors.count:
            errors = checked.errors.sorted()
            _finish(
                import_id,
                ImportStatus.REJECTED,
                rows_total=checked.rows,
                rows_processed=checked.rows,
                errors=errors,
                error_count=checked.errors.count,
            )
            record_audit(
                actor,
                "invoice_import.rejected",
                "invoice_import",
                import_id,
                after={"rows": checked.rows, "errors": checked.errors.count, "first": errors[:5]},
            )
            db.session.commit()
            return Outcome(
                import_id,
                ImportStatus.REJECTED,
                checked.rows,
                None,
                0,
                errors,
                checked.errors.count,
            )
        progress.move_to(ImportStatus.IMPORTING, total=checked.rows)
        counts = Writer(import_id, actor, checked.skip).write(spool.invoices(), progress)
        _finish(
            import_id,
            ImportStatus.COMPLETED,
            rows_total=checked.rows,
            rows_processed=checked.rows,
            invoices_created=counts.invoices_created,
            invoices_skipped=len(checked.skip),
            accounts_created=counts.accounts_created,
            accounts_updated=counts.accounts_updated,
            total_pence=counts.total_pence,
        )
        record_audit(
            actor,
            "invoice_import.completed",
            "invoice_import",
            import_id,
            after={
                "rows": checked.rows,
                "invoices_created": counts.invoices_created,
                "invoices_skipped": len(checked.skip),
                "accounts_created": counts.accounts_created,
                "accounts_updated": counts.accounts_updated,
                "total_pence": counts.total_pence,
            },
        )
        db.session.commit()
        return Outcome(
            import_id, ImportStatus.COMPLETED, checked.rows, counts, len(checked.skip), [], 0
        )
    except BaseException as exc:
        db.session.rollback()
        _mark_failed(import_id, exc)
        raise
    finally:
        spool.close()
        progress.close()


def _mark_failed(import_id: int, exc: BaseException) -> None:
    message = (
        "Another import or invoice took one of this file's invoice numbers or customer "
        "ids while it ran: nothing was imported. Import the file again."
        if isinstance(exc, IntegrityError)
        else f"The import stopped on an error ({type(exc).__name__}): nothing was imported"
    )
    try:
        _finish(import_id, ImportStatus.FAILED, errors=[message], error_count=1)
        db.session.commit()
    except Exception:  # noqa: BLE001 - the original error is the one to raise
        db.session.rollback()
        logger.exception("could not mark invoice import %s failed", import_id)


def run_stored_import(import_id: int) -> Outcome | None:
    """The worker's entry: run a queued import from its stored file, as the officer
    who uploaded it. None when it is not queued (run already: the job is idempotent)."""
    record = db.session.get(InvoiceImport, import_id)
    if record is None or record.status != ImportStatus.QUEUED:
        db.session.rollback()
        return None
    content = db.session.scalar(
        sa.select(InvoiceImportFile.content).where(InvoiceImportFile.import_id == import_id)
    )
    if content is None:
        raise NotFound(f"Invoice import {import_id} has no stored file")
    actor = (
        actors.staff(record.created_by_staff_id)
        if record.created_by_staff_id is not None
        else actors.SYSTEM
    )
    return run_import(import_id, lambda: io.BytesIO(content), actor=actor)
