"""camt.053 (ISO 20022 BankToCustomerStatement) in, as a Statement.

Read with defusedxml, so a file with a DTD, entity definitions (the "billion laughs"
bomb) or external entities is refused before anything is expanded. Any version of
the message (camt.053.001.02 to .12) is read: elements are found by local name, and
the party name is looked for where each version keeps it (Dbtr/Nm up to .07,
Dbtr/Pty/Nm from .08).

One statement (Stmt) per file: the council's bank sends one file per account.
Only booked entries (Sts BOOK, or Sts/Cd BOOK) are lines; pending or information
entries are left out, and the balances are the booked ones (OPBD and CLBD; PRCD and
CLAV are accepted when a bank sends no OPBD or CLBD). An entry that books several
transactions at once (a batch with one TxDtls each, each with its amount) becomes
one line per transaction, its reference "<entry reference>/<n>".
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from shared.domain.bank_statements.model import (
    Direction,
    Statement,
    StatementError,
    StatementFormat,
    StatementLine,
    checked_line,
    checked_statement,
    decimal_pence,
)

OPENING_CODES = ("OPBD", "PRCD")
CLOSING_CODES = ("CLBD", "CLAV")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element | None, *path: str) -> ET.Element | None:
    """The first descendant along `path` of local names, or None."""
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if _local(c.tag) == name), None)
    return element


def _children(element: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if element is None else [c for c in element if _local(c.tag) == name]


def _text(element: ET.Element | None, *path: str) -> str:
    found = _child(element, *path)
    return (found.text or "").strip() if found is not None else ""


def _day(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise StatementError(f"{where}: {text!r} is not a date like 2026-12-03") from None


def _direction(element: ET.Element, where: str) -> Direction:
    indicator = _text(element, "CdtDbtInd")
    if indicator == "CRDT":
        return Direction.CREDIT
    if indicator == "DBIT":
        return Direction.DEBIT
    raise StatementError(f"{where}: CdtDbtInd must be CRDT or DBIT, not {indicator!r}")


def _amount(element: ET.Element, where: str) -> int:
    amount = _child(element, "Amt")
    if amount is None:
        raise StatementError(f"{where}: Amt is missing")
    currency = amount.get("Ccy", "")
    if currency != "GBP":
        raise StatementError(f"{where}: the amount is in {currency or 'no currency'}, not GBP")
    return decimal_pence(amount.text, f"{where} Amt")


def parse(content: bytes) -> Statement:
    """Read camt.053 XML; StatementError names the element that will not do."""
    try:
        root = SafeET.fromstring(content, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise StatementError(
            f"The XML declares a DTD or entities, which a bank statement never needs, so it "
            f"was refused ({type(exc).__name__})"
        ) from None
    except ET.ParseError as exc:
        raise StatementError(f"The file is not well-formed XML: {exc}") from None
    if _local(root.tag) != "Document" or _child(root, "BkToCstmrStmt") is None:
        raise StatementError(
            f"Not a camt.053 statement: the root is {_local(root.tag)!r}, expected "
            "Document/BkToCstmrStmt"
        )
    statements = _children(_child(root, "BkToCstmrStmt"), "Stmt")
    if len(statements) != 1:
        raise StatementError(
            f"The file has {len(statements)} Stmt elements: import one account's statement "
            "at a time"
        )
    stmt = statements[0]
    statement_id = _text(stmt, "Id")
    if not statement_id:
        raise StatementError("Stmt/Id is missing")
    account = _text(stmt, "Acct", "Id", "IBAN") or _text(stmt, "Acct", "Id", "Othr", "Id")
    if not account:
        raise StatementError("Stmt/Acct/Id has neither an IBAN nor Othr/Id")
    balances = _balances(stmt)
    lines: list[StatementLine] = []
    for n, entry in enumerate(_children(stmt, "Ntry"), start=1):
        lines.extend(_entry_lines(entry, f"Ntry {n}"))
    period = _child(stmt, "FrToDt")
    if period is not None:
        from_date = _day(_text(period, "FrDtTm"), "Stmt/FrToDt/FrDtTm")
        to_date = _day(_text(period, "ToDtTm"), "Stmt/FrToDt/ToDtTm")
    elif lines:
        from_date = min(line.booking_date for line in lines)
        to_date = max(line.booking_date for line in lines)
    else:
        from_date = to_date = _day(_text(stmt, "CreDtTm"), "Stmt/CreDtTm")
    return checked_statement(
        format=StatementFormat.CAMT053,
        bank_account=account,
        statement_id=statement_id,
        from_date=from_date,
        to_date=to_date,
        opening_balance_pence=balances[0],
        closing_balance_pence=balances[1],
        lines=lines,
    )


def _balances(stmt: ET.Element) -> tuple[int, int]:
    found: dict[str, int] = {}
    for n, balance in enumerate(_children(stmt, "Bal"), start=1):
        code = _text(balance, "Tp", "CdOrPrtry", "Cd")
        if code in OPENING_CODES + CLOSING_CODES and code not in found:
            where = f"Bal {n} ({code})"
            pence = _amount(balance, where)
            found[code] = pence if _direction(balance, where) == Direction.CREDIT else -pence
    opening = next((found[c] for c in OPENING_CODES if c in found), None)
    closing = next((found[c] for c in CLOSING_CODES if c in found), None)
    if opening is None:
        raise StatementError("Stmt has no opening booked balance (Bal with Cd OPBD)")
    if closing is None:
        raise StatementError("Stmt has no closing booked balance (Bal with Cd CLBD)")
    return opening, closing


def _is_booked(entry: ET.Element) -> bool:
    status = _text(entry, "Sts", "Cd") or _text(entry, "Sts")
    return status in ("", "BOOK")


def _code(element: ET.Element | None) -> str:
    code = _child(element, "BkTxCd")
    parts = [
        _text(code, "Domn", "Cd"),
        _text(code, "Domn", "Fmly", "Cd"),
        _text(code, "Domn", "Fmly", "SubFmlyCd"),
    ]
    if any(parts):
        return "/".join(p for p in parts if p)
    return _text(code, "Prtry", "Cd")


def _party_name(details: ET.Element | None, direction: Direction) -> str:
    # The other side: who paid us (a credit) or whom we paid (a debit).
    role = "Dbtr" if direction == Direction.CREDIT else "Cdtr"
    parties = _child(details, "RltdPties")
    return _text(parties, role, "Nm") or _text(parties, role, "Pty", "Nm")


def _remittance(details: ET.Element | None) -> str:
    info = _child(details, "RmtInf")
    parts = [(u.text or "").strip() for u in _children(info, "Ustrd")]
    for structured in _children(info, "Strd"):
        parts.append(_text(structured, "CdtrRefInf", "Ref"))
    parts.append(_text(details, "Refs", "EndToEndId").replace("NOTPROVIDED", ""))
    return " ".join(p for p in parts if p)


def _entry_lines(entry: ET.Element, where: str) -> list[StatementLine]:
    if not _is_booked(entry):
        return []
    direction = _direction(entry, where)
    amount = _amount(entry, where)
    booked = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm")
    if not booked:
        raise StatementError(f"{where}: BookgDt is missing")
    booking_date = _day(booked, f"{where} BookgDt")
    reference = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
    details = [tx for block in _children(entry, "NtryDtls") for tx in _children(block, "TxDtls")]
    entry_code = _code(entry)
    if len(details) <= 1:
        tx = details[0] if details else None
        return [
            checked_line(
                line_reference=reference or _text(tx, "Refs", "AcctSvcrRef"),
                booking_date=booking_date,
                amount_pence=amount,
                direction=direction,
                remittance=_remittance(tx),
                payer_name=_party_name(tx, direction),
                transaction_code=entry_code or _code(tx),
                position=where,
            )
        ]
    # A batch booking: one line per transaction, which must add up to the entry.
    lines = []
    for n, tx in enumerate(details, start=1):
        tx_where = f"{where} TxDtls {n}"
        tx_amount = _child(tx, "AmtDtls", "TxAmt")
        lines.append(
            checked_line(
                line_reference=_text(tx, "Refs", "AcctSvcrRef") or f"{reference}/{n}",
                booking_date=booking_date,
                amount_pence=_amount(tx if tx_amount is None else tx_amount, tx_where),
                direction=direction,
                remittance=_remittance(tx),
                payer_name=_party_name(tx, direction),
                transaction_code=_code(tx) or entry_code,
                position=tx_where,
            )
        )
    if sum(line.amount_pence for line in lines) != amount:
        raise StatementError(f"{where}: its TxDtls amounts do not add up to the entry's Amt")
    if not reference and any(not _text(tx, "Refs", "AcctSvcrRef") for tx in details):
        raise StatementError(f"{where}: the bank's line reference is missing")
    return lines
