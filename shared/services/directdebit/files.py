"""The day's Bacs collection file: build it, withdraw it before release, release it.

build_file reads what is due for a processing day (shared/domain/bacs/selection.py),
writes the Standard 18 file (shared/domain/bacs/standard18.py), stores it with its
SHA-256, and marks what it carries, in one commit: collections SUBMITTED in the
file, mandates whose 0N it carries SUBMITTED (lodged on the processing day), and
cancelled mandates whose 0C it carries. One file in play per processing day: a
second build is refused and names the first. withdraw_file undoes all of that for
a file not yet released; release_file hands it over (BUILT to RELEASED), which makes
the mandates it lodged ACTIVE and changes nothing else.

Memory stays flat in the number of collections: rows are read in keyset batches of
plain columns (no ORM object per collection), marked with one UPDATE per batch, and
the per-account timeline and audit rows are written per batch from a grouped query.
Bank details are opened here only, batch by batch, and never leave the file text.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from shared import clock
from shared.domain.bacs import selection, standard18
from shared.domain.bacs.calendar import add_working_days, on_or_after
from shared.extensions import db
from shared.formatting import london_time, long_date
from shared.models import (
    AdvanceNotice,
    BacsFile,
    BacsFileStatus,
    Collection,
    CollectionStatus,
    DebtorAccount,
    Mandate,
    MandateStatus,
    OutboxChannel,
    OutboxMessage,
)
from shared.services.actors import Actor
from shared.services.directdebit import files_history as history
from shared.services.directdebit.bank_details import open_sealed
from shared.services.directdebit.files_reads import (
    FileView,
    file_in_play,
    get_file,
    recent_files,
    stored_content,
    summary_lines,
)
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.history import record_audit
from shared.services.unit_of_work import use_case

BATCH = 2000  # rows read at a time
MARK_CHUNK = 5000  # ids one UPDATE marks

__all__ = [
    "AlreadyBuilt",
    "Change",
    "FileView",
    "NothingToSubmit",
    "build_file",
    "download_file",
    "file_in_play",
    "get_file",
    "next_processing_day",
    "recent_files",
    "release_file",
    "stored_content",
    "summary_lines",
    "withdraw_file",
]


@dataclass(frozen=True)
class Change:
    """What a withdraw or release did: `changed` False when it had been done already."""

    file: FileView
    changed: bool


class AlreadyBuilt(Conflict):
    """The processing day has a file in play already; `file` is that file."""

    def __init__(self, file: FileView):
        self.file = file
        super().__init__(
            f"The file for {long_date(file.processing_day)} was already built on "
            f"{london_time(file.built_at)} by {file.built_by} (serial {file.serial}, "
            f"{file.status.value}): nothing new was built"
        )


class NothingToSubmit(InvalidRequest):
    """Nothing is due for the day; `summary` still lists what was held back or missed."""

    def __init__(self, processing_day: date, summary: dict):
        self.summary = summary
        held, missed = summary["held_back_count"], summary["missed_count"]
        extra = f" ({held} held back, {missed} missed their file)" if held or missed else ""
        super().__init__(
            f"Nothing to send for {long_date(processing_day)}: no instruction or collection "
            f"is due{extra}, so no file was built"
        )


def labels() -> standard18.Labels:
    config = current_app.config
    return standard18.Labels(
        service_user_number=config["BACS_SERVICE_USER_NUMBER"],
        service_user_name=config["BACS_SERVICE_USER_NAME"],
        sort_code=config["BACS_SORT_CODE"],
        account_number=config["BACS_ACCOUNT_NUMBER"],
        account_name=config["BACS_ACCOUNT_NAME"],
        file_identifier=config.get("BACS_HDR1_FILE_IDENTIFIER", "A{sun}S  1{sun}"),
        hdr2=config.get("BACS_HDR2_CONTENTS", "F0200000100"),
        receiving_party=config.get("BACS_UHL1_RECEIVING_PARTY", "999999"),
        line_ending=config.get("BACS_FILE_LINE_ENDING", "crlf"),
    )


def next_processing_day(today: date) -> date:
    """The processing day whose input day is `today` (or the next working day)."""
    return add_working_days(on_or_after(today), 1)


@use_case
def download_file(actor: Actor, file_id: int) -> tuple[FileView, bytes]:
    """The stored bytes, for an officer to take to the Bacs software; recorded in audit."""
    view = get_file(file_id)
    content = db.session.scalar(sa.select(BacsFile.content).where(BacsFile.id == file_id))
    record_audit(
        actor,
        "bacs_file.downloaded",
        "bacs_file",
        file_id,
        after={"serial": view.serial, "sha256": view.sha256},
    )
    db.session.commit()
    return view, content.encode("ascii")


# --- building --------------------------------------------------------------------------


def _refuse_unusable_day(processing_day: date) -> selection.Cycle:
    try:
        cycle = selection.cycle_for(processing_day)
    except selection.NotAWorkingDay as exc:
        raise InvalidRequest(str(exc)) from None
    today = clock.today()
    if cycle.input_day < today:
        raise InvalidRequest(
            f"The file for {long_date(processing_day)} had to go to Bacs on its input day, "
            f"{long_date(cycle.input_day)}, which has passed: build the file for "
            f"{long_date(next_processing_day(today))} instead"
        )
    return cycle


def _next_serial() -> int:
    serial = (db.session.scalar(sa.select(sa.func.max(BacsFile.serial_number))) or 0) + 1
    if serial > 999_999:
        raise InvalidRequest("Every file serial number up to 999999 has been used")
    return serial


def _batches(query) -> Iterator[list]:
    """Rows of `query` in batches of BATCH from one streamed result (a server-side
    cursor on PostgreSQL): one pass over the rows, never all of them in memory. Nothing
    is written while it is open; the marking comes after (_mark)."""
    yield from db.session.execute(query.execution_options(yield_per=BATCH)).partitions()


def _mark(statement, ids: array, what: str) -> None:
    """`statement(chunk)` for the ids a stream took, a chunk at a time; every row must
    still be as it was read, or the build is refused whole."""
    for start in range(0, len(ids), MARK_CHUNK):
        chunk = list(ids[start : start + MARK_CHUNK])
        done = db.session.execute(
            statement(chunk), execution_options={"synchronize_session": False}
        )
        if done.rowcount != len(chunk):
            raise Conflict(
                f"Some {what} changed while the file was being built: nothing was built; "
                "build it again"
            )


def _add_instructions(writer, summary, file_id: int, cycle, now: datetime) -> None:
    wanted = sa.or_(
        Mandate.status == MandateStatus.PENDING_SUBMISSION,
        sa.and_(
            Mandate.status == MandateStatus.CANCELLED,
            Mandate.needs_cancel_instruction.is_(True),
            Mandate.cancel_in_file_id.is_(None),
        ),
    )
    query = sa.select(
        Mandate.id,
        Mandate.status,
        Mandate.needs_cancel_instruction,
        Mandate.cancel_in_file_id,
        Mandate.reference,
        Mandate.account_holder_name,
        Mandate.bank_details_encrypted,
    ).where(wanted)
    lodged, cancelled = array("q"), array("q")
    for rows in _batches(query.order_by(Mandate.id)):
        for mandate_id, status, needs_cancel, cancel_file, reference, name, token in rows:
            code = selection.instruction_for(str(status), needs_cancel, cancel_file)
            if code is None:
                continue
            details = open_sealed(token)
            writer.add(
                standard18.Record(
                    details.sort_code,
                    details.account_number,
                    code,
                    0,
                    reference,
                    standard18.to_bacs_characters(name),
                )
            )
            summary.add(code, 0)
            (lodged if code == "0N" else cancelled).append(mandate_id)
    _mark(
        lambda chunk: (
            sa.update(Mandate)
            .where(Mandate.id.in_(chunk), Mandate.status == MandateStatus.PENDING_SUBMISSION)
            .values(
                status=MandateStatus.SUBMITTED,
                lodged_in_file_id=file_id,
                lodged_on=cycle.processing_day,
                submitted_at=now,
                version=Mandate.version + 1,
                updated_at=now,
            )
        ),
        lodged,
        "mandates",
    )
    _mark(
        lambda chunk: (
            sa.update(Mandate)
            .where(Mandate.id.in_(chunk), Mandate.cancel_in_file_id.is_(None))
            .values(cancel_in_file_id=file_id, version=Mandate.version + 1, updated_at=now)
        ),
        cancelled,
        "mandates",
    )


def _add_debits(writer, summary, file_id: int, cycle, now: datetime) -> None:
    query = (
        sa.select(
            Collection.id,
            Collection.amount_pence,
            Collection.transaction_code,
            Collection.collection_date,
            Mandate.id,
            Mandate.account_id,
            Mandate.reference,
            Mandate.status,
            Mandate.lodged_on,
            Mandate.collections_stopped_reason,
            Mandate.account_holder_name,
            Mandate.bank_details_encrypted,
            DebtorAccount.reference,
            AdvanceNotice.earliest_entry_day,
        )
        .join(Mandate, Mandate.id == Collection.mandate_id)
        .join(DebtorAccount, DebtorAccount.id == Mandate.account_id)
        .outerjoin(AdvanceNotice, AdvanceNotice.id == Collection.advance_notice_id)
        .where(
            Collection.status == CollectionStatus.SCHEDULED,
            Collection.collection_date <= cycle.entry_day,
        )
    )
    taken = array("q")
    for rows in _batches(query.order_by(Collection.id)):
        opened: dict[int, object] = {}  # mandate id: details, for this batch only
        for row in rows:
            (cid, pence, code, entry, mandate_id, account_id, reference, status) = row[:8]
            lodged_on, stopped, name, token, account_ref, earliest = row[8:]
            item = selection.DueCollection(
                collection_id=cid,
                account_id=account_id,
                account_reference=account_ref,
                mandate_reference=reference,
                mandate_status=str(status),
                mandate_lodged_on=lodged_on,
                collections_stopped_reason=stopped,
                notice_earliest_entry_day=earliest,
                amount_pence=pence,
                transaction_code=code,
                collection_date=entry,
            )
            if selection.is_missed(item, cycle):
                summary.miss(item)
                continue
            held = selection.decide(item, cycle)
            if held is not None:
                summary.hold(item, held)
                continue
            if mandate_id not in opened:
                opened[mandate_id] = open_sealed(token)
            details = opened[mandate_id]
            writer.add(
                standard18.Record(
                    details.sort_code,
                    details.account_number,
                    code,
                    pence,
                    reference,
                    standard18.to_bacs_characters(name),
                )
            )
            summary.add(code, pence)
            taken.append(cid)
    _mark(
        lambda chunk: (
            sa.update(Collection)
            .where(Collection.id.in_(chunk), Collection.status == CollectionStatus.SCHEDULED)
            .values(status=CollectionStatus.SUBMITTED, bacs_file_id=file_id, updated_at=now)
        ),
        taken,
        "collections",
    )


@use_case
def build_file(actor: Actor, processing_day: date, *, alert_officers: bool = False) -> FileView:
    """Build and store the collection file for `processing_day` (one commit).

    Refused on a day Bacs does not process, once its input day has passed, with
    AlreadyBuilt when the day has a file in play, and with NothingToSubmit when nothing
    is due. `alert_officers` puts an email to the recovery team in the outbox."""
    cycle = _refuse_unusable_day(processing_day)
    existing = file_in_play(processing_day)
    if existing is not None:
        raise AlreadyBuilt(existing)
    file_labels = labels()
    try:
        standard18.check_labels(file_labels)
    except standard18.Standard18Error as exc:
        raise InvalidRequest(f"The Bacs settings cannot make a file: {exc}") from None
    now, serial = clock.utcnow(), _next_serial()
    row = BacsFile(
        serial_number=serial,
        processing_day=cycle.processing_day,
        input_day=cycle.input_day,
        entry_day=cycle.entry_day,
        status=BacsFileStatus.BUILT,
        file_name=f"bacs-{processing_day.isoformat()}-{serial:06d}.txt",
        content="",
        sha256="",
        instruction_count=0,
        debit_count=0,
        debit_total_pence=0,
        credit_count=0,
        credit_total_pence=0,
        summary={},
        built_by_staff_id=actor.staff_id,
    )
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        # Built by someone else at the same moment (the job and an officer): theirs stands.
        db.session.rollback()
        existing = file_in_play(processing_day)
        if existing is None:
            raise Conflict("Another file was built at the same moment: try again") from None
        raise AlreadyBuilt(existing) from None
    writer = standard18.FileWriter(file_labels, serial, cycle.processing_day, clock.today())
    summary = selection.Summary(cycle)
    try:
        _add_instructions(writer, summary, row.id, cycle, now)
        _add_debits(writer, summary, row.id, cycle, now)
        text = writer.text()
    except standard18.Standard18Error as exc:
        raise InvalidRequest(f"The file could not be written: {exc}") from None
    totals = writer.totals
    if summary.is_empty:
        raise NothingToSubmit(processing_day, summary.as_json(0))
    row.content = text
    row.sha256 = hashlib.sha256(text.encode("ascii")).hexdigest()
    row.instruction_count = totals.instruction_count
    row.debit_count = totals.debit_count
    row.debit_total_pence = totals.debit_total_pence
    row.credit_count = totals.credit_count
    row.credit_total_pence = totals.credit_total_pence
    row.summary = summary.as_json(totals.credit_total_pence)
    db.session.flush()
    record_audit(
        actor,
        "bacs_file.built",
        "bacs_file",
        row.id,
        after={
            "processing_day": processing_day.isoformat(),
            "serial": f"{serial:06d}",
            "sha256": row.sha256,
            "instructions": totals.instruction_count,
            "debits": totals.debit_count,
            "debit_total_pence": totals.debit_total_pence,
            "held_back": summary.held_count,
            "missed": summary.missed_count,
        },
    )
    history.per_account(actor, row.id, history.BUILT, f"{serial:06d}", cycle.entry_day)
    if alert_officers:
        _alert(row)
    db.session.commit()
    return get_file(row.id)


def alert_dedupe_key(file_id: int) -> str:
    return f"bacs-file-ready:{file_id}"


def _alert(row: BacsFile) -> None:
    """Tell the recovery team the file is ready to check and release (once per file)."""
    from shared.money import format_gbp

    config = current_app.config
    held, missed = row.summary["held_back_count"], row.summary["missed_count"]
    lines = [
        f"The Bacs collection file for {long_date(row.processing_day)} (serial "
        f"{row.serial_number:06d}) is built and waits for a team leader to check and "
        "release it.",
        "",
        f"Instructions (0N and 0C): {row.instruction_count}",
        f"Debits: {row.debit_count}, totalling {format_gbp(row.debit_total_pence)}",
        f"Contra credit: {format_gbp(row.credit_total_pence)}",
        f"Held back: {held}; missed their file: {missed}",
        "",
        f"It must reach Bacs on {long_date(row.input_day)}. Check and release it at "
        f"{config['PUBLIC_BASE_URL']}/backoffice/bacs-files/{row.id}",
    ]
    db.session.add(
        OutboxMessage(
            channel=OutboxChannel.EMAIL,
            template="bacs_file_ready",
            recipient=config["COUNCIL_EMAIL"],
            subject=f"Bacs file for {long_date(row.processing_day)} ready to check and release",
            body="\n".join(lines),
            dedupe_key=alert_dedupe_key(row.id),
        )
    )


# --- withdrawing and releasing ---------------------------------------------------------


def _locked(file_id: int) -> BacsFile:
    row = db.session.scalar(sa.select(BacsFile).where(BacsFile.id == file_id).with_for_update())
    if row is None:
        raise NotFound(f"No Bacs file {file_id}")
    return row


@use_case
def withdraw_file(actor: Actor, file_id: int, reason: str) -> Change:
    """Withdraw a built file: its collections go back to scheduled, its 0N mandates back
    to waiting, its 0C cancellations to be sent again; the file stays, WITHDRAWN."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidRequest("Enter why the file is being withdrawn")
    if len(reason) > 200:
        raise InvalidRequest("The reason must be 200 characters or fewer")
    row = _locked(file_id)
    if row.status == BacsFileStatus.WITHDRAWN:
        return Change(get_file(file_id), changed=False)
    if row.status != BacsFileStatus.BUILT:
        view = get_file(file_id)
        raise Conflict(
            f"File {view.serial} was released on {london_time(view.released_at)} by "
            f"{view.released_by}: a released file cannot be withdrawn"
        )
    now, serial = clock.utcnow(), f"{row.serial_number:06d}"
    history.per_account(actor, file_id, history.WITHDRAWN, serial, row.entry_day, reason=reason)
    options = {"synchronize_session": False}
    db.session.execute(
        sa.update(Collection)
        .where(Collection.bacs_file_id == file_id, Collection.status == CollectionStatus.SUBMITTED)
        .values(status=CollectionStatus.SCHEDULED, bacs_file_id=None, updated_at=now),
        execution_options=options,
    )
    db.session.execute(
        sa.update(Mandate)
        .where(Mandate.lodged_in_file_id == file_id, Mandate.status == MandateStatus.SUBMITTED)
        .values(
            status=MandateStatus.PENDING_SUBMISSION,
            lodged_in_file_id=None,
            lodged_on=None,
            submitted_at=None,
            version=Mandate.version + 1,
            updated_at=now,
        ),
        execution_options=options,
    )
    # Cancelled while the file waited: its 0N never reached Bacs, so no 0C is owed.
    db.session.execute(
        sa.update(Mandate)
        .where(Mandate.lodged_in_file_id == file_id, Mandate.status == MandateStatus.CANCELLED)
        .values(
            lodged_in_file_id=None,
            lodged_on=None,
            needs_cancel_instruction=False,
            version=Mandate.version + 1,
            updated_at=now,
        ),
        execution_options=options,
    )
    db.session.execute(
        sa.update(Mandate)
        .where(Mandate.cancel_in_file_id == file_id)
        .values(cancel_in_file_id=None, version=Mandate.version + 1, updated_at=now),
        execution_options=options,
    )
    row.status = BacsFileStatus.WITHDRAWN
    row.withdrawn_at = now
    row.withdrawn_by_staff_id = actor.staff_id
    row.withdrawal_reason = reason
    record_audit(
        actor,
        "bacs_file.withdrawn",
        "bacs_file",
        file_id,
        before={"status": "built"},
        after={"status": "withdrawn", "serial": serial, "reason": reason},
    )
    db.session.commit()
    db.session.expire_all()
    return Change(get_file(file_id), changed=True)


@use_case
def release_file(
    actor: Actor, file_id: int, expected_status: BacsFileStatus = BacsFileStatus.BUILT
) -> Change:
    """Mark a built file released to Bacs: the mandates it lodged become active. A second
    click finds it released and changes nothing; a file that is not as the officer saw
    it (withdrawn meanwhile) is refused."""
    row = _locked(file_id)
    if row.status == BacsFileStatus.RELEASED:
        return Change(get_file(file_id), changed=False)
    if row.status != expected_status or row.status != BacsFileStatus.BUILT:
        view = get_file(file_id)
        raise Conflict(
            f"File {view.serial} was withdrawn on {london_time(view.withdrawn_at)} by "
            f"{view.withdrawn_by}: it cannot be released"
        )
    now, serial = clock.utcnow(), f"{row.serial_number:06d}"
    db.session.execute(
        sa.update(Mandate)
        .where(Mandate.lodged_in_file_id == file_id, Mandate.status == MandateStatus.SUBMITTED)
        .values(
            status=MandateStatus.ACTIVE,
            activated_at=now,
            version=Mandate.version + 1,
            updated_at=now,
        ),
        execution_options={"synchronize_session": False},
    )
    row.status = BacsFileStatus.RELEASED
    row.released_at = now
    row.released_by_staff_id = actor.staff_id
    history.per_account(actor, file_id, history.RELEASED, serial, row.entry_day)
    record_audit(
        actor,
        "bacs_file.released",
        "bacs_file",
        file_id,
        before={"status": "built"},
        after={"status": "released", "serial": serial, "sha256": row.sha256},
    )
    db.session.commit()
    db.session.expire_all()
    return Change(get_file(file_id), changed=True)
