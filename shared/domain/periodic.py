"""Periodic invoices: when a schedule's invoices fall, which are due, and when each is due
for payment.

Pure: no Flask, no SQLAlchemy. Frequencies are their stored strings ("weekly",
"monthly", "quarterly", "yearly"), the same values as
shared.models.invoice_schedules.InvoiceFrequency, so either can be passed.

A schedule runs from its start date and stops at an end date (inclusive) or after a
number of invoices - at most one of the two; neither means until it is cancelled.
Occurrence n is worked out from the start and n, never from the previous date, so a
monthly schedule from 31 January goes 31 Jan, 28 (or 29) Feb, 31 Mar, 30 Apr, and
does not drift to the 28th for good (the same month arithmetic as instalment plans).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from shared.domain.schedules import ScheduleError, add_months

WEEKLY, MONTHLY, QUARTERLY, YEARLY = "weekly", "monthly", "quarterly", "yearly"
FREQUENCIES: dict[str, str] = {
    WEEKLY: "Weekly",
    MONTHLY: "Monthly",
    QUARTERLY: "Quarterly (every 3 months)",
    YEARLY: "Yearly",
}
_MONTHS_APART = {MONTHLY: 1, QUARTERLY: 3, YEARLY: 12}

# A schedule is for a regular charge, not for ever in one go: ten years of weekly
# invoices at most, so a typo cannot plan thousands of them.
MAX_COUNT = 520
MAX_YEARS = 10


class PeriodicError(ValueError):
    """The schedule asked for cannot be made; the message says why, in an officer's words."""


@dataclass(frozen=True)
class Terms:
    """When a schedule's invoices fall."""

    frequency: str
    start: date
    end: date | None = None  # the last day an invoice may fall on
    count: int | None = None  # how many invoices in all


@dataclass(frozen=True)
class Period:
    sequence: int  # from 1
    day: date  # the day the invoice for this period is raised


def occurrence(start: date, frequency: str, sequence: int) -> date:
    """The day of invoice `sequence` (from 1); the month's last day when the start's day
    is not in that month (31 January, monthly: 28 or 29 February)."""
    if sequence < 1:
        raise PeriodicError("Invoices are numbered from 1")
    try:
        if frequency == WEEKLY:
            return start + timedelta(weeks=sequence - 1)
        months = _MONTHS_APART[frequency]
    except KeyError:
        raise PeriodicError("Choose how often: weekly, monthly, quarterly or yearly") from None
    except OverflowError:
        raise PeriodicError("The schedule would go on too long") from None
    try:
        return add_months(start, months * (sequence - 1))
    except ScheduleError:
        raise PeriodicError("The schedule would go on too long") from None


def _within(terms: Terms, period: Period) -> bool:
    if terms.count is not None and period.sequence > terms.count:
        return False
    return terms.end is None or period.day <= terms.end


def period(terms: Terms, sequence: int) -> Period | None:
    """Invoice `sequence` of the schedule, or None when the schedule has ended before it."""
    candidate = Period(sequence, occurrence(terms.start, terms.frequency, sequence))
    return candidate if _within(terms, candidate) else None


def periods_through(terms: Terms, day: date) -> list[Period]:
    """Every invoice of the schedule that falls on or before `day`, in order."""
    found = []
    sequence = 1
    while (p := period(terms, sequence)) is not None and p.day <= day:
        found.append(p)
        sequence += 1
    return found


def due_periods(terms: Terms, day: date, raised: Collection[date]) -> list[Period]:
    """The periods to raise on `day`: every one falling on or before it that has not been
    raised yet. After days without a run, each missed period is due once."""
    done = set(raised)
    return [p for p in periods_through(terms, day) if p.day not in done]


def due_after(terms: Terms, day: date, raised_count: int) -> list[Period]:
    """due_periods for a schedule whose first `raised_count` invoices are raised (they
    are always raised in order): the rest falling on or before `day`, without working
    out the ones already done."""
    found = []
    sequence = raised_count + 1
    while (p := period(terms, sequence)) is not None and p.day <= day:
        found.append(p)
        sequence += 1
    return found


def next_period(terms: Terms, raised_count: int) -> Period | None:
    """The next invoice after `raised_count` raised in order; None when the schedule is
    finished (its count reached, or the next one would fall after its end date)."""
    return period(terms, raised_count + 1)


def payment_due(issue_date: date, payment_terms_days: int) -> date:
    """When an invoice issued on `issue_date` is due: the department's payment terms later
    (0 days: due on issue)."""
    if payment_terms_days < 0:
        raise PeriodicError("Payment terms cannot be negative")
    return issue_date + timedelta(days=payment_terms_days)


def terms_problems(terms: Terms, today: date) -> dict[str, str]:
    """Each field's problem in GOV.UK words (empty when the terms will do)."""
    problems: dict[str, str] = {}
    if terms.frequency not in FREQUENCIES:
        problems["frequency"] = "Select how often to raise an invoice"
    if terms.start < today:
        problems["start_date"] = "Start date must be today or in the future"
    if terms.end is not None and terms.count is not None:
        problems["ends"] = "Give an end date or a number of invoices, not both"
    if terms.end is not None:
        if terms.end < terms.start:
            problems["end_date"] = "End date must be on or after the start date"
        elif terms.end > add_months(terms.start, 12 * MAX_YEARS):
            problems["end_date"] = f"End date must be within {MAX_YEARS} years of the start"
    if terms.count is not None and not 1 <= terms.count <= MAX_COUNT:
        problems["count"] = f"Number of invoices must be between 1 and {MAX_COUNT}"
    return problems


def describe(terms: Terms) -> str:
    """One line for pages and the timeline, e.g. "Monthly from 31 January 2026, 12 invoices"."""
    how = FREQUENCIES.get(terms.frequency, terms.frequency).split(" (")[0]
    words = f"{how} from {terms.start.day} {terms.start:%B %Y}"
    if terms.count is not None:
        return f"{words}, {terms.count} invoice{'s' if terms.count != 1 else ''}"
    if terms.end is not None:
        return f"{words} to {terms.end.day} {terms.end:%B %Y}"
    return f"{words}, until cancelled"
