"""Reports from Bacs in: AUDDIS, ARUDD, ADDACS (BACSDocument XML) and DDIC (VocaDocument
XML), read into plain values. Pure: no database, no Flask.

`read_report(content, service_user_number=...)` tells the kind from the envelope and
returns a Report, or raises ReportRefused with one line saying why (not XML, a DTD or
entities, another service user's report, a kind we do not import, a bad amount or
date). The shapes (DOMAIN.md, Bacs; DDIC from the Bacs DDIC advice layout):

- ARUDD: BACSDocument/Data/ARUDD with Header, ServiceLicenseInformation and
  Advice/OriginatingAccountRecords/OriginatingAccountRecord/ReturnedDebitItem
  (camelCase attributes; the reason is read from returnDescription, the four-digit
  returnCode is kept beside it).
- ADDACS, AUDDIS: BACSDocument/Data/MessagingAdvices with MessagingHeader and
  MessagingAdvice elements (lower-case hyphenated attributes).
- DDIC: VocaDocument/Data/Document with ServiceUserNumber and NewAdvices/DDICAdvice
  (child elements: SUReference, ReasonCode, PayerSortCode, PayerAccount, TotalAmount,
  DDCollections/DDCollection with DateOfDirectDebit and Amount), and Cancellations/
  DDICCancellation for claims the paying bank withdrew.

Elements are matched by local name, so a namespace on the envelope does not matter.
Files come as UTF-8 or ISO-8859-1 (the XML declaration says which). Sort codes,
account numbers and references stay strings; references are trimmed; "0" or blank
placeholders in optional fields are empty. Only the masked payer account reaches a
Report item; the new bank details an ADDACS or AUDDIS change carries are kept in
memory (NewDetails, never printed in full) for the service to seal on the mandate.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

# A report is a few MB at most (5,000 returns is about 2 MB); anything far bigger is
# not a Bacs report.
MAX_REPORT_BYTES = 30_000_000

ARUDD, ADDACS, AUDDIS, DDIC = "arudd", "addacs", "auddis", "ddic"
KINDS = (ARUDD, ADDACS, AUDDIS, DDIC)


class ReportRefused(ValueError):
    """The file cannot be imported; the message is one line saying why."""


@dataclass(frozen=True)
class NewDetails:
    """Bank details an amendment moves the mandate to; never shown in full."""

    sort_code: str | None
    account_number: str | None
    name: str | None

    def __repr__(self) -> str:
        ending = self.account_number[-2:] if self.account_number else "--"
        return f"NewDetails(account ending {ending}, name={self.name!r})"


@dataclass(frozen=True)
class Collected:
    """One debit an indemnity claim names: its date and amount."""

    day: date | None
    amount_pence: int


@dataclass(frozen=True)
class ReportItem:
    reference: str  # the mandate (DDI) reference, trimmed
    reason_code: str  # ARUDD 0-9/A/B ("?" if not recognised), ADDACS/AUDDIS code, "DDIC"
    bacs_code: str | None  # ARUDD returnCode, DDIC reason 1-8
    description: str  # the bank's words
    amount_pence: int | None = None
    original_processing_day: date | None = None
    transaction_code: str | None = None
    effective_date: date | None = None
    payer_name: str | None = None
    masked_account: str | None = None  # "******58"
    # DDIC: the debits claimed; and whether this is a claim withdrawn by the bank.
    collections: tuple[Collected, ...] = ()
    claim_cancelled: bool = False
    new_details: NewDetails | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Report:
    kind: str
    report_date: date | None
    advice_number: str | None
    service_user_number: str
    items: tuple[ReportItem, ...]


# --- pieces every reader uses ------------------------------------------------------------


def local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def child(element: ET.Element | None, *path: str) -> ET.Element | None:
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if local(c.tag) == name), None)
    return element


def children(element: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if element is None else [c for c in element if local(c.tag) == name]


def descendants(element: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in element.iter() if local(e.tag) == name]


def text(element: ET.Element | None, *path: str) -> str:
    found = child(element, *path)
    return (found.text or "").strip() if found is not None else ""


def optional(value: str | None) -> str | None:
    """A field's value, or None for the placeholders Bacs fills empty fields with."""
    value = (value or "").strip()
    if not value or set(value) == {"0"}:
        return None
    return value


def digits(value: str | None, length: int) -> str | None:
    """A sort code or account number as a string of digits (dashes dropped), or None."""
    value = optional(value)
    if value is None:
        return None
    value = value.replace("-", "").replace(" ", "")
    if not value.isdigit() or len(value) > length:
        return None
    return value.zfill(length)


def masked(account_number: str | None) -> str | None:
    account = digits(account_number, 8)
    return None if account is None else "******" + account[-2:]


def reference(value: str | None, where: str) -> str:
    ref = " ".join((value or "").split()).upper()
    if not ref:
        raise ReportRefused(f"{where} has no reference")
    return ref


def pence(value: str | None, where: str) -> int:
    """Pounds with decimals ("1,234.50") as integer pence, exactly."""
    raw = (value or "").strip().replace(",", "").replace("£", "")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise ReportRefused(f"{where}: the amount {raw!r} is not a number of pounds") from None
    pennies = amount * 100
    if not amount.is_finite() or pennies != pennies.to_integral_value() or amount < 0:
        raise ReportRefused(f"{where}: the amount {raw!r} is not pounds and whole pence")
    return int(pennies)


def day(value: str | None, where: str, *, required: bool = False) -> date | None:
    raw = optional(value)
    if raw is None:
        if required:
            raise ReportRefused(f"{where} has no date")
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise ReportRefused(f"{where}: {raw!r} is not a date (YYYY-MM-DD)") from None


def check_sun(found: str | None, expected: str, where: str) -> str:
    sun = (found or "").strip()
    if not sun:
        raise ReportRefused(f"The report has no service user number ({where})")
    if sun != expected.strip():
        raise ReportRefused(
            f"The report is for service user number {sun}, not ours ({expected.strip()})"
        )
    return sun


# --- reading the file --------------------------------------------------------------------


def parse(content: bytes) -> ET.Element:
    """The document's root element, read safely (no DTD, entities or external references)."""
    if len(content) > MAX_REPORT_BYTES:
        raise ReportRefused("The file is too big to be a Bacs report")
    if not content.strip():
        raise ReportRefused("The file is empty")
    try:
        return SafeET.fromstring(content, forbid_dtd=True)
    except DefusedXmlException:
        raise ReportRefused(
            "The file declares a DTD or entities, which a Bacs report never does"
        ) from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise ReportRefused(
            f"The file is not well-formed XML (line {line}, column {column})"
        ) from None
    except (ValueError, LookupError):
        raise ReportRefused("The file is not XML in an encoding we can read") from None


def kind_of(root: ET.Element) -> str:
    """Which report the envelope holds, or ReportRefused."""
    name = local(root.tag)
    data = child(root, "Data")
    if name == "VocaDocument" and child(data, "Document") is not None:
        return DDIC
    if name != "BACSDocument" or data is None:
        raise ReportRefused(
            f"The file is not a Bacs report (its root element is {name or 'missing'})"
        )
    if child(data, "ARUDD") is not None:
        return ARUDD
    messaging = child(data, "MessagingAdvices")
    if messaging is not None:
        header = child(messaging, "MessagingHeader")
        advice = ((header.get("advice-type") if header is not None else "") or "").strip()
        if advice.upper() in ("ADDACS", "AUDDIS"):
            return advice.lower()
        raise ReportRefused(
            f"{advice or 'An unnamed'} messaging report is not one this service imports "
            "(ADDACS and AUDDIS are)"
        )
    found = ", ".join(local(c.tag) for c in data) or "nothing"
    raise ReportRefused(f"The Bacs report holds {found}: not ARUDD, ADDACS, AUDDIS or DDIC")


def read_report(content: bytes, *, service_user_number: str) -> Report:
    """The report in `content`, checked against our service user number."""
    from shared.domain.bacs import reports_arudd, reports_ddic, reports_messaging

    root = parse(content)
    kind = kind_of(root)
    if kind == ARUDD:
        return reports_arudd.read(root, service_user_number)
    if kind == DDIC:
        return reports_ddic.read(root, service_user_number)
    return reports_messaging.read(root, kind, service_user_number)


# --- what is stored ----------------------------------------------------------------------

_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
# Attributes and elements that carry a payer's sort code or account number.
_ACCOUNT_ATTRIBUTES = re.compile(
    r"""((?<![\w-])(?:number|sortCode|payer-account-number|payer-sort-code|payer-new-account-number|"""
    r"""payer-new-sort-code)\s*=\s*)(["'])([^"']*)\2"""
)
_ACCOUNT_ELEMENTS = re.compile(
    r"(<(PayerSortCode|PayerAccount|PayerAccountNumber|PayerNewSortCode|PayerNewAccountNumber)"
    r"(?:\s[^>]*)?>)([^<]*)(</\2>)"
)


def _mask(value: str) -> str:
    kept = [c for c in value if c.isdigit()]
    if len(kept) <= 2:
        return value
    return "*" * (len(kept) - 2) + "".join(kept[-2:])


def redacted_text(content: bytes) -> str:
    """The file as text to keep on record, with every account number and sort code
    masked to its last two digits: the report is kept, the bank details are not."""
    found = _ENCODING.match(content)
    encoding = found.group(1).decode("ascii") if found else "utf-8"
    try:
        decoded = content.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        decoded = content.decode("latin-1")
    decoded = _ACCOUNT_ATTRIBUTES.sub(lambda m: f"{m[1]}{m[2]}{_mask(m[3])}{m[2]}", decoded)
    return _ACCOUNT_ELEMENTS.sub(lambda m: f"{m[1]}{_mask(m[3])}{m[4]}", decoded)
