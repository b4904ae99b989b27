"""ARUDD (Automated Return of Unpaid Direct Debits): debits the payers' banks returned.

The reason (0-9, A, B) is not in the file as such: returnCode is a four-digit Bacs
code and returnDescription the words (REFER TO PAYER, PAYER DECEASED, ...). The
reason is read from the words; both are kept. Words we do not recognise give reason
"?" (the return is still a return: the service reverses it and asks an officer).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from shared.domain.bacs.reports import (
    ARUDD,
    Report,
    ReportItem,
    ReportRefused,
    check_sun,
    child,
    children,
    day,
    descendants,
    masked,
    optional,
    pence,
    reference,
)

UNKNOWN_REASON = "?"

# Most specific first: "INSTRUCTION CANCELLED - REFER TO PAYER" is a refer to payer,
# and "NO ACCOUNT" must not be read as "ACCOUNT CLOSED".
_WORDS = (
    ("REFER TO PAYER", "0"),
    ("DECEASED", "2"),
    ("TRANSFERRED", "3"),
    ("ADVANCE NOTICE", "4"),
    ("NO INSTRUCTION", "6"),
    ("NO ACCOUNT", "5"),
    ("NOT YET DUE", "8"),
    ("AMOUNT DIFFERS", "7"),
    ("OVERDUE", "9"),
    ("SERVICE USER DIFFERS", "A"),
    ("ORIGINATOR DIFFERS", "A"),
    ("ACCOUNT CLOSED", "B"),
    ("INSTRUCTION CANCELLED", "1"),
)


def reason_from_words(description: str) -> str:
    """The ARUDD reason (0-9, A, B) the bank's words stand for, or "?"."""
    words = " ".join(description.upper().replace("-", " ").split())
    for phrase, code in _WORDS:
        if phrase in words:
            return code
    return UNKNOWN_REASON


def read(root: ET.Element, service_user_number: str) -> Report:
    arudd = child(root, "Data", "ARUDD")
    header = child(arudd, "Header")
    if header is None:
        raise ReportRefused("The ARUDD report has no Header")
    licence = child(arudd, "ServiceLicenseInformation")
    sun = check_sun(
        licence.get("userNumber") if licence is not None else None,
        service_user_number,
        "ServiceLicenseInformation userNumber",
    )
    items = []
    for record in descendants(arudd, "OriginatingAccountRecord"):
        for element in children(record, "ReturnedDebitItem"):
            items.append(_item(element, f"Returned debit {len(items) + 1}"))
    return Report(
        kind=ARUDD,
        report_date=day(header.get("currentProcessingDate"), "The ARUDD header"),
        advice_number=optional(header.get("adviceNumber")),
        service_user_number=sun,
        items=tuple(items),
    )


def _item(element: ET.Element, where: str) -> ReportItem:
    description = " ".join((element.get("returnDescription") or "").split())
    payer = child(element, "PayerAccount")
    ref = element.get("ref")
    if not (ref or "").strip() and payer is not None:
        ref = payer.get("ref")
    return ReportItem(
        reference=reference(ref, where),
        reason_code=reason_from_words(description),
        bacs_code=optional(element.get("returnCode")),
        description=description or "No description given",
        amount_pence=pence(element.get("valueOf"), where),
        original_processing_day=day(element.get("originalProcessingDate"), where),
        transaction_code=optional(element.get("transCode")),
        payer_name=optional(payer.get("name")) if payer is not None else None,
        masked_account=masked(payer.get("number")) if payer is not None else None,
    )
