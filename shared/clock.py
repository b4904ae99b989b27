"""The product's one clock.

A council's business day is the day in England: a payment made at 00:30 on a
summer night belongs to that day, not to yesterday (UTC). So business dates (due
dates, plan instalment days, "today" on a page, Bacs days, dunning runs) come from
`today()`, which is the date in Europe/London. Stored timestamps stay naive UTC
(`utcnow()`), the same on SQLite and PostgreSQL; `london_day()` turns one into the
business day it happened on, `as_london()` into the wall-clock time people in England
read on a page, and `day_starts()` gives the stored-timestamp moment an English day
begins, for "on or after this day" queries.

Nothing else in the product reads the system clock: tests freeze this one with
time-machine, which moves every reading of the clock at once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    """Now as naive UTC: what every timestamp column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def now() -> datetime:
    """Now in England (an aware datetime: GMT in winter, BST in summer)."""
    return datetime.now(LONDON)


def today() -> date:
    """The business day: today's date in England."""
    return now().date()


def as_london(stamp: datetime) -> datetime:
    """A stored naive-UTC timestamp (or an aware one) as wall-clock time in England."""
    aware = stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)
    return aware.astimezone(LONDON)


def london_day(stamp: datetime) -> date:
    """The English date of a stored naive-UTC timestamp (or of an aware one)."""
    return as_london(stamp).date()


def day_starts(day: date) -> datetime:
    """The naive-UTC moment the English day `day` begins (23:00 the day before in summer).

    Stored timestamps are naive UTC, so "on or after 1 July" is `stamp >=
    day_starts(date(2026, 7, 1))`, not midnight UTC, which would miss the first hour
    of a summer day."""
    midnight = datetime.combine(day, time.min, tzinfo=LONDON)
    return midnight.astimezone(UTC).replace(tzinfo=None)
