"""The reports Bacs sends back (DOMAIN.md, Bacs) as the bank's XML, for the demo's
replay to import through the real service (returns.import_report): AUDDIS and ADDACS
messaging advices, and an ARUDD of returned debits."""

from __future__ import annotations

from datetime import date
from xml.sax.saxutils import quoteattr

from flask import current_app

from shared.models import Collection, Mandate
from shared.services.directdebit.bank_details import open_sealed

_SIGNATURE = "<SignatureMethod>RSA-SHA1</SignatureMethod><Signature>ZGVtbw==</Signature>"
_ARUDD_WORDS = {"0": ("0128", "REFER TO PAYER"), "5": ("0133", "NO ACCOUNT")}


def _sun() -> str:
    return str(current_app.config["BACS_SERVICE_USER_NUMBER"])


def messaging_advice(mandate: Mandate, reason: str, day: date) -> str:
    details = open_sealed(mandate.bank_details_encrypted)
    return (
        f'<MessagingAdvice user-number="{_sun()}" record-type="R" '
        f'effective-date="{day.isoformat()}" reference={quoteattr(mandate.reference)} '
        f"payer-name={quoteattr(mandate.account_holder_name)} "
        f'payer-account-number="{details.account_number}" '
        f'payer-sort-code="{details.sort_code}" reason-code="{reason}" '
        'transaction-code="0N" aosn="0" due-date=" "/>'
    )


def messaging(kind: str, advices: list[str], day: date) -> bytes:
    body = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<BACSDocument><Data><MessagingAdvices>'
        f'<MessagingHeader advice-type="{kind}" report-type="REPORT1" user-number="{_sun()}" '
        f'user-name="BORSETSHIRE CC" report-generation-date="{day.isoformat()}" '
        'currency-code="GBP"/><AddresseeInformation name="BORSETSHIRE CC"/>'
        + "".join(advices)
        + '<MessagingError code="0" message=" "/></MessagingAdvices></Data>'
        + _SIGNATURE
        + "</BACSDocument>\n"
    )
    return body.encode("iso-8859-1")


def _pounds(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


def returned_item(collection: Collection, mandate: Mandate, processing_day: date, reason: str):
    details = open_sealed(mandate.bank_details_encrypted)
    code, words = _ARUDD_WORDS[reason]
    sort_code = f"{details.sort_code[:2]}-{details.sort_code[2:4]}-{details.sort_code[4:]}"
    item = (
        f"<ReturnedDebitItem ref={quoteattr(mandate.reference.ljust(18))} "
        f'transCode="{collection.transaction_code}" returnCode="{code}" '
        f'returnDescription="{words}" originalProcessingDate="{processing_day.isoformat()}" '
        f'valueOf="{_pounds(collection.amount_pence)}" currency="GBP">'
        f'<PayerAccount number="{details.account_number}" ref={quoteattr(mandate.reference)} '
        f'name={quoteattr(mandate.account_holder_name)} sortCode="{sort_code}" '
        'bankName="BANK PLC" branchName="HIGH STREET"/></ReturnedDebitItem>'
    )
    return item, collection.amount_pence


def arudd(items: list[tuple[str, int]], day: date) -> bytes:
    total = sum(pence for _, pence in items)
    body = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<BACSDocument><Data><ARUDD>'
        f'<Header reportType="REFT1019" adviceNumber="{day:%j}01" '
        f'currentProcessingDate="{day.isoformat()}"/>'
        '<AddresseeInformation name="BORSETSHIRE CC"/>'
        f'<ServiceLicenseInformation userName="BORSETSHIRE CC" userNumber="{_sun()}"/>'
        "<Advice><OriginatingAccountRecords><OriginatingAccountRecord>"
        '<OriginatingAccount name="BORSETSHIRE CC" number="00000000" sortCode="00-00-00" '
        'type="0"/>'
        + "".join(item for item, _ in items)
        + f'<Totals numberOf="{len(items)}" valueOf="{_pounds(total)}" currency="GBP"/>'
        "</OriginatingAccountRecord></OriginatingAccountRecords></Advice></ARUDD></Data>"
        + _SIGNATURE
        + "</BACSDocument>\n"
    )
    return body.encode("iso-8859-1")
