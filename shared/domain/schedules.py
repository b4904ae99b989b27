"""Instalment schedules: how an amount is split into dated payments.

Pure: no Flask, no SQLAlchemy. Frequencies are their stored strings
("weekly", "fortnightly", "four_weekly", "monthly"), the same values as
shared.models.plans.Frequency, so either the enum or the string can be passed.

The odd pence always go on the LAST instalment (DOMAIN.md asks for this to be
stated up front): £100.00 over 3 is £33.33, £33.33, £33.34.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from shared.formatting import format_gbp, long_date

WEEKLY, FORTNIGHTLY, FOUR_WEEKLY, MONTHLY = "weekly", "fortnightly", "four_weekly", "monthly"
FREQUENCIES: dict[str, str] = {
    WEEKLY: "weekly",
    FORTNIGHTLY: "fortnightly",
    FOUR_WEEKLY: "four-weekly",
    MONTHLY: "monthly",
}
_DAYS_APART = {WEEKLY: 7, FORTNIGHTLY: 14, FOUR_WEEKLY: 28}


class ScheduleError(ValueError):
    """The schedule asked for cannot be made; the message says why, in words a debtor reads."""


@dataclass(frozen=True)
class ScheduledInstalment:
    sequence: int  # from 1
    due_date: date
    amount_pence: int


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, or the month's last day if it is shorter
    (31 January + 1 month is 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise ScheduleError("The payments would go on too long: choose fewer, larger payments")
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_date(start: date, frequency: str, sequence: int) -> date:
    """When instalment `sequence` (from 1) falls due.

    Worked out from the start and the sequence number, never from the previous
    date, so a monthly plan starting on the 31st goes 31 Jan, 28 Feb, 31 Mar and
    does not drift to the 28th for good.
    """
    if frequency == MONTHLY:
        return add_months(start, sequence - 1)
    try:
        return start + timedelta(days=_DAYS_APART[frequency] * (sequence - 1))
    except KeyError:
        raise ScheduleError(
            "Choose how often to pay: weekly, fortnightly, every four weeks or monthly"
        ) from None
    except OverflowError:
        raise ScheduleError(
            "The payments would go on too long: choose fewer, larger payments"
        ) from None


def build_schedule(
    total_pence: int,
    frequency: str,
    start: date,
    *,
    instalment_pence: int | None = None,
    count: int | None = None,
) -> list[ScheduledInstalment]:
    """Split `total_pence` into dated instalments that add up to it exactly.

    Give exactly one of:
    - `count`: that many equal instalments, the odd pence on the LAST one
      (£100.00 over 3 is £33.33, £33.33, £33.34);
    - `instalment_pence`: as many instalments of that amount as fit, then a
      smaller last one for what remains (never a £0 instalment).

    Raises ScheduleError when the plan cannot be made.
    """
    if frequency not in FREQUENCIES:
        raise ScheduleError(
            "Choose how often to pay: weekly, fortnightly, every four weeks or monthly"
        )
    if (instalment_pence is None) == (count is None):
        raise ScheduleError("Choose either how much to pay each time or how many payments")
    for value in (total_pence, instalment_pence, count):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ScheduleError("Amounts must be whole pence and the number of payments whole")
    if total_pence <= 0:
        raise ScheduleError("The amount to pay must be more than £0")

    if count is not None:
        if count < 1:
            raise ScheduleError("The number of payments must be 1 or more")
        if count > total_pence:
            raise ScheduleError(
                f"{format_gbp(total_pence)} cannot be split into {count} payments; "
                f"choose {total_pence} payments or fewer"
            )
    else:
        assert instalment_pence is not None
        if instalment_pence <= 0:
            raise ScheduleError("Each payment must be more than £0")
        if instalment_pence > total_pence:
            raise ScheduleError(
                f"Each payment must be no more than the {format_gbp(total_pence)} to pay"
            )
    how_many = count if count is not None else -(-total_pence // instalment_pence)
    # Check the last date can exist before building a list that long.
    due_date(start, frequency, how_many)

    if count is not None:
        each, odd = divmod(total_pence, count)
        amounts = [each] * (count - 1) + [each + odd]
    else:
        full, rest = divmod(total_pence, instalment_pence)
        amounts = [instalment_pence] * full + ([rest] if rest else [])
    return [
        ScheduledInstalment(sequence, due_date(start, frequency, sequence), amount)
        for sequence, amount in enumerate(amounts, start=1)
    ]


def regular_instalment_pence(schedule: Sequence[ScheduledInstalment]) -> int:
    """The smallest instalment apart from the last, which only carries the remainder.

    A one-payment schedule's regular instalment is that payment. Policy checks a
    minimum instalment against this, so £50 a month ending with 34p is not
    judged as a 34p plan.
    """
    if not schedule:
        raise ScheduleError("The schedule has no payments")
    regular = schedule[:-1] or schedule
    return min(i.amount_pence for i in regular)


def plan_length_months(schedule: Sequence[ScheduledInstalment], frequency: str) -> int:
    """How many months the plan covers, rounded up to whole months.

    Counted from the first due date to when the payment after the last would
    have fallen due, so 12 monthly, 26 fortnightly, 13 four-weekly and 52 weekly
    payments are all 12 months, and one payment is 1 month.
    """
    if not schedule:
        raise ScheduleError("The schedule has no payments")
    first = schedule[0]
    ends = due_date(first.due_date, frequency, schedule[-1].sequence - first.sequence + 2)
    return months_rounded_up(first.due_date, ends)


def months_rounded_up(start: date, end: date) -> int:
    """The fewest whole months (added as add_months does) from `start` that reach `end`."""
    if end <= start:
        return 0
    months = (end.year - start.year) * 12 + end.month - start.month
    # add_months(start, months - 1) falls in the month before `end`'s, so is too early.
    return months if add_months(start, months) >= end else months + 1


def describe_schedule(schedule: Sequence[ScheduledInstalment], frequency: str) -> str:
    """One line for letters and messages, e.g. "12 monthly payments of £50.00 from
    1 March 2026, then a last payment of £12.34 on 1 March 2027"."""
    if not schedule:
        raise ScheduleError("The schedule has no payments")
    first, last = schedule[0], schedule[-1]
    if len(schedule) == 1:
        return f"1 payment of {format_gbp(first.amount_pence)} on {long_date(first.due_date)}"
    how_often = FREQUENCIES[frequency]
    if all(i.amount_pence == first.amount_pence for i in schedule):
        return (
            f"{len(schedule)} {how_often} payments of {format_gbp(first.amount_pence)} "
            f"from {long_date(first.due_date)}"
        )
    regular = len(schedule) - 1
    return (
        f"{regular} {how_often} payment{'s' if regular > 1 else ''} of "
        f"{format_gbp(first.amount_pence)} from {long_date(first.due_date)}, "
        f"then a last payment of {format_gbp(last.amount_pence)} on {long_date(last.due_date)}"
    )
