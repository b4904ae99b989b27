"""When a signed-in session ends by itself, as pure functions over times.

Two limits, both measured on the server's record, never on anything the
browser sends: idle (nothing done for longer than SESSION_IDLE_MINUTES) and
lifetime (signed in longer ago than the kind's maximum, however busy the
session has been since). Last use is written at most once a TOUCH_INTERVAL,
so the idle limit is kept to within that interval, on the early side.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

# How stale the record's last use may get before a request writes it again.
TOUCH_INTERVAL = timedelta(seconds=60)


class Expiry(enum.StrEnum):
    IDLE = "idle"
    LIFETIME = "lifetime"


@dataclass(frozen=True)
class Limits:
    idle: timedelta
    lifetime: timedelta


def expiry(
    started_at: datetime, last_seen_at: datetime, now: datetime, limits: Limits
) -> Expiry | None:
    """Why a session started at `started_at` and last used at `last_seen_at` has ended
    by `now`, or None while it is still good. Lifetime first: it is the harder limit."""
    if now - started_at >= limits.lifetime:
        return Expiry.LIFETIME
    if now - last_seen_at > limits.idle:
        return Expiry.IDLE
    return None


def needs_touch(last_seen_at: datetime, now: datetime) -> bool:
    """Whether a request at `now` should write the session's last use again."""
    return now - last_seen_at >= TOUCH_INTERVAL
