"""The Standard 18 collection file: fixed-width records, written from plain values.

Pure: no database, no Flask. The service (shared/services/directdebit/files.py)
reads the day's rows, opens the bank details and hands each record here; this
module refuses anything Bacs would refuse rather than writing a file the bank
bounces. Layout (DOMAIN.md, Bacs; positions 1-based):

    VOL1  1-4 "VOL1", 5-10 volume serial (the file serial, 6 digits), 11 accessibility
          " ", 12-37 spaces, 38-51 owner "    " + SUN + "    ", 52-79 spaces, 80 "1"
    HDR1  1-4 "HDR1", 5-21 file identifier (configurable, default "A" SUN "S  1" SUN),
          22-27 set identifier (the file serial), 28-31 section "0001", 32-35
          sequence "0001", 36-41 spaces, 42-47 creation date " YYDDD", 48-53
          expiry " YYDDD" (the creation date), 54 " ", 55-60 block count "000000",
          61-80 spaces
    HDR2  1-4 "HDR2", 5-50 configurable (default "F0200000100" then spaces: fixed
          records, block 2000, record 100), 51-52 buffer offset "00", 53-80 spaces
    UHL1  1-4 "UHL1", 5-10 processing day " YYDDD", 11-20 receiving party
          (configurable, default "999999    "), 21-22 currency "00", 23-28 "000000",
          29-37 work code "1 DAILY  ", 38-40 file number "001", 41-80 spaces
    data  100 characters, single processing day: 1-6 destination sort code, 7-14
          destination account, 15 "0", 16-17 transaction code, 18-23 originating
          sort code, 24-31 originating account, 32-35 free format (spaces), 36-46
          amount in pence (11 digits), 47-64 service user name, 65-82 reference,
          83-100 destination account name
    contra a data record, code 99, to the council's own account for the debits'
          total: 47-64 the service user name, 65-82 "CONTRA", 83-100 the account name
    EOF1  HDR1 with "EOF1"; EOF2 HDR2 with "EOF2"
    UTL1  1-4 "UTL1", 5-17 debit total (13 digits), 18-30 credit total (13), 31-37
          debit record count (7), 38-44 credit record count (7), 45-51 instruction
          (0N/0C) count (7), 52-80 spaces

A file with no debits carries no contra (nothing to balance). Lines end with CRLF
by default (what Bacstel-IP software on Windows expects); LF if configured.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

BACS_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-/&")
_PLAIN = BACS_CHARACTERS | frozenset("abcdefghijklmnopqrstuvwxyz")
INSTRUCTION_CODES = frozenset({"0N", "0C", "0S"})
DEBIT_CODES = frozenset({"01", "17", "18", "19"})
CONTRA_CODE = "99"
MAX_AMOUNT_PENCE = 99_999_999_999  # 11 digits
MAX_TOTAL_PENCE = 9_999_999_999_999  # 13 digits
MAX_COUNT = 9_999_999  # 7 digits
LABEL_LENGTH = 80
RECORD_LENGTH = 100
LINE_ENDINGS = {"crlf": "\r\n", "lf": "\n"}


class Standard18Error(ValueError):
    """Input Bacs would refuse; the message says which field and why (never bank details)."""


def julian(day: date) -> str:
    """` YYDDD`: a space, the year's last two digits and the day of the year."""
    return f" {day.year % 100:02d}{day.timetuple().tm_yday:03d}"


def to_bacs_characters(text: str, length: int = 18) -> str:
    """`text` in the Bacs character set, at most `length` characters: capitals, accents
    dropped (É to E), an apostrophe dropped (O'Brien to OBRIEN), anything else outside
    the set a space, spaces collapsed."""
    if text.isascii() and not set(text) - _PLAIN:  # most names: nothing to map
        return " ".join(text.upper().split())[:length]
    plain = unicodedata.normalize("NFKD", text)
    out = []
    for char in plain:
        if unicodedata.combining(char) or char in "'’`":
            continue
        char = char.upper()
        out.append(char if char in BACS_CHARACTERS else " ")
    return " ".join("".join(out).split())[:length]


@dataclass(frozen=True)
class Labels:
    """What the labels carry, from configuration (shared/config_bacs.py)."""

    service_user_number: str  # 6 digits
    service_user_name: str  # 18 Bacs characters at most
    sort_code: str  # the council's collection account, 6 digits
    account_number: str  # 8 digits
    account_name: str  # 18 Bacs characters at most
    file_identifier: str = "A{sun}S  1{sun}"  # HDR1 5-21, "{sun}" replaced
    hdr2: str = "F0200000100"  # HDR2 5-50
    receiving_party: str = "999999"  # UHL1 11-20
    line_ending: str = "crlf"


@dataclass(frozen=True)
class Record:
    """One instruction or debit to a payer's account."""

    sort_code: str
    account_number: str
    transaction_code: str
    amount_pence: int
    reference: str  # the mandate reference
    name: str  # the account holder's name, in Bacs characters


@dataclass(frozen=True)
class Totals:
    debit_count: int = 0
    debit_total_pence: int = 0
    credit_count: int = 0
    credit_total_pence: int = 0
    instruction_count: int = 0


def _digits(value: str, length: int, what: str) -> str:
    if not (len(value) == length and value.isascii() and value.isdigit()):
        raise Standard18Error(f"{what} must be {length} digits")
    return value


def _text(value: str, length: int, what: str) -> str:
    if len(value) > length:
        raise Standard18Error(f"{what} is longer than {length} characters")
    bad = set(value) - BACS_CHARACTERS
    if bad:
        raise Standard18Error(
            f"{what} has characters outside the Bacs set ({''.join(sorted(bad))!r}): "
            "map it with to_bacs_characters first"
        )
    return value.ljust(length)


def _fixed(value: str, length: int, what: str) -> str:
    if len(value) > length or not value.isascii() or not value.isprintable():
        raise Standard18Error(f"{what} must be at most {length} printable ASCII characters")
    return value.ljust(length)


def check_labels(labels: Labels) -> None:
    """Refuse label settings that would not fit their positions."""
    _digits(labels.service_user_number, 6, "The service user number")
    _text(labels.service_user_name, 18, "The service user name")
    _digits(labels.sort_code, 6, "The collection account's sort code")
    _digits(labels.account_number, 8, "The collection account number")
    _text(labels.account_name, 18, "The collection account name")
    if len(labels.file_identifier.replace("{sun}", labels.service_user_number)) != 17:
        raise Standard18Error("The HDR1 file identifier must be 17 characters")
    _fixed(labels.file_identifier, 40, "The HDR1 file identifier")
    _fixed(labels.hdr2, 46, "The HDR2 contents")
    _fixed(labels.receiving_party, 10, "The UHL1 receiving party")
    if labels.line_ending not in LINE_ENDINGS:
        raise Standard18Error("The line ending must be crlf or lf")


def data_record(record: Record, labels: Labels) -> str:
    """One 100-character record to a payer's account."""
    code = record.transaction_code
    if code in INSTRUCTION_CODES:
        if record.amount_pence != 0:
            raise Standard18Error(f"A {code} instruction carries no amount")
    elif code in DEBIT_CODES:
        if not 0 < record.amount_pence <= MAX_AMOUNT_PENCE:
            raise Standard18Error(
                f"A debit of {record.amount_pence} pence does not fit Bacs's 11 digits "
                "(more than nothing, at most 99,999,999,999)"
            )
    else:
        raise Standard18Error(f"Transaction code {code!r} is not one of 0N, 0C, 0S, 01, 17, 18, 19")
    reference = record.reference
    if len(reference.strip()) < 6:
        raise Standard18Error(f"The reference {reference!r} is shorter than 6 characters")
    return _record(
        sort_code=_digits(record.sort_code, 6, "A payer's sort code"),
        account_number=_digits(record.account_number, 8, "A payer's account number"),
        code=code,
        labels=labels,
        amount_pence=record.amount_pence,
        reference=_text(reference, 18, f"The reference {reference!r}"),
        name=_text(record.name, 18, f"The account name on {reference}"),
    )


def contra_record(total_pence: int, labels: Labels) -> str:
    """The credit to the council's own account that balances the debits."""
    if not 0 < total_pence <= MAX_AMOUNT_PENCE:
        raise Standard18Error(
            f"A contra of {total_pence} pence does not fit Bacs's 11 digits: split the file"
        )
    return _record(
        sort_code=labels.sort_code,
        account_number=labels.account_number,
        code=CONTRA_CODE,
        labels=labels,
        amount_pence=total_pence,
        reference="CONTRA".ljust(18),
        name=labels.account_name.ljust(18),
    )


def _record(*, sort_code, account_number, code, labels, amount_pence, reference, name) -> str:
    return (
        f"{sort_code}{account_number}0{code}{labels.sort_code}{labels.account_number}"
        f"{'':4}{amount_pence:011d}{labels.service_user_name:<18}{reference}{name}"
    )


def _hdr1_body(labels: Labels, serial: int, created: date) -> str:
    file_id = labels.file_identifier.replace("{sun}", labels.service_user_number)
    return f"{file_id}{serial:06d}00010001{'':6}{julian(created)}{julian(created)} 000000{'':20}"


def _hdr2_body(labels: Labels) -> str:
    return f"{labels.hdr2:<46}00{'':28}"


def header(labels: Labels, serial: int, processing_day: date, created: date) -> list[str]:
    """VOL1, HDR1, HDR2 and UHL1."""
    check_labels(labels)
    if not 1 <= serial <= 999_999:
        raise Standard18Error("A file serial number is 1 to 999999")
    sun = labels.service_user_number
    return [
        f"VOL1{serial:06d} {'':26}    {sun}    {'':28}1",
        f"HDR1{_hdr1_body(labels, serial, created)}",
        f"HDR2{_hdr2_body(labels)}",
        f"UHL1{julian(processing_day)}{labels.receiving_party:<10}000000001 DAILY  001{'':40}",
    ]


def trailer(labels: Labels, serial: int, created: date, totals: Totals) -> list[str]:
    """EOF1, EOF2 and UTL1."""
    for value, limit, what in (
        (totals.debit_total_pence, MAX_TOTAL_PENCE, "The debit total"),
        (totals.credit_total_pence, MAX_TOTAL_PENCE, "The credit total"),
        (totals.debit_count, MAX_COUNT, "The debit count"),
        (totals.credit_count, MAX_COUNT, "The credit count"),
        (totals.instruction_count, MAX_COUNT, "The instruction count"),
    ):
        if not 0 <= value <= limit:
            raise Standard18Error(f"{what} ({value}) does not fit the UTL1 record")
    return [
        f"EOF1{_hdr1_body(labels, serial, created)}",
        f"EOF2{_hdr2_body(labels)}",
        f"UTL1{totals.debit_total_pence:013d}{totals.credit_total_pence:013d}"
        f"{totals.debit_count:07d}{totals.credit_count:07d}{totals.instruction_count:07d}"
        f"{'':29}",
    ]


class FileWriter:
    """Builds a file record by record, keeping only the records' bytes and running totals
    (a bytearray: about 100 bytes a record, no object per line).

    add() each instruction and debit, then text() gives the whole file (the contra and
    trailer worked out from what was added)."""

    def __init__(self, labels: Labels, serial: int, processing_day: date, created: date):
        self.labels = labels
        self.serial = serial
        self.created = created
        self._head = header(labels, serial, processing_day, created)  # checks the labels
        self._end = LINE_ENDINGS[labels.line_ending]
        self._body = bytearray()
        self.debit_count = self.debit_total_pence = self.instruction_count = 0

    def add(self, record: Record) -> None:
        # data_record refuses anything outside the Bacs set, so the line is ASCII.
        self._body += (data_record(record, self.labels) + self._end).encode("ascii")
        if record.transaction_code in INSTRUCTION_CODES:
            self.instruction_count += 1
        else:
            self.debit_count += 1
            self.debit_total_pence += record.amount_pence

    @property
    def totals(self) -> Totals:
        contra = self.debit_total_pence > 0
        return Totals(
            debit_count=self.debit_count,
            debit_total_pence=self.debit_total_pence,
            credit_count=1 if contra else 0,
            credit_total_pence=self.debit_total_pence,
            instruction_count=self.instruction_count,
        )

    def text(self) -> str:
        tail = []
        if self.debit_total_pence:
            tail.append(contra_record(self.debit_total_pence, self.labels))
        tail += trailer(self.labels, self.serial, self.created, self.totals)
        return (
            join_lines(self._head, self.labels.line_ending)
            + self._body.decode("ascii")
            + join_lines(tail, self.labels.line_ending)
        )


def join_lines(lines: Iterable[str], line_ending: str) -> str:
    """The file's text: every line ended (the last one too)."""
    end = LINE_ENDINGS[line_ending]
    return end.join(lines) + end


def write_file(
    labels: Labels, serial: int, processing_day: date, created: date, records: Iterable[Record]
) -> tuple[str, Totals]:
    """The whole file for `records`, and its totals."""
    writer = FileWriter(labels, serial, processing_day, created)
    for record in records:
        writer.add(record)
    return writer.text(), writer.totals
