"""Reading stored Bacs collection files: the view an officer checks, the list, the
stored bytes, and the summary in words (shared/services/directdebit/files.py builds,
withdraws and releases them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from shared.domain.bacs import selection, standard18
from shared.extensions import db
from shared.models import BacsFile, BacsFileStatus, StaffUser
from shared.services.errors import NotFound


@dataclass(frozen=True)
class FileView:
    """A stored file as an officer sees it (the content is fetched by download_file)."""

    file_id: int
    serial_number: int
    processing_day: date
    input_day: date
    entry_day: date
    status: BacsFileStatus
    file_name: str
    sha256: str
    instruction_count: int
    debit_count: int
    debit_total_pence: int
    credit_count: int
    credit_total_pence: int
    summary: dict
    built_at: datetime
    built_by: str
    released_at: datetime | None
    released_by: str | None
    withdrawn_at: datetime | None
    withdrawn_by: str | None
    withdrawal_reason: str | None

    @property
    def serial(self) -> str:
        return f"{self.serial_number:06d}"


_BUILT_BY, _RELEASED_BY, _WITHDRAWN_BY = (aliased(StaffUser) for _ in range(3))


def _views(where, *, limit: int | None = None, order=None) -> list[FileView]:
    query = (
        sa.select(BacsFile, _BUILT_BY.full_name, _RELEASED_BY.full_name, _WITHDRAWN_BY.full_name)
        .outerjoin(_BUILT_BY, _BUILT_BY.id == BacsFile.built_by_staff_id)
        .outerjoin(_RELEASED_BY, _RELEASED_BY.id == BacsFile.released_by_staff_id)
        .outerjoin(_WITHDRAWN_BY, _WITHDRAWN_BY.id == BacsFile.withdrawn_by_staff_id)
        .where(where)
        .order_by(*(order or (BacsFile.id.desc(),)))
        .limit(limit)
    )
    return [_view(row, *names) for row, *names in db.session.execute(query)]


def _view(row: BacsFile, built: str | None, released: str | None, withdrawn: str | None):
    return FileView(
        file_id=row.id,
        serial_number=row.serial_number,
        processing_day=row.processing_day,
        input_day=row.input_day,
        entry_day=row.entry_day,
        status=row.status,
        file_name=row.file_name,
        sha256=row.sha256,
        instruction_count=row.instruction_count,
        debit_count=row.debit_count,
        debit_total_pence=row.debit_total_pence,
        credit_count=row.credit_count,
        credit_total_pence=row.credit_total_pence,
        summary=row.summary,
        built_at=row.built_at,
        built_by=built or "the system",
        released_at=row.released_at,
        released_by=released if row.released_at else None,
        withdrawn_at=row.withdrawn_at,
        withdrawn_by=(withdrawn or "the system") if row.withdrawn_at else None,
        withdrawal_reason=row.withdrawal_reason,
    )


def get_file(file_id: int) -> FileView:
    """One file by id (NotFound if there is none)."""
    found = _views(BacsFile.id == file_id)
    if not found:
        raise NotFound(f"No Bacs file {file_id}")
    return found[0]


def file_in_play(processing_day: date) -> FileView | None:
    """The built or released file for `processing_day`, if there is one."""
    found = _views(
        sa.and_(
            BacsFile.processing_day == processing_day,
            BacsFile.status != BacsFileStatus.WITHDRAWN,
        )
    )
    return found[0] if found else None


def recent_files(limit: int = 60) -> list[FileView]:
    """The latest files, newest processing day first (withdrawn ones too)."""
    return _views(
        sa.true(), limit=limit, order=(BacsFile.processing_day.desc(), BacsFile.id.desc())
    )


def stored_content(file_id: int) -> bytes:
    """The stored file's bytes (the command line writes them out as it builds)."""
    content = db.session.scalar(sa.select(BacsFile.content).where(BacsFile.id == file_id))
    if content is None:
        raise NotFound(f"No Bacs file {file_id}")
    return content.encode("ascii")


def summary_lines(summary: dict, *, listed: int = 20) -> list[str]:
    """A file's summary in lines: counts and totals by transaction code, then what was
    held back and what missed its file, each with its reason."""
    from shared.money import format_gbp

    lines = []
    for code, entry in summary.get("by_code", {}).items():
        words = selection.TRANSACTION_CODE_WORDS.get(code, code)
        money = (
            "" if code in standard18.INSTRUCTION_CODES else f", {format_gbp(entry['total_pence'])}"
        )
        lines.append(f"  {words}: {entry['count']:,}{money}")
    for key, heading in (("held_back", "Held back"), ("missed", "Missed their file")):
        count = summary.get(f"{key}_count", 0)
        total = summary.get(f"{key}_total_pence", 0)
        lines.append(f"  {heading}: {count:,}" + (f", {format_gbp(total)}" if count else ""))
        for item in summary.get(key, [])[:listed]:
            lines.append(
                f"    {item['account_reference']} {item['mandate_reference']} "
                f"{format_gbp(item['amount_pence'])}: {item['why']}"
            )
        if count > min(listed, len(summary.get(key, []))):
            lines.append(f"    ... and {count - min(listed, len(summary.get(key, []))):,} more")
    return lines
