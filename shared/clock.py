"""The product's one clock.

A council's business day is the day in England: a payment made at 00:30 on a
summer night belongs to that day, not to yesterday (UTC). So business dates (due
dates, plan instalment days, "today" on a page, Bacs days, dunning runs) come from
`today()`, which is the date in Europe/London. Stored timestamps stay naive UTC
(`utcnow()`), the same on SQLite and PostgreSQL; `london_day()` turns one into the
business day it happened on.

Nothing else in the product reads the system clock: tests freeze this one with
time-machine, which moves every reading of the clock at once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
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


def london_day(stamp: datetime) -> date:
    """The English date of a stored naive-UTC timestamp (or of an aware one)."""
    aware = stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)
    return aware.astimezone(LONDON).date()
