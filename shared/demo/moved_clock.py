"""The one clock (shared/clock.py) moved to a moment of the past, for the demo's replay of
the last few weeks through the real services (shared/demo/direct_debit.py), as the
tests move it with time-machine. Never to a moment in the future."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from shared import clock

_REAL_DATETIME = datetime


class _MovedDatetime:
    """Stands in for `datetime` inside shared.clock: now() is the real now plus an offset
    (ticking on), everything else is datetime's own."""

    def __init__(self, offset: timedelta):
        self._offset = offset

    def now(self, tz=None):
        moment = _REAL_DATETIME.now(UTC) + self._offset
        return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)

    def __getattr__(self, name):
        return getattr(_REAL_DATETIME, name)


@contextlib.contextmanager
def clock_at(day: date, at: time) -> Iterator[None]:
    """shared.clock reads `at` on `day` in England, or the real now if that is earlier."""
    wanted = datetime.combine(day, at, tzinfo=clock.LONDON).astimezone(UTC)
    offset = wanted - _REAL_DATETIME.now(UTC)
    if offset >= timedelta(0):  # never a moment in the future
        yield
        return
    saved = clock.datetime
    clock.datetime = _MovedDatetime(offset)
    try:
        yield
    finally:
        clock.datetime = saved
