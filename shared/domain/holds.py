"""Rules for holds on recovery (pure: no database, no Flask).

A hold stops recovery actions (reminders, final demands, referrals) on the debts
it covers while it is in force. Breathing Space goes further (DOMAIN.md): no
interest or charges and no contact asking for payment, for any debt it covers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

# The Insolvency Service notifies the end date; these are what it should be, to check it.
STANDARD_BREATHING_SPACE = timedelta(days=60)  # a standard space ends 60 days after it starts
AFTER_CRISIS_TREATMENT = timedelta(days=30)  # a crisis space ends 30 days after treatment ends
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
    date_of_death: date | None = None  # deceased holds


@dataclass(frozen=True)
class Representative:
    """Who deals with a deceased debtor's estate (executor, administrator, solicitor...)."""

    name: str = ""
    capacity: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""

    @property
    def given(self) -> bool:
        return any((self.name, self.capacity, self.address, self.phone, self.email))


@dataclass(frozen=True)
class HoldInForce:
    kind: str
    invoice_id: int | None  # None: the whole account
    starts_on: date
    expires_on: date | None
    lifted: bool = False


def default_expiry(terms: HoldTerms) -> date | None:
    """The end a hold gets when the officer gives none. Never for Breathing Space: its
    end is the date the Insolvency Service notifies (see expected_breathing_space_end)."""
    if terms.kind == "promise_to_pay" and terms.promise_date is not None:
        return terms.promise_date  # recovery resumes if the money has not come by then
    return None


def expected_breathing_space_end(terms: HoldTerms) -> date | None:
    """The end date a standard space's notice should give (None for a crisis space,
    which has no end until the crisis treatment ends)."""
    if terms.kind == "breathing_space" and terms.breathing_space_type == BS_STANDARD:
        return terms.starts_on + STANDARD_BREATHING_SPACE
    return None


def crisis_space_end_problems(
    starts_on: date, treatment_ended_on: date | None, space_ends_on: date | None, today: date
) -> dict[str, str]:
    """Problems with recording the end of crisis treatment (empty when it can be recorded)."""
    if treatment_ended_on is None:
        return {"treatment_ended_on": "Enter the date the crisis treatment ended"}
    if treatment_ended_on < starts_on:
        return {"treatment_ended_on": "The treatment cannot end before the Breathing Space started"}
    if treatment_ended_on > today:
        return {"treatment_ended_on": "The date the treatment ended must be today or earlier"}
    expected = treatment_ended_on + AFTER_CRISIS_TREATMENT
    if space_ends_on is None:
        return {
            "space_ends_on": "Enter the end date on the Insolvency Service's notice: "
            f"30 days after the treatment ended, {expected:%d/%m/%Y}"
        }
    if space_ends_on != expected:
        return {
            "space_ends_on": "A mental health crisis Breathing Space ends 30 days after the "
            f"treatment ends, on {expected:%d/%m/%Y}: check the dates on the notice"
        }
    return {}


def representative_problems(rep: Representative) -> dict[str, str]:
    """A personal representative is optional, but one given needs a name and a capacity."""
    if not rep.given:
        return {}
    problems: dict[str, str] = {}
    if not rep.name:
        problems["representative_name"] = "Enter the personal representative's name"
    if not rep.capacity:
        problems["representative_capacity"] = "Enter the capacity they act in, for example executor"
    if rep.email and ("@" not in rep.email or rep.email.startswith("@") or " " in rep.email):
        problems["representative_email"] = (
            "Enter an email address in the correct format, like name@example.com"
        )
    return problems


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
    if terms.kind == "deceased":
        if terms.date_of_death is None:
            problems["date_of_death"] = "Enter the date they died"
        elif terms.date_of_death > today:
            problems["date_of_death"] = "The date they died must be today or earlier"
    if terms.kind == "breathing_space":
        expected = expected_breathing_space_end(terms)
        if terms.breathing_space_type not in (BS_STANDARD, BS_MENTAL_HEALTH):
            problems["breathing_space_type"] = "Select the type of Breathing Space"
        elif terms.breathing_space_type == BS_MENTAL_HEALTH and terms.expires_on is not None:
            problems["expires_on"] = (
                "Leave the end date blank: a mental health crisis Breathing Space lasts until "
                "30 days after the crisis treatment ends. Record that date when you are told"
            )
        elif expected is not None and terms.expires_on is None:
            problems["expires_on"] = (
                "Enter the end date on the Insolvency Service's notice: 60 days after the "
                f"start, {expected:%d/%m/%Y}"
            )
        elif expected is not None and terms.expires_on > expected and "expires_on" not in problems:
            # The notice is the authority (it may count the days differently, or the space
            # may have been cancelled early), so any end up to the longest a standard space
            # lasts is stored as given; a later one is a typing slip.
            problems["expires_on"] = (
                "A standard Breathing Space lasts no more than 60 days: it cannot end after "
                f"{expected:%d/%m/%Y}. Check the dates on the notice"
            )
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


# What a plan's monitor says when a hold stops it asking for payment, strongest first.
_PLAN_HOLD_ORDER = (
    "breathing_space",
    "deceased",
    "dispute",
    "query",
    "vulnerability_review",
    "promise_to_pay",
)


def plan_paused_by(
    holds: Iterable[HoldInForce], invoice_ids: Iterable[int], on: date
) -> str | None:
    """The kind of hold in force on any of a plan's debts (or the whole account) that
    stops its reminders and breaking, or None. The hold page promises that no reminder
    goes out for a debt under any hold; Breathing Space is named first when there are
    several, because it is the one the law requires."""
    debts = set(invoice_ids)
    kinds = {
        h.kind for h in holds if in_force(h, on) and (h.invoice_id is None or h.invoice_id in debts)
    }
    return next((k for k in _PLAN_HOLD_ORDER if k in kinds), None)


# Holds that question whether, or how much, a debt is owed: a payment is not put towards
# such a debt unless an officer chooses to. The other holds are about the debtor (a promise,
# Breathing Space where voluntary payments may continue, vulnerability, death), and money
# they pay still reduces the debt.
ALLOCATION_HOLDS = frozenset({"dispute", "query"})


def held_from_allocation(
    holds: Iterable[HoldInForce], invoice_ids: Iterable[int], on: date
) -> frozenset[int]:
    """The invoices (of invoice_ids) a default allocation must leave alone on `on`."""
    every = list(invoice_ids)
    held: set[int] = set()
    for h in holds:
        if h.kind not in ALLOCATION_HOLDS or not in_force(h, on):
            continue
        if h.invoice_id is None:
            return frozenset(every)
        held.add(h.invoice_id)
    return frozenset(i for i in every if i in held)
