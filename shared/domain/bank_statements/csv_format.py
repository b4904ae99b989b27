"""The bank CSV layout (docs/bank-statements.md) in, as a Statement.

One header row, then one row per transaction in booking order:

    Date,Sort code,Account number,Bank reference,Type,Payer,Description,Debit,Credit,Balance

Date is DD/MM/YYYY; Debit or Credit holds the amount (pounds and pence, one of the
two); Balance is the running balance after the row, which is how the opening
balance (the first row's balance less its movement) and the closing balance (the
last row's) are known, and each row's balance is checked against the one before,
so a row left out or changed is refused by row number. Every row names the same
account. The statement's id is "<sort code><account> <first date> <last date>".
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from shared.domain.bank_statements.model import (
    Direction,
    Statement,
    StatementError,
    StatementFormat,
    checked_line,
    checked_statement,
    decimal_pence,
    pounds_text,
)

COLUMNS = (
    "Date",
    "Sort code",
    "Account number",
    "Bank reference",
    "Type",
    "Payer",
    "Description",
    "Debit",
    "Credit",
    "Balance",
)


def _day(text: str, where: str) -> date:
    try:
        return datetime.strptime(text.strip(), "%d/%m/%Y").date()
    except ValueError:
        raise StatementError(f"{where}: Date {text!r} is not a date like 03/12/2026") from None


def parse(content: bytes) -> Statement:
    """Read the bank CSV; StatementError names the row that will not do."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StatementError(f"The CSV is not UTF-8: byte {exc.start + 1} cannot be read") from None
    rows = list(csv.reader(io.StringIO(text)))
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        raise StatementError("The CSV file is empty")
    header = tuple(cell.strip() for cell in rows[0])
    if header != COLUMNS:
        raise StatementError(
            f"Row 1: the header must be {','.join(COLUMNS)} (docs/bank-statements.md), "
            f"not {','.join(header)}"
        )
    if len(rows) < 2:
        raise StatementError("The CSV has a header but no transactions")
    lines, account, balance, opening = [], None, None, None
    for number, row in enumerate(rows[1:], start=2):
        where = f"Row {number}"
        if len(row) != len(COLUMNS):
            raise StatementError(f"{where}: {len(row)} columns, expected {len(COLUMNS)}")
        cells = dict(zip(COLUMNS, (cell.strip() for cell in row), strict=True))
        row_account = f"{cells['Sort code'].replace('-', '')}{cells['Account number']}"
        if account is None:
            account = row_account
        elif row_account != account:
            raise StatementError(f"{where}: account {row_account} is not {account}, as above")
        debit, credit = cells["Debit"], cells["Credit"]
        if bool(debit) == bool(credit):
            raise StatementError(f"{where}: give the amount in Debit or in Credit (one of them)")
        direction = Direction.CREDIT if credit else Direction.DEBIT
        amount = decimal_pence(credit or debit, f"{where} {direction.value.title()}")
        movement = amount if direction == Direction.CREDIT else -amount
        after = decimal_pence(cells["Balance"], f"{where} Balance", signed=True)
        if balance is None:
            opening = after - movement
        elif balance + movement != after:
            raise StatementError(
                f"{where}: the balance does not follow from the row before "
                f"(it should be {pounds_text(balance + movement)})"
            )
        balance = after
        lines.append(
            checked_line(
                line_reference=cells["Bank reference"],
                booking_date=_day(cells["Date"], where),
                amount_pence=amount,
                direction=direction,
                remittance=cells["Description"],
                payer_name=cells["Payer"],
                transaction_code=cells["Type"],
                position=where,
            )
        )
    from_date, to_date = lines[0].booking_date, lines[-1].booking_date
    if any(b.booking_date < a.booking_date for a, b in zip(lines, lines[1:], strict=False)):
        raise StatementError("The rows must be in date order, oldest first")
    return checked_statement(
        format=StatementFormat.CSV,
        bank_account=account or "",
        statement_id=f"{account} {from_date.isoformat()} {to_date.isoformat()}",
        from_date=from_date,
        to_date=to_date,
        opening_balance_pence=opening or 0,
        closing_balance_pence=balance or 0,
        lines=lines,
    )
