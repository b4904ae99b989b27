"""Bacs working days and the three-day cycle (DOMAIN.md, Bacs).

A Bacs working day is a weekday that is not an England & Wales bank holiday. A file
is sent on the input day, Bacs processes it on the processing day, and the payer is
debited on the entry day: three consecutive working days. Everything here is
counted in working days, so a collection due on Easter Monday is taken on the
Tuesday and its file is processed on the Thursday before Good Friday.

Bank holidays come from the `holidays` package (offline, rules plus the one-off days
such as 2022's state funeral), so no network and no yearly list to maintain.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

import holidays

# Far enough to refuse nonsense dates without refusing any real schedule.
_FIRST_YEAR, _LAST_YEAR = 1990, 2100


class OutOfRange(ValueError):
    """A date outside the years the calendar is defined for."""


@functools.lru_cache(maxsize=256)
def _bank_holidays(year: int) -> frozenset[date]:
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        raise OutOfRange(f"{year} is outside the Bacs calendar ({_FIRST_YEAR}-{_LAST_YEAR})")
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def bank_holiday_name(day: date) -> str | None:
    """The England & Wales bank holiday on `day`, or None."""
    if day not in _bank_holidays(day.year):
        return None
    return holidays.country_holidays("GB", subdiv="ENG", years=day.year).get(day)


def is_working_day(day: date) -> bool:
    """Whether Bacs processes on `day`: Monday to Friday and not a bank holiday."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def on_or_after(day: date) -> date:
    """`day` if it is a working day, else the next one."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def on_or_before(day: date) -> date:
    """`day` if it is a working day, else the one before."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def add_working_days(day: date, count: int) -> date:
    """The working day `count` working days after `day` (before, if negative).

    `day` itself need not be a working day: two working days after Saturday is
    Tuesday. Zero gives `day` unchanged.
    """
    step = timedelta(days=1 if count >= 0 else -1)
    remaining = abs(count)
    while remaining:
        day += step
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """How many working days fall after `start` up to and including `end` (0 if end <= start)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


@dataclass(frozen=True)
class Cycle:
    """One Bacs cycle: the file goes in on input_day, is processed on processing_day,
    and the payer's account is debited on entry_day."""

    input_day: date
    processing_day: date
    entry_day: date


class NotAWorkingDay(ValueError):
    """A cycle was asked for on a day Bacs does not work; the message says why."""


def _refuse_non_working(day: date, what: str) -> None:
    if is_working_day(day):
        return
    holiday = bank_holiday_name(day)
    why = f"a bank holiday ({holiday})" if holiday else day.strftime("a %A")
    raise NotAWorkingDay(f"{day.isoformat()} is {why}, not a Bacs {what}")


def cycle_for_processing_day(day: date) -> Cycle:
    """The cycle whose processing day is `day` (refused if Bacs does not work that day)."""
    _refuse_non_working(day, "processing day")
    return Cycle(add_working_days(day, -1), day, add_working_days(day, 1))


def cycle_for_entry_day(day: date) -> Cycle:
    """The cycle that debits payers on `day` (refused if Bacs does not work that day)."""
    _refuse_non_working(day, "entry day")
    processing = add_working_days(day, -1)
    return Cycle(add_working_days(processing, -1), processing, day)


def entry_day_for(due: date) -> date:
    """The entry day that collects something due on `due`: the same day if Bacs works
    then, else the next working day (never earlier than the payer was told)."""
    return on_or_after(due)


def earliest_entry_day(notice_counts_from: date, notice_working_days: int) -> date:
    """The first entry day allowed by an advance notice that counts from
    `notice_counts_from` and must be given `notice_working_days` working days ahead."""
    return add_working_days(notice_counts_from, notice_working_days)
