"""The double-entry rules of the daily journal to the general ledger (GL).

The recovery ledger keeps one account per debtor; the council's GL keeps one
debtors control account for all of them. Every ledger entry moves the debtors
control account by its own amount (the ledger's sign: positive = the debtor owes
more = a debit to debtors control) and the other side goes where the money or
the income really is:

| posting | debtors control | other side |
|---|---|---|
| invoice | debit (gross) | credit the income code's ledger code (net) and VAT output (VAT) |
| payment | credit | debit the channel's bank or clearing account |
| credit note | credit (gross) | debit the income code (net) and VAT output (VAT) |
| write-off | credit | debit the write-off code (under the income code's cost centre) |
| refund | debit | credit the channel's bank or clearing account |
| refund returned | credit | debit the channel the refund went out through |
| credit transferred out / in | debit / credit | each other (they pair on the day) |

A reversal mirrors what it reverses: the same accounts, the other way round. A
reversed transfer-in has no other side of its own (its pair stays), so it goes to
suspense. Income with no income code goes to suspense too, and so does any
difference between the day's transfers out and in (they are written in one
transaction, so it is always nil unless something is wrong). So every journal
balances by construction, whatever the mix.

Pure: frozen dataclasses in, frozen dataclasses out; amounts in integer pence.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


class Posting(enum.StrEnum):
    """What a ledger entry is, as the GL sees it (the ledger's kinds, adjustments split)."""

    INVOICE = "invoice"
    PAYMENT = "payment"
    CREDIT_NOTE = "credit_note"
    WRITE_OFF = "write_off"
    REFUND = "refund"
    REFUND_RETURNED = "refund_returned"  # a refund the provider could not pay: money back
    TRANSFER_OUT = "transfer_out"  # credit moved off an account...
    TRANSFER_IN = "transfer_in"  # ...and onto another


class Channel(enum.StrEnum):
    """Where money comes in and goes out: the GL account of each payment method."""

    BANK = "bank"
    CARD = "card"
    DIRECT_DEBIT = "direct_debit"


# Payment methods (shared.models.PaymentMethod values) to the account their money lands in.
# A refund of a credit note has no method: it is paid from the bank.
CHANNEL_OF_METHOD: dict[str | None, Channel] = {
    "card": Channel.CARD,
    "telephone_card": Channel.CARD,
    "direct_debit": Channel.DIRECT_DEBIT,
    "bank_transfer": Channel.BANK,
    "cheque": Channel.BANK,
    "cash": Channel.BANK,
    None: Channel.BANK,
}

_CHANNEL_WORDS = {
    Channel.BANK: "bank",
    Channel.CARD: "card",
    Channel.DIRECT_DEBIT: "Direct Debit",
}

# The order sections appear in the file.
_ORDER = {posting: n for n, posting in enumerate(Posting)}


def channel_of(method: str | None) -> Channel:
    return CHANNEL_OF_METHOD[method]


@dataclass(frozen=True)
class GlCodes:
    """The GL codes of the accounts that are not income codes (from settings)."""

    debtors_control: str
    vat_output: str
    bank: str
    card_clearing: str
    direct_debit_clearing: str
    write_off: str
    suspense: str

    def channel(self, channel: Channel) -> str:
        return {
            Channel.BANK: self.bank,
            Channel.CARD: self.card_clearing,
            Channel.DIRECT_DEBIT: self.direct_debit_clearing,
        }[channel]


@dataclass(frozen=True)
class IncomeCodeRef:
    """An income code as the GL knows it."""

    code: str
    ledger_code: str
    cost_centre: str
    description: str = ""


@dataclass(frozen=True)
class EntryTotal:
    """The day's ledger entries of one kind, summed.

    amount_pence is the sum of the entries' ledger amounts (the ledger's sign);
    vat_pence the VAT within it, with the same sign (invoices and credit notes and
    their reversals; 0 otherwise). channel is for payments, refunds and returned
    refunds; income for invoices, credit notes and write-offs (None: no income code).
    """

    posting: Posting
    amount_pence: int
    effective_date: date
    reversal: bool = False
    vat_pence: int = 0
    channel: Channel | None = None
    income: IncomeCodeRef | None = None
    entry_count: int = 1


@dataclass(frozen=True)
class JournalLine:
    ledger_code: str
    cost_centre: str
    description: str
    effective_date: date | None
    debit_pence: int
    credit_pence: int


@dataclass(frozen=True)
class Journal:
    day: date
    lines: tuple[JournalLine, ...]
    entry_count: int

    @property
    def debit_pence(self) -> int:
        return sum(line.debit_pence for line in self.lines)

    @property
    def credit_pence(self) -> int:
        return sum(line.credit_pence for line in self.lines)


class JournalError(ValueError):
    """A total the rules cannot post (says which and why)."""


def _what(total: EntryTotal) -> str:
    words = {
        Posting.INVOICE: "Invoices raised",
        Posting.PAYMENT: "Payments received",
        Posting.CREDIT_NOTE: "Credit notes",
        Posting.WRITE_OFF: "Write-offs",
        Posting.REFUND: "Refunds paid",
        Posting.REFUND_RETURNED: "Refunds returned unpaid",
        Posting.TRANSFER_OUT: "Credit transferred out of accounts",
        Posting.TRANSFER_IN: "Credit transferred into accounts",
    }[total.posting]
    if total.channel is not None:
        words += f" by {_CHANNEL_WORDS[total.channel]}"
    if total.posting in (Posting.INVOICE, Posting.CREDIT_NOTE, Posting.WRITE_OFF):
        words += f" - {total.income.code}" if total.income else " - no income code"
    return f"Reversed: {words[0].lower()}{words[1:]}" if total.reversal else words


def _check(total: EntryTotal) -> None:
    if not isinstance(total.amount_pence, int) or not isinstance(total.vat_pence, int):
        raise JournalError("Journal amounts are whole pence")
    if total.vat_pence and (total.vat_pence > 0) != (total.amount_pence > 0):
        raise JournalError(f"{_what(total)}: the VAT has the other sign from the amount")
    if abs(total.vat_pence) > abs(total.amount_pence):
        raise JournalError(f"{_what(total)}: the VAT is more than the amount")
    if total.vat_pence and total.posting not in (Posting.INVOICE, Posting.CREDIT_NOTE):
        raise JournalError(f"{_what(total)}: only invoices and credit notes carry VAT")
    money_moves = (Posting.PAYMENT, Posting.REFUND, Posting.REFUND_RETURNED)
    if (total.channel is not None) != (total.posting in money_moves):
        raise JournalError(f"{_what(total)}: a channel is for payments and refunds only")


def _postings(total: EntryTotal, codes: GlCodes) -> list[tuple[str, str, str, int]]:
    """(ledger code, cost centre, description, signed pence: + debit, - credit) for one
    total: debtors control by the ledger amount, the other side(s) by its opposite."""
    what = _what(total)
    amount, vat = total.amount_pence, total.vat_pence
    control = (codes.debtors_control, "", what, amount)
    income = total.income
    income_code = income.ledger_code if income else codes.suspense
    income_centre = income.cost_centre if income else ""
    match total.posting:
        case Posting.INVOICE | Posting.CREDIT_NOTE:
            return [
                control,
                (income_code, income_centre, what, -(amount - vat)),
                (codes.vat_output, "", f"{what} (VAT)", -vat),
            ]
        case Posting.PAYMENT | Posting.REFUND | Posting.REFUND_RETURNED:
            return [control, (codes.channel(total.channel), "", what, -amount)]
        case Posting.WRITE_OFF:
            return [control, (codes.write_off, income_centre, what, -amount)]
        case Posting.TRANSFER_OUT | Posting.TRANSFER_IN if total.reversal:
            # Its pair still stands, so nothing on the day answers it.
            return [control, (codes.suspense, "", what, -amount)]
        case Posting.TRANSFER_OUT | Posting.TRANSFER_IN:
            return [control]  # the day's outs and ins pair up (see build_journal)
    raise JournalError(f"No rule for {total.posting}")  # pragma: no cover


def build_journal(day: date, totals: Iterable[EntryTotal], codes: GlCodes) -> Journal:
    """The day's balanced journal lines: one line per account, description and effective
    date, in debit or credit (never negative, never both), nil lines left out."""
    totals = list(totals)
    for total in totals:
        _check(total)
    signed: dict[tuple, int] = {}
    unpaired = 0
    for total in totals:
        if total.posting in (Posting.TRANSFER_OUT, Posting.TRANSFER_IN) and not total.reversal:
            unpaired += total.amount_pence
        order = (_ORDER[total.posting], total.reversal, total.effective_date)
        for n, (code, centre, description, pence) in enumerate(_postings(total, codes)):
            key = (*order, description, n, code, centre)
            signed[key] = signed.get(key, 0) + pence
    if unpaired:
        key = (len(_ORDER), False, day, "Credit transfers that do not pair: investigate", 1)
        signed[(*key, codes.suspense, "")] = -unpaired
    lines = tuple(
        JournalLine(
            ledger_code=code,
            cost_centre=centre,
            description=description,
            effective_date=effective,
            debit_pence=max(pence, 0),
            credit_pence=max(-pence, 0),
        )
        for (_, _, effective, description, _, code, centre), pence in sorted(signed.items())
        if pence
    )
    journal = Journal(day, lines, entry_count=sum(t.entry_count for t in totals))
    if journal.debit_pence != journal.credit_pence:  # pragma: no cover - by construction
        raise JournalError(f"The journal for {day} does not balance")
    return journal


# The file's columns, in order (docs/journal.md).
COLUMNS = (
    "journal_date",
    "line_no",
    "ledger_code",
    "cost_centre",
    "description",
    "effective_date",
    "debit",
    "credit",
    "reference",
)


def journal_reference(day: date) -> str:
    """The GL batch reference of a day's journal, on every line."""
    return f"AR-JNL-{day:%Y%m%d}"


def pounds(pence: int) -> str:
    """Pence as the file writes money: pounds with two decimals, no sign, no separators."""
    if pence < 0:
        raise JournalError("A journal column is never negative")
    return f"{pence // 100}.{pence % 100:02d}"


def _text(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (OWASP)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def rows(journal: Journal) -> list[list[str]]:
    """The file's rows, header first."""
    reference = journal_reference(journal.day)
    out = [list(COLUMNS)]
    for n, line in enumerate(journal.lines, start=1):
        out.append(
            [
                journal.day.isoformat(),
                str(n),
                _text(line.ledger_code),
                _text(line.cost_centre),
                _text(line.description),
                line.effective_date.isoformat() if line.effective_date else "",
                pounds(line.debit_pence),
                pounds(line.credit_pence),
                reference,
            ]
        )
    return out
