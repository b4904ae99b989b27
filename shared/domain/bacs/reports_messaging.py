"""ADDACS (instructions amended or cancelled by the payer's bank) and AUDDIS
(instructions rejected): BACSDocument/Data/MessagingAdvices.

Each MessagingAdvice carries its own user-number: one for another service user
refuses the whole file, as the header's would. An ADDACS 3 or C (and an AUDDIS C)
names the payer's new sort code and account number: kept as NewDetails, in memory.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from shared.domain.bacs.reports import (
    NewDetails,
    Report,
    ReportItem,
    ReportRefused,
    check_sun,
    child,
    children,
    day,
    digits,
    masked,
    optional,
    reference,
)

# The words for each reason code, where the advice itself gives none.
ADDACS_WORDS = {
    "0": "Instruction cancelled - refer to payer",
    "1": "Instruction cancelled by payer",
    "2": "Payer deceased",
    "3": "Account transferred to a new bank or building society",
    "B": "Account closed",
    "C": "Account transferred to a different branch",
    "D": "Advance notice disputed",
    "E": "Instruction amended",
    "R": "Instruction reinstated",
}
AUDDIS_WORDS = {
    "1": "Instruction cancelled by payer",
    "2": "Payer deceased",
    "3": "Account transferred",
    "5": "No account (or wrong account type)",
    "6": "No instruction",
    "B": "Account closed",
    "C": "Account transferred to a different branch",
    "F": "Invalid account type",
    "G": "Bank will not accept Direct Debits on this account",
    "H": "Instruction has expired",
    "I": "Payer reference is not unique",
    "K": "Instruction cancelled by the paying bank",
    "L": "Incorrect payer's account details",
    "M": "Transaction code or service user status incompatible",
    "N": "Transaction disallowed at the payer's branch",
    "O": "Invalid reference",
    "P": "Payer's name not present",
    "Q": "Service user's name is blank",
}


def read(root: ET.Element, kind: str, service_user_number: str) -> Report:
    messaging = child(root, "Data", "MessagingAdvices")
    header = child(messaging, "MessagingHeader")
    if header is None:
        raise ReportRefused(f"The {kind.upper()} report has no MessagingHeader")
    sun = check_sun(header.get("user-number"), service_user_number, "MessagingHeader")
    words = ADDACS_WORDS if kind == "addacs" else AUDDIS_WORDS
    items = []
    for n, advice in enumerate(children(messaging, "MessagingAdvice"), start=1):
        where = f"Advice {n}"
        if optional(advice.get("user-number")) is not None:
            check_sun(advice.get("user-number"), service_user_number, where)
        items.append(_item(advice, where, words))
    report_date = day(header.get("report-generation-date"), "The MessagingHeader")
    return Report(
        kind=kind,
        report_date=report_date,
        advice_number=optional(header.get("advice-number") or header.get("report-number")),
        service_user_number=sun,
        items=tuple(items),
    )


def _item(advice: ET.Element, where: str, words: dict[str, str]) -> ReportItem:
    code = (advice.get("reason-code") or "").strip().upper()
    if not code:
        raise ReportRefused(f"{where} has no reason-code")
    new_sort = digits(advice.get("payer-new-sort-code"), 6)
    new_account = digits(advice.get("payer-new-account-number"), 8)
    new_name = optional(advice.get("payer-new-name"))
    new = None
    if new_sort or new_account or new_name:
        new = NewDetails(new_sort, new_account, " ".join(new_name.split()) if new_name else None)
    return ReportItem(
        reference=reference(advice.get("reference"), where),
        reason_code=code[:4],
        bacs_code=None,
        description=words.get(code, f"Reason code {code}"),
        transaction_code=optional(advice.get("transaction-code")),
        effective_date=day(advice.get("effective-date") or advice.get("due-date"), where),
        payer_name=optional(advice.get("payer-name")),
        masked_account=masked(advice.get("payer-account-number")),
        new_details=new,
    )
