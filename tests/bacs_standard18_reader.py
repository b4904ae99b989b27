"""An independent reader of Standard 18 collection files, for the tests.

Written from DOMAIN.md (Bacs) and the label layout the product documents, by slicing
fixed positions; it shares no code with shared/domain/bacs/standard18.py, so a
writer that shifts a field by one fails here. read() refuses anything malformed with
ReadError naming the line; the checks that need to know what was meant to be in the
file (totals equal to what was selected) are the tests' own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

BACS_SET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-/&")


class ReadError(AssertionError):
    pass


def julian_day(field_text: str) -> date:
    """` YYDDD` to a date (years 2000-2099)."""
    if len(field_text) != 6 or field_text[0] != " " or not field_text[1:].isdigit():
        raise ReadError(f"not a Julian date ' YYDDD': {field_text!r}")
    year, day_of_year = 2000 + int(field_text[1:3]), int(field_text[3:])
    first = date(year, 1, 1)
    result = first + timedelta(days=day_of_year - 1)
    if result.year != year or day_of_year < 1:
        raise ReadError(f"day {day_of_year} is not in {year}")
    return result


def _cut(line: str, start: int, end: int) -> str:
    """Positions start..end, 1-based and inclusive, as the specification counts."""
    return line[start - 1 : end]


@dataclass(frozen=True)
class DataRecord:
    sort_code: str
    account_number: str
    account_type: str
    code: str
    origin_sort_code: str
    origin_account: str
    free_format: str
    amount_pence: int
    user_name: str
    reference: str
    name: str

    @classmethod
    def parse(cls, line: str, number: int) -> DataRecord:
        if len(line) != 100:
            raise ReadError(f"line {number}: a data record is 100 characters, got {len(line)}")
        amount = _cut(line, 36, 46)
        if not amount.isdigit():
            raise ReadError(f"line {number}: amount {amount!r} is not 11 digits")
        for start, end, what in ((1, 6, "sort code"), (7, 14, "account"), (18, 31, "origin")):
            if not _cut(line, start, end).isdigit():
                raise ReadError(f"line {number}: {what} is not digits")
        for start, end in ((47, 64), (65, 82), (83, 100)):
            if set(_cut(line, start, end)) - BACS_SET:
                raise ReadError(f"line {number}: characters outside the Bacs set")
        return cls(
            sort_code=_cut(line, 1, 6),
            account_number=_cut(line, 7, 14),
            account_type=_cut(line, 15, 15),
            code=_cut(line, 16, 17),
            origin_sort_code=_cut(line, 18, 23),
            origin_account=_cut(line, 24, 31),
            free_format=_cut(line, 32, 35),
            amount_pence=int(amount),
            user_name=_cut(line, 47, 64).rstrip(),
            reference=_cut(line, 65, 82).rstrip(),
            name=_cut(line, 83, 100).rstrip(),
        )


@dataclass
class ReadFile:
    line_ending: str
    volume_serial: str
    owner: str  # VOL1 38-51
    file_identifier: str  # HDR1 5-21
    set_identifier: str  # HDR1 22-27
    created: date
    hdr2: str  # 5-50
    processing_day: date
    receiving_party: str  # UHL1 11-20
    records: list[DataRecord] = field(default_factory=list)
    contras: list[DataRecord] = field(default_factory=list)
    debit_total: int = 0
    credit_total: int = 0
    debit_count: int = 0
    credit_count: int = 0
    instruction_count: int = 0

    def by_code(self, *codes: str) -> list[DataRecord]:
        return [r for r in self.records if r.code in codes]


def read(text: str) -> ReadFile:
    """Every line of a collection file, checked for length, order and label contents."""
    ending = "\r\n" if "\r\n" in text else "\n"
    if not text.endswith(ending):
        raise ReadError("the last line is not ended")
    lines = text[: -len(ending)].split(ending)
    if any("\r" in line or "\n" in line for line in lines):
        raise ReadError("mixed line endings")
    if len(lines) < 7:
        raise ReadError(f"only {len(lines)} lines")
    labels = lines[:4] + lines[-3:]
    for line in labels:
        if len(line) != 80:
            raise ReadError(f"label {line[:4]!r} is {len(line)} characters, not 80")
    vol1, hdr1, hdr2, uhl1 = lines[:4]
    eof1, eof2, utl1 = lines[-3:]
    for line, name in zip(
        labels, ("VOL1", "HDR1", "HDR2", "UHL1", "EOF1", "EOF2", "UTL1"), strict=True
    ):
        if line[:4] != name:
            raise ReadError(f"expected {name}, got {line[:4]!r}")
    if _cut(vol1, 80, 80) != "1" or _cut(vol1, 11, 37).strip():
        raise ReadError("VOL1: label standard level or reserved positions wrong")
    if eof1[4:] != hdr1[4:] or eof2[4:] != hdr2[4:]:
        raise ReadError("EOF1/EOF2 do not repeat HDR1/HDR2")
    if _cut(hdr1, 28, 35) != "00010001":
        raise ReadError("HDR1: file section and sequence are not 0001 0001")
    if _cut(hdr2, 51, 52) != "00":
        raise ReadError("HDR2: buffer offset is not 00")
    if _cut(uhl1, 21, 40) != "000000001 DAILY  001":
        raise ReadError(f"UHL1: currency, country, work code, file number: {_cut(uhl1, 21, 40)!r}")
    read_file = ReadFile(
        line_ending=ending,
        volume_serial=_cut(vol1, 5, 10),
        owner=_cut(vol1, 38, 51),
        file_identifier=_cut(hdr1, 5, 21),
        set_identifier=_cut(hdr1, 22, 27),
        created=julian_day(_cut(hdr1, 42, 47)),
        hdr2=_cut(hdr2, 5, 50).rstrip(),
        processing_day=julian_day(_cut(uhl1, 5, 10)),
        receiving_party=_cut(uhl1, 11, 20).rstrip(),
    )
    for number, line in enumerate(lines[4:-3], start=5):
        record = DataRecord.parse(line, number)
        (read_file.contras if record.code == "99" else read_file.records).append(record)
    for name, start, end in (
        ("debit_total", 5, 17),
        ("credit_total", 18, 30),
        ("debit_count", 31, 37),
        ("credit_count", 38, 44),
        ("instruction_count", 45, 51),
    ):
        value = _cut(utl1, start, end)
        if not value.isdigit():
            raise ReadError(f"UTL1 {name} {value!r} is not digits")
        setattr(read_file, name, int(value))
    return read_file
