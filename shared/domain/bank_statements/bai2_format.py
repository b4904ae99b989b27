"""BAI2 (BAI Version 2 cash management balance reporting) in, as a Statement.

Read with the `bai2` package, which checks the record counts and control totals of
every account, group and file trailer, so a truncated or edited file is refused.
One account (03 record) per file. The balances are the account's 010 (opening
ledger) and 015 (closing ledger) summaries; amounts are in pence with no decimal
point, as BAI2 writes them.

Each 16 record is a line: its type code says credit (100-399) or debit (400-699),
its bank reference (field 5) is the line reference, the customer reference
(field 6) and any 88 continuation text are what the payer wrote, and the text of
the 16 record itself is the payer's name, which is where the council's bank puts
it (docs/bank-statements.md). Lines are dated with the group's as-of date.
"""

from __future__ import annotations

from bai2 import bai2
from bai2.constants import TypeCodeTransaction
from bai2.exceptions import IntegrityException, NotSupportedYetException, ParsingException

from shared.domain.bank_statements.model import (
    Direction,
    Statement,
    StatementError,
    StatementFormat,
    checked_line,
    checked_statement,
)

OPENING_LEDGER, CLOSING_LEDGER = "010", "015"


def parse(content: bytes) -> Statement:
    """Read a BAI2 file; StatementError names the record that will not do."""
    try:
        text = content.decode("ascii")
    except UnicodeDecodeError as exc:
        raise StatementError(
            f"BAI2 files are plain ASCII; byte {exc.start + 1} is not ASCII"
        ) from None
    try:
        parsed = bai2.parse_from_string(text, check_integrity=True)
    except (ParsingException, IntegrityException, NotSupportedYetException) as exc:
        raise StatementError(f"Not a valid BAI2 file: {exc}") from None
    except (ValueError, IndexError, KeyError, AttributeError) as exc:
        # The package raises plain errors on malformed fields (a date, an amount).
        raise StatementError(f"Not a valid BAI2 file: a field could not be read ({exc})") from None
    accounts = [account for group in parsed.children for account in group.children]
    if len(accounts) != 1:
        raise StatementError(
            f"The file has {len(accounts)} accounts (03 records): import one account's "
            "statement at a time"
        )
    group = parsed.children[0]
    account = accounts[0]
    as_of = group.header.as_of_date
    if as_of is None:
        raise StatementError("02 record: the as-of date is missing")
    summaries = {s.type_code.code: s.amount for s in account.header.summary_items if s.type_code}
    for code, name in ((OPENING_LEDGER, "opening"), (CLOSING_LEDGER, "closing")):
        if summaries.get(code) is None:
            raise StatementError(f"03 record: the {name} ledger balance (type {code}) is missing")
    lines = []
    for n, record in enumerate(account.children, start=1):
        where = f"16 record {n} ({record.bank_reference or 'no bank reference'})"
        kind = record.type_code.transaction if record.type_code else None
        if kind == TypeCodeTransaction.credit:
            direction = Direction.CREDIT
        elif kind == TypeCodeTransaction.debit:
            direction = Direction.DEBIT
        else:
            code = record.type_code.code if record.type_code else "none"
            raise StatementError(f"{where}: type code {code} is neither a credit nor a debit")
        first, *more = [row_text for _code, row_text in record.rows]
        lines.append(
            checked_line(
                line_reference=record.bank_reference or "",
                booking_date=as_of,
                amount_pence=int(record.amount or 0),
                direction=direction,
                remittance=" ".join([record.customer_reference or "", *more]),
                payer_name=_own_text(first),
                transaction_code=record.type_code.code,
                position=where,
            )
        )
    return checked_statement(
        format=StatementFormat.BAI2,
        bank_account=account.header.customer_account_number or "",
        statement_id=f"{parsed.header.file_id or ''} {as_of.isoformat()}".strip(),
        from_date=as_of,
        to_date=as_of,
        opening_balance_pence=int(summaries[OPENING_LEDGER]),
        closing_balance_pence=int(summaries[CLOSING_LEDGER]),
        lines=lines,
    )


def _own_text(row_text: str) -> str:
    """The text field of a 16 record alone (the package joins the 88 continuations
    onto it): after type code, amount, funds type, bank and customer references,
    without the closing slash."""
    fields = row_text.split(",", 5)
    return fields[5].removesuffix("/") if len(fields) == 6 else ""
