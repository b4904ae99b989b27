"""Realistic Bacs report files for tests and the benchmark, laid out as Bacs sends them:
BACSDocument envelopes for ARUDD, ADDACS and AUDDIS (ISO-8859-1 by default, as
banks' downloads usually are), a VocaDocument for DDIC. Each builder takes plain
tuples and returns the file's bytes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import quoteattr

SUN = "999123"  # BACS_SERVICE_USER_NUMBER's default

ARUDD_WORDS = {
    "0": ("0128", "REFER TO PAYER"),
    "1": ("0129", "INSTRUCTION CANCELLED"),
    "2": ("0130", "PAYER DECEASED"),
    "3": ("0131", "ACCOUNT TRANSFERRED"),
    "4": ("0132", "ADVANCE NOTICE DISPUTED"),
    "5": ("0133", "NO ACCOUNT"),
    "6": ("0134", "NO INSTRUCTION"),
    "7": ("0135", "AMOUNT DIFFERS"),
    "8": ("0136", "AMOUNT NOT YET DUE"),
    "9": ("0137", "PRESENTATION OVERDUE"),
    "A": ("0138", "SERVICE USER DIFFERS"),
    "B": ("0139", "ACCOUNT CLOSED"),
}

_SIGNATURE = (
    "<SignatureMethod>RSA-SHA1</SignatureMethod>"
    "<Signature>c2lnbmF0dXJlIG5vdCBjaGVja2VkIGluIHRlc3Rz</Signature>"
)


@dataclass(frozen=True)
class Return:
    reference: str
    pounds: str  # "25.00", as Bacs writes it
    reason: str = "0"  # ARUDD reason 0-9, A, B
    original_processing_day: date = date(2026, 6, 12)
    payer_name: str = "A SMITH"
    account: str = "66374958"
    sort_code: str = "08-99-99"
    trans_code: str = "17"


def _pence(pounds: str) -> int:
    """For the Totals record; a deliberately bad amount (a test of refusals) counts 0."""
    try:
        return int(Decimal(pounds.replace(",", "")) * 100)
    except InvalidOperation:
        return 0


def _prolog(encoding: str) -> str:
    return f'<?xml version="1.0" encoding="{encoding}"?>\n'


def arudd(
    returns: list[Return],
    *,
    sun: str = SUN,
    processing_day: date = date(2026, 6, 16),
    advice_number: str = "00123",
    encoding: str = "ISO-8859-1",
) -> bytes:
    items = []
    for r in returns:
        code, words = ARUDD_WORDS.get(r.reason, ("0999", r.reason))
        items.append(
            f'<ReturnedDebitItem ref={quoteattr(r.reference.ljust(18))} transCode="{r.trans_code}" '
            f'returnCode="{code}" returnDescription="{words}" '
            f'originalProcessingDate="{r.original_processing_day.isoformat()}" '
            f'valueOf="{r.pounds}" currency="GBP">'
            f'<PayerAccount number="{r.account}" ref={quoteattr(r.reference)} '
            f'name={quoteattr(r.payer_name)} sortCode="{r.sort_code}" '
            'bankName="BANK PLC" branchName="HIGH STREET"/>'
            "</ReturnedDebitItem>"
        )
    total = sum(_pence(r.pounds) for r in returns)
    body = (
        _prolog(encoding) + '<BACSDocument xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="newbacs-advices.xsd"><Data><ARUDD>'
        f'<Header reportType="REFT1019" adviceNumber="{advice_number}" '
        f'currentProcessingDate="{processing_day.isoformat()}"/>'
        '<AddresseeInformation name="BORSETSHIRE CC"/>'
        f'<ServiceLicenseInformation userName="BORSETSHIRE CC" userNumber="{sun}"/>'
        "<Advice><OriginatingAccountRecords><OriginatingAccountRecord>"
        '<OriginatingAccount name="BORSETSHIRE DD" number="90909090" sortCode="20-00-00" '
        'type="0" bankName="COUNCIL BANK" branchName="COUNTY HALL"/>'
        + "".join(items)
        + f'<Totals numberOf="{len(returns)}" valueOf="{total // 100}.{total % 100:02d}" '
        'currency="GBP"/>'
        "</OriginatingAccountRecord></OriginatingAccountRecords></Advice>"
        "</ARUDD></Data>" + _SIGNATURE + "</BACSDocument>\n"
    )
    return body.encode(encoding)


@dataclass(frozen=True)
class Advice:
    reference: str
    reason: str  # ADDACS 0-3/B-E/R or AUDDIS code
    payer_name: str = "A SMITH"
    account: str = "66374958"
    sort_code: str = "089999"
    new_sort_code: str = ""
    new_account: str = ""
    new_name: str = ""
    effective_date: date = date(2026, 6, 16)
    transaction_code: str = "0N"


def messaging(
    kind: str,
    advices: list[Advice],
    *,
    sun: str = SUN,
    generated: date = date(2026, 6, 16),
    encoding: str = "ISO-8859-1",
) -> bytes:
    rows = []
    for a in advices:
        extra = ""
        if a.new_sort_code or a.new_account or a.new_name:
            extra = (
                f'payer-new-sort-code="{a.new_sort_code or "0"}" '
                f'payer-new-account-number="{a.new_account or "0"}" '
                f"payer-new-name={quoteattr(a.new_name or ' ')} "
            )
        rows.append(
            f'<MessagingAdvice user-number="{sun}" record-type="{kind[:1].upper()}" '
            f'effective-date="{a.effective_date.isoformat()}" reference={quoteattr(a.reference)} '
            f'payer-name={quoteattr(a.payer_name)} payer-account-number="{a.account}" '
            f'payer-sort-code="{a.sort_code}" reason-code="{a.reason}" {extra}'
            f'transaction-code="{a.transaction_code}" aosn="0" due-date=" "/>'
        )
    body = (
        _prolog(encoding) + "<BACSDocument><Data><MessagingAdvices>"
        f'<MessagingHeader advice-type="{kind.upper()}" report-type="REPORT1" '
        f'user-number="{sun}" user-name="BORSETSHIRE CC" '
        f'report-generation-date="{generated.isoformat()}" currency-code="GBP"/>'
        '<AddresseeInformation name="BORSETSHIRE CC" address-line1="COUNTY HALL"/>'
        + "".join(rows)
        + '<MessagingError code="0" message=" "/>'
        "</MessagingAdvices></Data>" + _SIGNATURE + "</BACSDocument>\n"
    )
    return body.encode(encoding)


@dataclass(frozen=True)
class Claim:
    reference: str
    pounds: str
    debits: tuple[tuple[date, str], ...]
    reason: str = "1"
    payer_name: str = "A SMITH"
    account: str = "66374958"
    sort_code: str = "089999"


def ddic(
    claims: list[Claim],
    *,
    sun: str = SUN,
    produced: date = date(2026, 6, 16),
    cancellations: list[Claim] = (),
    encoding: str = "UTF-8",
) -> bytes:
    def advice(tag: str, n: int, c: Claim) -> str:
        debits = "".join(
            f"<DDCollection><DateOfDirectDebit>{d.isoformat()}</DateOfDirectDebit>"
            f"<Amount>{p}</Amount></DDCollection>"
            for d, p in c.debits
        )
        return (
            f"<{tag}><SeqNo>{n}</SeqNo><PayingBankReference>PB{n:08d}</PayingBankReference>"
            f"<SUReference>{c.reference}</SUReference><ReasonCode>{c.reason}</ReasonCode>"
            f"<PayerSortCode>{c.sort_code}</PayerSortCode><PayerAccount>{c.account}</PayerAccount>"
            f"<PayerName>{c.payer_name}</PayerName><NoOfAdvForClaim>{len(c.debits)}"
            f"</NoOfAdvForClaim><TotalAmount>{c.pounds}</TotalAmount>"
            f"<DDCollections>{debits}</DDCollections></{tag}>"
        )

    new = "".join(advice("DDICAdvice", n, c) for n, c in enumerate(claims, start=1))
    withdrawn = "".join(advice("DDICCancellation", n, c) for n, c in enumerate(cancellations, 1))
    body = (
        _prolog(encoding) + '<VocaDocument><Data><Document type="DDIC">'
        "<StreamStart><DocumentType>DDIC</DocumentType></StreamStart>"
        "<CompanyName>BORSETSHIRE CC</CompanyName>"
        "<ReportTitle>Direct Debit Indemnity Claim Advice</ReportTitle>"
        f"<ReportProductionDate>{produced.isoformat()}T00:00:00</ReportProductionDate>"
        f"<ServiceUserNumber>{sun}</ServiceUserNumber>"
        "<ServiceUserName>BORSETSHIRE CC</ServiceUserName>"
        f"<NewAdvices>{new}<TotalNoOfAdvices>{len(claims)}</TotalNoOfAdvices>"
        f"<DateOfDebit>{produced.isoformat()}</DateOfDebit></NewAdvices>"
        + (f"<Cancellations>{withdrawn}</Cancellations>" if cancellations else "")
        + "</Document></Data></VocaDocument>\n"
    )
    return body.encode(encoding)


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<BACSDocument><Data><ARUDD><Header adviceNumber="&lol3;"/></ARUDD></Data></BACSDocument>
"""
