"""Rules for holds on recovery (pure: no database, no Flask).

A hold stops recovery actions (reminders, final demands, referrals) on the debts
it covers while it is in force. Breathing Space goes further (DOMAIN.md): no
interest or charges and no contact asking for payment, for any debt it covers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

STANDARD_BREATHING_SPACE = timedelta(days=60)
# Holds an officer sets a date for must end within this, so none is forgotten.
LONGEST_HOLD = timedelta(days=366)

KINDS = (
    "dispute",
    "query",
    "promise_to_pay",
    "vulnerability_review",
    "breathing_space",
    "deceased",
)
# Open-ended by nature: they last until an officer lifts them.
UNTIL_LIFTED = {"deceased"}
BS_STANDARD, BS_MENTAL_HEALTH = "standard", "mental_health_crisis"


@dataclass(frozen=True)
class HoldTerms:
    kind: str
    starts_on: date
    expires_on: date | None = None
    promise_date: date | None = None
    promise_amount_pence: int | None = None
    breathing_space_type: str | None = None


@dataclass(frozen=True)
class HoldInForce:
    kind: str
    invoice_id: int | None  # None: the whole account
    starts_on: date
    expires_on: date | None
    lifted: bool = False


def default_expiry(terms: HoldTerms) -> date | None:
    """The end a hold gets when the officer gives none."""
    if terms.kind == "breathing_space" and terms.breathing_space_type == BS_STANDARD:
        return terms.starts_on + STANDARD_BREATHING_SPACE
    if terms.kind == "promise_to_pay" and terms.promise_date is not None:
        return terms.promise_date  # recovery resumes if the money has not come by then
    return None


def hold_problems(terms: HoldTerms, today: date) -> dict[str, str]:
    """Each field's problem in GOV.UK words (empty when the hold can be placed)."""
    problems: dict[str, str] = {}
    if terms.kind not in KINDS:
        return {"kind": "Select the reason for the hold"}
    if terms.starts_on > today + timedelta(days=30):
        problems["starts_on"] = "Start date must be within the next 30 days"
    expires = terms.expires_on or default_expiry(terms)
    if expires is not None and expires < terms.starts_on:
        problems["expires_on"] = "End date must be on or after the start date"
    elif expires is not None and expires < today:
        problems["expires_on"] = "End date must be today or in the future"
    if terms.kind == "promise_to_pay":
        if terms.promise_date is None:
            problems["promise_date"] = "Enter the date they promised to pay by"
        elif terms.promise_date < today:
            problems["promise_date"] = "Promised date must be today or in the future"
        if not terms.promise_amount_pence or terms.promise_amount_pence <= 0:
            problems["promise_amount"] = "Enter the amount they promised to pay"
    if terms.kind == "breathing_space":
        if terms.breathing_space_type not in (BS_STANDARD, BS_MENTAL_HEALTH):
            problems["breathing_space_type"] = "Select the type of Breathing Space"
        elif (
            terms.breathing_space_type == BS_STANDARD
            and terms.expires_on is not None
            and terms.expires_on > terms.starts_on + STANDARD_BREATHING_SPACE
        ):
            problems["expires_on"] = "A standard Breathing Space lasts no more than 60 days"
    elif (
        terms.kind not in UNTIL_LIFTED
        and expires is not None
        and expires > terms.starts_on + LONGEST_HOLD
    ):
        problems["expires_on"] = "A hold can last no more than a year; review it and place another"
    if (
        terms.kind not in UNTIL_LIFTED | {"breathing_space"}
        and expires is None
        and "expires_on" not in problems
        and "promise_date" not in problems  # its end is the promised date
    ):
        problems["expires_on"] = "Enter the date the hold ends"
    return problems


def in_force(hold: HoldInForce, on: date) -> bool:
    if hold.lifted or on < hold.starts_on:
        return False
    return hold.expires_on is None or on <= hold.expires_on


def recovery_paused(holds: Iterable[HoldInForce], invoice_id: int, on: date) -> bool:
    """Whether recovery actions on this invoice must wait (any hold covering it)."""
    return any(in_force(h, on) and h.invoice_id in (None, invoice_id) for h in holds)


def may_ask_for_payment(holds: Iterable[HoldInForce], invoice_id: int, on: date) -> bool:
    """False in Breathing Space: no contact asking for payment of a covered debt."""
    return not any(
        h.kind == "breathing_space" and in_force(h, on) and h.invoice_id in (None, invoice_id)
        for h in holds
    )
