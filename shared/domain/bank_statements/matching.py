"""Which account or invoice a statement line pays, and how sure we are.

Pure: no Flask, no SQLAlchemy. The service loads what the rules need in bulk (the
reference index, the open invoices of the amounts on the statement, the names of
the accounts concerned) and asks `decide` about each line. In order:

1. A debit is money out: recorded, never posted.
2. A card (Stripe payout) or Direct Debit settlement is recognised by its bank
   transaction code or its text (SettlementRules, configurable) and not posted:
   each of those payments is on the ledger already, from the provider.
3. A reference naming an invoice number or account reference (references.py):
   read exactly or with look-alike characters -> matched; read through a slip ->
   matched only if the amount or the payer's name agrees with the account, else
   suggested. Two different accounts named -> suggested with both.
4. Otherwise the amount and the payer's name against open invoices: one account
   whose open invoice is for exactly the amount and whose name agrees fully ->
   matched; several, or a name that only half agrees -> suggested; none ->
   unmatched.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from shared.domain.bank_statements.model import StatementLine
from shared.domain.bank_statements.references import Found, Level, ReferenceIndex, Target

MAX_CANDIDATES = 5


class LineOutcome(enum.StrEnum):
    MATCHED = "matched"  # posted as a payment on the account
    SUGGESTED = "suggested"  # waiting for an officer to choose among candidates
    UNMATCHED = "unmatched"  # waiting for an officer: nothing matched
    SETTLEMENT = "settlement"  # a card or Direct Debit settlement: on the ledger already
    DEBIT = "debit"  # money out: recorded, not posted
    ALREADY_KNOWN = "already_known"  # the same bank line came in an earlier statement
    # Matched to an account that has the same transfer recorded by hand already
    # (hand_keyed.py): linked to that payment, not posted again.
    RECORDED_BY_HAND = "recorded_by_hand"


class Rule(enum.StrEnum):
    REFERENCE = "reference"
    REFERENCE_LOOK_ALIKE = "reference_look_alike"
    REFERENCE_SLIP = "reference_slip"
    AMOUNT_AND_NAME = "amount_and_name"
    SETTLEMENT_CODE = "settlement_code"
    SETTLEMENT_TEXT = "settlement_text"
    NONE = "none"


RULE_WORDS = {
    Rule.REFERENCE: "Reference",
    Rule.REFERENCE_LOOK_ALIKE: "Reference, with look-alike characters or zeros left out",
    Rule.REFERENCE_SLIP: "Reference, with one digit swapped or missing",
    Rule.AMOUNT_AND_NAME: "Amount and payer's name",
    Rule.SETTLEMENT_CODE: "Settlement, by transaction code",
    Rule.SETTLEMENT_TEXT: "Settlement, by its text",
    Rule.NONE: "No match",
}


@dataclass(frozen=True)
class SettlementRules:
    """How card and Direct Debit settlements are told apart from payers' transfers.

    `codes`: bank transaction codes, or their start ("PMNT/CCRD" covers every card
    family code of camt.053; BAI2 146 and 147 are bank card deposits). `patterns`:
    regular expressions searched in the payer name and reference, upper case."""

    codes: tuple[str, ...] = ("PMNT/CCRD", "PMNT/RDDT", "146", "147")
    patterns: tuple[str, ...] = (
        r"\bSTRIPE\b",
        r"\bDD COLL",
        r"\bDIRECT DEBIT COLL",
        r"\bBACS CONTRA\b",
    )

    def rule_for(self, line: StatementLine) -> Rule | None:
        code = line.transaction_code.upper()
        if code and any(code == c or code.startswith(c + "/") for c in self.codes):
            return Rule.SETTLEMENT_CODE
        text = f"{line.payer_name} {line.remittance}".upper()
        if any(re.search(p, text) for p in self.patterns):
            return Rule.SETTLEMENT_TEXT
        return None


@dataclass(frozen=True)
class AccountFacts:
    """What the rules need to know about an account a line may pay."""

    account_id: int
    name: PayeeName
    open_invoices: Mapping[int, int] = field(default_factory=dict)  # invoice id -> owed pence


@dataclass(frozen=True)
class PayeeName:
    forename: str = ""
    surname: str = ""
    organisation: str = ""

    @functools.cached_property
    def key_words(self) -> frozenset[str]:
        """Words a payer name must share with this one to agree at all: the surname's,
        or the organisation's without LTD, THE and the like."""
        if self.organisation:
            return frozenset(_words(self.organisation)) - _ORG_WORDS
        return frozenset(_words(self.surname))


@dataclass(frozen=True)
class Candidate:
    account_id: int
    invoice_id: int | None
    rule: Rule


@dataclass(frozen=True)
class Decision:
    outcome: LineOutcome
    rule: Rule
    account_id: int | None = None
    invoice_id: int | None = None
    candidates: tuple[Candidate, ...] = ()


# --- names ------------------------------------------------------------------------------

_TITLES = frozenset({"MR", "MRS", "MS", "MISS", "DR", "MX", "PROF", "REV", "SIR", "LADY"})
_ORG_WORDS = frozenset({"LTD", "LIMITED", "PLC", "LLP", "CO", "COMPANY", "THE", "AND", "TA"})
_WORD = re.compile(r"[A-Z0-9]+")


class NameAgreement(enum.IntEnum):
    NONE = 0
    PARTIAL = 1  # the surname and nothing against it, or part of an organisation's name
    FULL = 2  # surname and forename (or its initial), or the organisation's whole name


def _words(text: str) -> list[str]:
    return _WORD.findall((text or "").upper().replace("'", ""))


def name_agreement(payer: str, name: PayeeName) -> NameAgreement:
    """How far the bank's payer name agrees with the account holder's name.

    Banks print names as "SMITH J", "J A SMITH", "MR JOHN SMITH" or "ACME LTD": the
    order is free, titles and company suffixes are ignored, an initial stands for a
    forename. A different forename disagrees, however the surname matches."""
    words = [w for w in _words(payer) if w not in _TITLES]
    if not words:
        return NameAgreement.NONE
    if name.organisation:
        theirs = [w for w in _words(name.organisation) if w not in _ORG_WORDS]
        ours = [w for w in words if w not in _ORG_WORDS]
        if theirs and ours == theirs:
            return NameAgreement.FULL
        smaller, larger = sorted((set(theirs), set(ours)), key=len)
        if len(smaller) >= 2 and smaller <= larger:
            return NameAgreement.PARTIAL
        return NameAgreement.NONE
    surname = _words(name.surname)
    if not surname or not set(surname) <= set(words):
        return NameAgreement.NONE
    rest = [w for w in words if w not in surname]
    forenames = _words(name.forename)
    if not rest:
        return NameAgreement.PARTIAL
    if not forenames:
        return NameAgreement.PARTIAL
    first = forenames[0]
    if first in rest or any(len(w) <= 2 and w[0] == first[0] for w in rest):
        return NameAgreement.FULL
    return NameAgreement.NONE


# --- the decision -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceReading:
    """What references.find made of one line's text, reduced to the rule's terms."""

    level: Level | None
    targets: tuple[Target, ...]


def read_reference(index: ReferenceIndex, line: StatementLine) -> ReferenceReading:
    """The best-level references named in the line, an invoice and its own account
    counted once (the invoice is the more precise)."""
    found: list[Found] = index.find(line.remittance)
    if not found:
        return ReferenceReading(None, ())
    best = min(f.level for f in found)
    targets = {f.target for f in found if f.level == best}
    invoiced = {t.account_id for t in targets if t.invoice_id is not None}
    targets = {t for t in targets if t.invoice_id is not None or t.account_id not in invoiced}
    return ReferenceReading(best, tuple(sorted(targets, key=lambda t: t.key)))


def _agrees(line: StatementLine, target: Target, facts: AccountFacts | None) -> bool:
    """Whether the amount or the payer's name bears out a reference read through a slip."""
    if facts is None:
        return False
    owed = facts.open_invoices
    amount = line.amount_pence
    if target.invoice_id is not None and owed.get(target.invoice_id) == amount:
        return True
    if target.invoice_id is None and (amount in owed.values() or amount == sum(owed.values())):
        return True
    return name_agreement(line.payer_name, facts.name) == NameAgreement.FULL


_REFERENCE_RULES = {
    Level.EXACT: Rule.REFERENCE,
    Level.LOOK_ALIKE: Rule.REFERENCE_LOOK_ALIKE,
    Level.SLIP: Rule.REFERENCE_SLIP,
}


def decide(
    line: StatementLine,
    reading: ReferenceReading,
    *,
    settlements: SettlementRules,
    accounts: Mapping[int, AccountFacts],
    owing_exactly: Mapping[int, Sequence[tuple[int, int]]],
) -> Decision:
    """What to do with one line. `owing_exactly` maps an amount to the (invoice id,
    account id) of each open invoice owing exactly that; `accounts` has the facts of
    every account in it and every account the reading names."""
    if not line.is_credit:
        return Decision(LineOutcome.DEBIT, Rule.NONE)
    settlement = settlements.rule_for(line)
    if settlement is not None:
        return Decision(LineOutcome.SETTLEMENT, settlement)
    if reading.targets:
        rule = _REFERENCE_RULES[reading.level]
        candidates = tuple(Candidate(t.account_id, t.invoice_id, rule) for t in reading.targets)
        if len(reading.targets) > 1:
            return _suggest(candidates)
        target = reading.targets[0]
        if reading.level == Level.SLIP and not _agrees(
            line, target, accounts.get(target.account_id)
        ):
            return _suggest(candidates)
        return Decision(LineOutcome.MATCHED, rule, target.account_id, target.invoice_id)
    return _by_amount_and_name(line, accounts, owing_exactly.get(line.amount_pence, ()))


class OwingByName:
    """The open invoices owing each amount, looked up by a word of the holder's name.

    A common amount (£50.00) is owed by thousands of accounts; a payer's name shares a
    word with a handful. Indexing them once by (amount, name word) lets each line look
    at only those: the same answer as comparing the name with every account (an
    account sharing no word with the payer cannot agree), in a fraction of the time."""

    def __init__(
        self,
        owing_exactly: Mapping[int, Sequence[tuple[int, int]]],
        accounts: Mapping[int, AccountFacts],
    ) -> None:
        self._index: dict[tuple[int, str], list[tuple[int, int]]] = {}
        for amount, owing in owing_exactly.items():
            for invoice_id, account_id in owing:
                facts = accounts.get(account_id)
                for word in facts.name.key_words if facts else ():
                    self._index.setdefault((amount, word), []).append((invoice_id, account_id))

    def for_line(self, line: StatementLine) -> dict[int, list[tuple[int, int]]]:
        """{amount: invoices owing it whose holder shares a word with the payer}."""
        seen: dict[tuple[int, int], None] = {}
        for word in _words(line.payer_name):
            for pair in self._index.get((line.amount_pence, word), ()):
                seen[pair] = None
        return {line.amount_pence: list(seen)} if seen else {}


def _suggest(candidates: Iterable[Candidate]) -> Decision:
    chosen = tuple(candidates)[:MAX_CANDIDATES]
    return Decision(LineOutcome.SUGGESTED, chosen[0].rule, candidates=chosen)


def _by_amount_and_name(
    line: StatementLine,
    accounts: Mapping[int, AccountFacts],
    owing: Sequence[tuple[int, int]],
) -> Decision:
    by_account: dict[int, list[int]] = {}
    for invoice_id, account_id in owing:
        by_account.setdefault(account_id, []).append(invoice_id)
    # Most accounts owing a common amount (£50.00) share no word with the payer's
    # name: a set intersection rules them out before the full comparison.
    payer_words = frozenset(_words(line.payer_name))
    agreement = {
        account_id: name_agreement(line.payer_name, accounts[account_id].name)
        if account_id in accounts and payer_words & accounts[account_id].name.key_words
        else NameAgreement.NONE
        for account_id in by_account
    }
    full = [a for a, level in agreement.items() if level == NameAgreement.FULL]
    partial = [a for a, level in agreement.items() if level == NameAgreement.PARTIAL]
    rule = Rule.AMOUNT_AND_NAME
    if len(full) == 1:
        account_id = full[0]
        invoices = by_account[account_id]
        invoice_id = invoices[0] if len(invoices) == 1 else None
        return Decision(LineOutcome.MATCHED, rule, account_id, invoice_id)
    named = sorted(full) + sorted(partial)
    if named:
        return _suggest(
            Candidate(a, by_account[a][0] if len(by_account[a]) == 1 else None, rule) for a in named
        )
    return Decision(LineOutcome.UNMATCHED, Rule.NONE)
