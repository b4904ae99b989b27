"""When a debt becomes statute-barred (Limitation Act 1980), pure: no database, no Flask.

- s.5: a claim for a simple contract debt (an invoice for a service) may not be brought
  more than six years after the cause of action accrued. It accrues the day after the
  due date: the first day the debt was payable and unpaid. The day it accrues is not
  counted, so the last day a claim may be issued is the sixth anniversary of that day.
- s.29(5) and s.30: a written acknowledgement signed by the debtor (or their agent), or
  a part payment, makes the right of action accrue afresh on its date.
- s.29(7): a debt already barred is not revived by a later acknowledgement or payment,
  so a restart only counts while the period it extends is still running.

A statute-barred debt still exists (it may be paid voluntarily) but cannot be pursued
through the courts, so it is never referred to legal or to enforcement agents.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

LIMITATION_YEARS = 6
ONE_DAY = timedelta(days=1)


def add_years(day: date, years: int) -> date:
    """The same day `years` later (or earlier); 29 February becomes 28 February in a
    year without one, so a period never runs longer than the years it is given."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def accrues_on(due_date: date) -> date:
    """The day the cause of action accrues: the day after the due date."""
    return due_date + ONE_DAY


def limitation_date(due_date: date, restarts: Iterable[date] = ()) -> date:
    """The last day a claim for the debt may be issued, given the dates of its written
    acknowledgements and part payments (in any order)."""
    last_day = add_years(accrues_on(due_date), LIMITATION_YEARS)
    for restart in sorted(restarts):
        if restart > last_day:
            break  # barred by then: a later acknowledgement or payment does not revive it
        last_day = max(last_day, add_years(restart, LIMITATION_YEARS))
    return last_day


def is_statute_barred(due_date: date, restarts: Iterable[date], on: date) -> bool:
    """Whether, on `on`, the debt can no longer be pursued through the courts (only
    acknowledgements and payments made by then count)."""
    return on > limitation_date(due_date, [r for r in restarts if r <= on])


def barred_since(due_date: date, restarts: Iterable[date], on: date) -> date | None:
    """The first day the debt was statute-barred, if it is on `on` (else None)."""
    last_day = limitation_date(due_date, [r for r in restarts if r <= on])
    return last_day + ONE_DAY if on > last_day else None


def earliest_running_start(on: date) -> date:
    """The earliest accrual or restart date whose six years still run on `on`.

    A debt whose accrual and every restart fall before this date is statute-barred on
    `on`; one with any of them on or after it needs `limitation_date` to say (a restart
    made after the debt was barred does not count). Set-based queries compare stored
    dates with this, so the database does no date arithmetic of its own.
    """
    start = add_years(on, -LIMITATION_YEARS)
    while add_years(start, LIMITATION_YEARS) < on:
        start += ONE_DAY
    while add_years(start - ONE_DAY, LIMITATION_YEARS) >= on:
        start -= ONE_DAY
    return start


MAX_NOTE = 2000


def acknowledgement_problems(
    acknowledged_on: date | None, note: str, today: date
) -> dict[str, str]:
    """Each field's problem in GOV.UK words (empty when the acknowledgement will do)."""
    problems: dict[str, str] = {}
    if acknowledged_on is None:
        problems["acknowledged_on"] = "Enter the date of the acknowledgement"
    elif acknowledged_on > today:
        problems["acknowledged_on"] = "The date of the acknowledgement must be today or earlier"
    elif acknowledged_on.year < 1980:
        problems["acknowledged_on"] = "Enter the real date of the acknowledgement"
    text = note.strip()
    if not text:
        problems["note"] = "Enter what the debtor wrote and how it reached us"
    elif len(text) > MAX_NOTE:
        problems["note"] = f"Note must be {MAX_NOTE:,} characters or fewer"
    return problems
