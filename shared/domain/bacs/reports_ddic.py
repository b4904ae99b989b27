"""DDIC (Direct Debit Indemnity Claim) advices: a payer claimed under the Direct Debit
Guarantee and their bank refunded them; the money is taken back from the council.

VocaDocument/Data/Document carries ServiceUserNumber, then NewAdvices (DDICAdvice:
SUReference, ReasonCode 1-8, PayerSortCode, PayerAccount, PayerName, TotalAmount and
DDCollections/DDCollection with DateOfDirectDebit and Amount) and Cancellations
(DDICCancellation: a claim the paying bank withdrew, same fields).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from shared.domain.bacs.reports import (
    DDIC,
    Collected,
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
    text,
)

REASON = "DDIC"

CLAIM_WORDS = {
    "1": "Amount or date of the Direct Debit differs from the advance notice",
    "2": "No advance notice received by the payer, or the amount is disputed",
    "3": "Instruction cancelled by the paying bank",
    "4": "Payer cancelled the instruction with the service user",
    "5": "No instruction held: the payer disputes having given authority",
    "6": "Signature fraudulent or not the account's authorised signatory",
    "7": "Claim raised at the service user's request",
    "8": "Payer does not recognise the service user collecting",
}


def read(root: ET.Element, service_user_number: str) -> Report:
    document = child(root, "Data", "Document")
    sun = check_sun(text(document, "ServiceUserNumber"), service_user_number, "ServiceUserNumber")
    items: list[ReportItem] = []
    advices = child(document, "NewAdvices")
    for element in children(advices, "DDICAdvice"):
        items.append(_item(element, f"Claim {len(items) + 1}", cancelled=False))
    for element in descendants(document, "DDICCancellation"):
        items.append(_item(element, f"Claim {len(items) + 1}", cancelled=True))
    produced = text(document, "ReportProductionDate") or text(advices, "DateOfDebit")
    return Report(
        kind=DDIC,
        report_date=day(produced, "The DDIC report"),
        advice_number=optional(text(document, "ReportNumber")) or optional(text(advices, "SeqNo")),
        service_user_number=sun,
        items=tuple(items),
    )


def _item(element: ET.Element, where: str, *, cancelled: bool) -> ReportItem:
    code = text(element, "ReasonCode").upper()
    if not code:
        raise ReportRefused(f"{where} has no ReasonCode")
    debits = tuple(
        Collected(
            day(text(c, "DateOfDirectDebit"), where),
            pence(text(c, "Amount"), where),
        )
        for c in descendants(element, "DDCollection")
    )
    words = text(element, "ReasonCodeMeaning") or CLAIM_WORDS.get(code, f"Claim reason {code}")
    if cancelled:
        words = f"Claim withdrawn by the paying bank ({words})"
    return ReportItem(
        reference=reference(text(element, "SUReference"), where),
        reason_code=REASON,
        bacs_code=code[:8],
        description=" ".join(words.split())[:200],
        amount_pence=pence(text(element, "TotalAmount"), where),
        original_processing_day=debits[0].day if len(debits) == 1 else None,
        payer_name=optional(text(element, "PayerName")),
        masked_account=masked(text(element, "PayerAccount")),
        collections=debits,
        claim_cancelled=cancelled,
    )
