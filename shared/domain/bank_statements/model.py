"""What every statement format is read into: a Statement and its lines.

Pure: no Flask, no SQLAlchemy. Amounts are integer pence and always positive; the
direction (credit: money in, debit: money out) says which way it went. Balances are
signed pence (an overdrawn account has a negative balance).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date

# Columns the lines are stored in (shared/models/bank_statements.py): longer text is cut,
# a longer line reference is refused (cutting it could make two lines one).
MAX_REFERENCE = 64
MAX_TEXT = 500
MAX_NAME = 140
MAX_CODE = 40
MAX_ACCOUNT = 40
MAX_STATEMENT_ID = 80
# Far above any council receipt; far below what the integer columns hold.
MAX_LINE_PENCE = 1_000_000_000


class StatementFormat(enum.StrEnum):
    CAMT053 = "camt053"  # ISO 20022 BankToCustomerStatement, XML
    BAI2 = "bai2"  # BAI Version 2 cash management balance reporting
    CSV = "csv"  # the bank CSV layout in docs/bank-statements.md


class Direction(enum.StrEnum):
    CREDIT = "credit"  # money into the council's account
    DEBIT = "debit"  # money out


class StatementError(ValueError):
    """The file cannot be read as a statement. The message names the line or element
    and says what is wrong; nothing from the file is imported."""


@dataclass(frozen=True)
class StatementLine:
    line_reference: str  # the bank's own reference for the line: unique per bank account
    booking_date: date
    amount_pence: int  # > 0
    direction: Direction
    remittance: str  # what the payer wrote: where an invoice or account reference is
    payer_name: str
    transaction_code: str  # the bank's code for the kind of transaction ("PMNT/RCDT/ESCT")
    position: str  # where in the file it came from, for messages ("line 7", "Ntry 3")

    @property
    def is_credit(self) -> bool:
        return self.direction == Direction.CREDIT


@dataclass(frozen=True)
class Statement:
    format: StatementFormat
    bank_account: str  # account_key(): sort code and account number, or a foreign IBAN
    statement_id: str
    from_date: date
    to_date: date
    opening_balance_pence: int
    closing_balance_pence: int
    lines: tuple[StatementLine, ...]

    @property
    def credits_pence(self) -> int:
        return sum(line.amount_pence for line in self.lines if line.is_credit)

    @property
    def debits_pence(self) -> int:
        return sum(line.amount_pence for line in self.lines if not line.is_credit)


# A UK IBAN ends with the sort code and account number: GB, check digits, bank code.
_UK_IBAN = re.compile(r"^GB[0-9]{2}[A-Z]{4}([0-9]{14})$")


def account_key(text: str) -> str:
    """One spelling per bank account, whichever format named it: a UK IBAN, "60-16-13
    31926819" and "60161331926819" are all "60161331926819" (sort code and account
    number), so a line keeps its identity when the bank's file format changes."""
    squeezed = re.sub(r"[^A-Z0-9]", "", (text or "").upper())
    match = _UK_IBAN.match(squeezed)
    return match[1] if match else squeezed


_DECIMAL = re.compile(r"^(?P<sign>[-+]?)(?P<pounds>[0-9]{1,10})(?:\.(?P<pence>[0-9]{1,2}))?$")


def decimal_pence(text: str | None, where: str, *, signed: bool = False) -> int:
    """ "1234.5" -> 123450 exactly (no float anywhere); refuses more than two decimal
    places, a sign where none is allowed, and anything that is not a number."""
    cleaned = (text or "").strip().replace(",", "")
    match = _DECIMAL.match(cleaned)
    if not match:
        raise StatementError(f"{where}: {text!r} is not an amount like 123.45")
    if match["sign"] == "-" and not signed:
        raise StatementError(f"{where}: the amount {text!r} must not be negative")
    pence = int(match["pounds"]) * 100 + int((match["pence"] or "0").ljust(2, "0"))
    return -pence if match["sign"] == "-" else pence


def clean_text(text: str | None, limit: int) -> str:
    """Whitespace collapsed to single spaces, cut to fit its column."""
    return " ".join((text or "").split())[:limit]


def checked_line(
    *,
    line_reference: str,
    booking_date: date,
    amount_pence: int,
    direction: Direction,
    remittance: str | None,
    payer_name: str | None,
    transaction_code: str | None,
    position: str,
) -> StatementLine:
    """A line, after the checks every format shares."""
    reference = clean_text(line_reference, MAX_REFERENCE + 1)
    if not reference:
        raise StatementError(f"{position}: the bank's line reference is missing")
    if len(reference) > MAX_REFERENCE:
        raise StatementError(
            f"{position}: the line reference is longer than {MAX_REFERENCE} characters"
        )
    if amount_pence <= 0:
        raise StatementError(f"{position}: the amount must be more than 0.00")
    if amount_pence > MAX_LINE_PENCE:
        raise StatementError(f"{position}: the amount is more than 10,000,000.00")
    return StatementLine(
        line_reference=reference,
        booking_date=booking_date,
        amount_pence=amount_pence,
        direction=direction,
        remittance=clean_text(remittance, MAX_TEXT),
        payer_name=clean_text(payer_name, MAX_NAME),
        transaction_code=clean_text(transaction_code, MAX_CODE),
        position=position,
    )


def checked_statement(
    *,
    format: StatementFormat,
    bank_account: str,
    statement_id: str,
    from_date: date,
    to_date: date,
    opening_balance_pence: int,
    closing_balance_pence: int,
    lines: list[StatementLine],
) -> Statement:
    """A statement whose lines add up: opening + credits - debits = closing, each line
    reference once, and every booking date inside the statement's period."""
    account = account_key(bank_account)
    if not account or len(account) > MAX_ACCOUNT:
        raise StatementError(
            f"The statement's bank account is missing or longer than {MAX_ACCOUNT} characters"
        )
    statement_id = clean_text(statement_id, MAX_STATEMENT_ID + 1)
    if not statement_id or len(statement_id) > MAX_STATEMENT_ID:
        raise StatementError(
            f"The statement id is missing or longer than {MAX_STATEMENT_ID} characters"
        )
    if to_date < from_date:
        raise StatementError(f"The statement ends ({to_date}) before it starts ({from_date})")
    seen: dict[str, str] = {}
    for line in lines:
        if line.line_reference in seen:
            raise StatementError(
                f"{line.position}: line reference {line.line_reference} is also on "
                f"{seen[line.line_reference]}"
            )
        seen[line.line_reference] = line.position
        if not from_date <= line.booking_date <= to_date:
            raise StatementError(
                f"{line.position}: booked on {line.booking_date}, outside the statement's "
                f"period {from_date} to {to_date}"
            )
    statement = Statement(
        format=format,
        bank_account=account,
        statement_id=statement_id,
        from_date=from_date,
        to_date=to_date,
        opening_balance_pence=opening_balance_pence,
        closing_balance_pence=closing_balance_pence,
        lines=tuple(lines),
    )
    expected = opening_balance_pence + statement.credits_pence - statement.debits_pence
    if expected != closing_balance_pence:
        opening, closing = opening_balance_pence, closing_balance_pence
        raise StatementError(
            f"The lines do not add up to the closing balance: opening {pounds_text(opening)} "
            f"+ credits {pounds_text(statement.credits_pence)} - debits "
            f"{pounds_text(statement.debits_pence)} = {pounds_text(expected)}, but the "
            f"closing balance is {pounds_text(closing)}"
        )
    return statement


def pounds_text(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100:,}.{abs(pence) % 100:02d}"
