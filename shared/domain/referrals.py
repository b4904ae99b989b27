"""Rules for referring debts to an enforcement agent or to legal (pure: no database,
no Flask).

Referral is the top of the recovery ladder (DOMAIN.md), and the one step that can
put bailiffs on a doorstep, so it is refused, saying why, for any debt whose
recovery must wait: the debtor has died (an officer deals with the estate), is in
Breathing Space (no enforcement or agent action at all), a hold covers the debt,
an active arrangement covers it (the debtor is paying as agreed), it is already
referred, nothing is owed on it, or it is statute-barred (shared.domain.limitation).
Each destination has its own step first (shared.domain.pre_action): an individual's
debts go to legal only after a Letter of Claim and the 30 days to reply to it, with
no reply waiting for an officer; a debt goes to an enforcement agent only with a
County Court judgment for it.

The pack's CSV row is built here too, so its fixed column order and the way
amounts and dates are written are tested without a database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from shared.domain import pre_action
from shared.domain.holds import HoldInForce, in_force, recovery_paused

ENFORCEMENT_AGENT, LEGAL = "enforcement_agent", "legal"
DESTINATION_WORDS = {
    ENFORCEMENT_AGENT: "an enforcement agent",
    LEGAL: "legal",
}
# The recovery stage (shared.models.RecoveryStage value) each destination moves a debt to.
STAGE_FOR = {
    ENFORCEMENT_AGENT: "referred_enforcement",
    LEGAL: "referred_legal",
}
REFERRED_STAGE_WORDS = {
    "referred_enforcement": "enforcement agents",
    "referred_legal": "legal",
}

# What an enforcement agent's or solicitor's system loads: never reorder or rename
# these, add new columns at the end.
PACK_COLUMNS = (
    "account_reference",
    "debtor_name",
    "address",
    "postcode",
    "email",
    "phone",
    "invoice_numbers",
    "amount_referred_gbp",
    "oldest_due_date",
    "destination",
    "referral_date",
    "referring_officer",
)


@dataclass(frozen=True)
class Debt:
    invoice_id: int
    number: str
    due_date: date
    outstanding_pence: int
    recovery_stage: str  # a RecoveryStage value
    in_active_arrangement: bool = False
    statute_barred_since: date | None = None  # shared.domain.limitation.barred_since
    covered_by_judgment: bool = False  # a County Court judgment names it


@dataclass(frozen=True)
class Debtor:
    deceased: bool
    in_breathing_space: bool  # by the account's own Breathing Space dates
    holds: tuple[HoldInForce, ...] = ()
    is_person: bool = False  # an individual (or sole trader): the Pre-Action Protocol applies
    claim_letters: tuple[pre_action.ClaimLetter, ...] = ()


def _covering(holds: Iterable[HoldInForce], invoice_id: int, on: date) -> list[HoldInForce]:
    return [h for h in holds if in_force(h, on) and h.invoice_id in (None, invoice_id)]


def _account_wide(debtor: Debtor, on: date) -> str | None:
    """A reason no debt on the account may be referred, whichever is chosen."""
    every = [h for h in debtor.holds if in_force(h, on) and h.invoice_id is None]
    if debtor.deceased or any(h.kind == "deceased" for h in every):
        return (
            "The debtor is recorded as deceased, so nothing can be referred: "
            "deal with the estate instead."
        )
    if debtor.in_breathing_space or any(h.kind == "breathing_space" for h in every):
        return (
            "The debtor is in Breathing Space, so nothing can be referred: "
            "no enforcement action is allowed until it ends."
        )
    return None


def why_not_referable(
    debt: Debt, debtor: Debtor, on: date, destination: str | None = None
) -> str | None:
    """Why this debt may not be referred on `on` (to `destination`, if given), in words
    for the officer (None: it may)."""
    account_wide = _account_wide(debtor, on)
    if account_wide:
        return account_wide
    if debt.recovery_stage in REFERRED_STAGE_WORDS:
        where = REFERRED_STAGE_WORDS[debt.recovery_stage]
        return f"Invoice {debt.number} has already been referred to {where}."
    if debt.outstanding_pence <= 0:
        return f"Invoice {debt.number} has nothing outstanding to refer."
    if recovery_paused(debtor.holds, debt.invoice_id, on):
        hold = _covering(debtor.holds, debt.invoice_id, on)[0]
        if hold.kind == "breathing_space":
            return f"Invoice {debt.number} is in Breathing Space and cannot be referred."
        if hold.kind == "deceased":
            return f"Invoice {debt.number} is on hold because the debtor has died."
        until = f" until {hold.expires_on:%-d %B %Y}" if hold.expires_on else ""
        words = hold.kind.replace("_", " ")
        return f"Invoice {debt.number} is on a {words} hold{until} and cannot be referred."
    if debt.in_active_arrangement:
        return (
            f"Invoice {debt.number} is covered by an active arrangement: "
            "cancel or break the arrangement first."
        )
    if debt.statute_barred_since is not None:
        return (
            f"Invoice {debt.number} is statute-barred since "
            f"{debt.statute_barred_since:%-d %B %Y}: it cannot be pursued through the courts."
        )
    if destination == ENFORCEMENT_AGENT and not debt.covered_by_judgment:
        return (
            f"Invoice {debt.number} has no County Court judgment recorded: an enforcement "
            "agent can only act on a judgment, so record it on the Legal page first."
        )
    if destination == LEGAL and debtor.is_person:
        return pre_action.legal_account_problem(
            debtor.claim_letters
        ) or pre_action.legal_debt_problem(debt.number, debt.due_date, debtor.claim_letters, on)
    return None


def referral_problems(
    debts: Sequence[Debt], debtor: Debtor, on: date, destination: str | None = None
) -> list[str]:
    """Every reason the chosen debts may not be referred together (to `destination`,
    if given) (empty: they may)."""
    if not debts:
        return ["Select at least one invoice with something outstanding to refer."]
    account_wide = _account_wide(debtor, on)
    if account_wide:
        return [account_wide]
    if destination == LEGAL and debtor.is_person:
        # Said once, not once per invoice.
        before_legal = pre_action.legal_account_problem(debtor.claim_letters)
        if before_legal:
            others = [why_not_referable(debt, debtor, on) for debt in debts]
            return [why for why in others if why] + [before_legal]
    return [why for debt in debts if (why := why_not_referable(debt, debtor, on, destination))]


def pounds(pence: int) -> str:
    """Pence as pounds with exactly two decimal places and no symbol or commas: 1234.50."""
    if not isinstance(pence, int) or isinstance(pence, bool):
        raise TypeError("money must be integer pence")
    sign = "-" if pence < 0 else ""
    whole, rem = divmod(abs(pence), 100)
    return f"{sign}{whole}.{rem:02d}"


@dataclass(frozen=True)
class PackParty:
    """Who the debt is referred against, as the agent needs to find them."""

    reference: str
    name: str
    address_lines: Sequence[str]  # without the postcode
    postcode: str
    email: str | None
    phone: str | None


def pack_row(
    party: PackParty,
    debts: Sequence[Debt],
    *,
    destination: str,
    referred_on: date,
    officer: str,
) -> dict[str, str]:
    """The CSV row an enforcement agent or solicitor loads, keyed by PACK_COLUMNS."""
    if destination not in DESTINATION_WORDS:
        raise ValueError(f"unknown destination {destination!r}")
    if not debts:
        raise ValueError("a referral needs at least one debt")
    ordered = sorted(debts, key=lambda d: (d.due_date, d.number))
    values = {
        "account_reference": party.reference,
        "debtor_name": party.name,
        "address": ", ".join(line for line in party.address_lines if line),
        "postcode": party.postcode,
        "email": party.email or "",
        "phone": party.phone or "",
        "invoice_numbers": ";".join(d.number for d in ordered),
        "amount_referred_gbp": pounds(sum(d.outstanding_pence for d in ordered)),
        "oldest_due_date": ordered[0].due_date.isoformat(),
        "destination": destination,
        "referral_date": referred_on.isoformat(),
        "referring_officer": officer,
    }
    return {column: values[column] for column in PACK_COLUMNS}


# The pack goes to a solicitor or an enforcement agent: it carries no health or
# vulnerability notes (UK GDPR special category data; an agent has no need of them).
# Vulnerability is recorded as a vulnerability review hold (its timeline entries begin
# "Vulnerability review hold"; older data has "Vulnerability recorded: ..." notes), and
# a Breathing Space's type says whether it is for a mental health crisis. A Breathing
# Space itself is kept (it stops enforcement) without its type or its reason.
_VULNERABILITY = re.compile(r"^\s*vulnerab", re.IGNORECASE)
_BREATHING_SPACE = re.compile(r"^\s*breathing space", re.IGNORECASE)
_SPACE_TYPE = re.compile(r"\s*\((?:standard|mental health crisis)\)", re.IGNORECASE)
_TREATMENT = re.compile(r":?\s*(?:the\s+)?crisis treatment ended.*$", re.IGNORECASE)
_HEALTH_WORDS = re.compile(r"mental health|crisis treatment", re.IGNORECASE)


def pack_history_entry(summary: str, detail: str | None) -> tuple[str, str | None] | None:
    """A timeline entry as the pack's contact history carries it: None to leave it out
    (a vulnerability note), or the summary and detail with health details taken out."""
    if _VULNERABILITY.match(summary or ""):
        return None
    if _BREATHING_SPACE.match(summary or ""):
        words = _TREATMENT.sub("", _SPACE_TYPE.sub("", summary))
        if _HEALTH_WORDS.search(words):
            words = "Breathing Space recorded"
        return words, None  # the officer's reason may describe the debtor's health
    return summary, detail
