"""The rules every message meets before it is written (pure: no database, no Flask).

In one place, so no sender can forget one:
- the channel: the debtor's preferred one where they consented and we can reach
  them that way, else the first the sender allows that can reach them;
- suppression: nothing asking for payment during Breathing Space (a message about
  the Breathing Space itself still goes, and so do service messages such as a
  receipt or a Direct Debit advance notice, which the Debt Respite Scheme allows
  and the Direct Debit Guarantee requires); nothing at all to a deceased debtor
  (an officer writes to the estate instead);
- the weekly cap: at most CONTACT_CAP_PER_WEEK messages asking for payment in any
  seven days, all channels together; more wait for a later run;
- quiet hours: no text between QUIET_HOURS_START and QUIET_HOURS_END (England), or
  on Sundays, by default. A text written then is deferred to the next allowed
  moment, never dropped. Letters and email are read when the debtor chooses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from shared.clock import LONDON

LETTER, EMAIL, SMS = "letter", "email", "sms"
COLLECTION, SERVICE, BREATHING_SPACE = "collection", "service", "breathing_space"

# Reasons, as a run's skip counts and the timeline name them.
REFUSED_BREATHING_SPACE = "in Breathing Space"
REFUSED_DECEASED = "the debtor has died"
REFUSED_CAP = "weekly contact limit reached"
REFUSED_NO_CHANNEL = "no way to reach the debtor by the channels allowed"


@dataclass(frozen=True)
class Reach:
    """What we know about how a debtor can be reached, and what they asked for."""

    preferred: str  # "email", "sms" or "post"
    email: bool  # we have an address
    consent_email: bool
    mobile: bool  # we have a mobile number
    consent_sms: bool
    address: bool  # we have a postal address
    in_breathing_space: bool
    deceased: bool


@dataclass(frozen=True)
class QuietHours:
    start: time  # e.g. 20:00
    end: time  # e.g. 08:00
    sundays: bool


@dataclass(frozen=True)
class Verdict:
    channel: str | None  # None: nothing may be written
    refused: str | None = None  # why not, in words
    not_before: datetime | None = None  # naive UTC: send no earlier (quiet hours)


def usable(reach: Reach, channel: str) -> bool:
    """Whether we may and can use `channel` for this debtor at all."""
    if channel == SMS:
        return reach.mobile and reach.consent_sms
    if channel == EMAIL:
        return reach.email and (reach.consent_email or reach.preferred == EMAIL)
    return reach.address


def choose_channel(reach: Reach, allowed: Sequence[str]) -> str | None:
    """The debtor's preferred channel if the sender allows it and it is usable, else
    the first allowed channel that is usable; None if none is."""
    preferred = LETTER if reach.preferred == "post" else reach.preferred
    if preferred in allowed and usable(reach, preferred):
        return preferred
    return next((c for c in allowed if usable(reach, c)), None)


def in_quiet_hours(moment: datetime, quiet: QuietHours) -> bool:
    """Whether an aware `moment` falls in quiet hours, read on the clock in England."""
    local = moment.astimezone(LONDON)
    if quiet.sundays and local.weekday() == 6:
        return True
    now = local.time()
    if quiet.start <= quiet.end:  # e.g. 13:00-14:00 the same day
        return quiet.start <= now < quiet.end
    return now >= quiet.start or now < quiet.end  # overnight, e.g. 20:00-08:00


def quiet_hours_end(moment: datetime, quiet: QuietHours) -> datetime | None:
    """The first moment (aware, England) at or after `moment` outside quiet hours;
    None if `moment` is not in them."""
    if not in_quiet_hours(moment, quiet):
        return None
    local = moment.astimezone(LONDON)
    day = local.date()
    for _ in range(9):  # a Sunday and an overnight spell at most: 9 days is plenty
        candidate = datetime.combine(day, quiet.end, tzinfo=LONDON)
        if candidate > local and not in_quiet_hours(candidate, quiet):
            return candidate
        day += timedelta(days=1)
    raise ValueError("quiet hours never end: check QUIET_HOURS_START and QUIET_HOURS_END")


def decide(
    reach: Reach,
    *,
    purpose: str,
    allowed: Sequence[str],
    at: datetime,
    quiet: QuietHours,
    asked_this_week: int,
    weekly_cap: int,
) -> Verdict:
    """The channel a message goes by and when, or why it may not be written.

    `at` is aware; `asked_this_week` counts messages asking this debtor for payment
    written in the seven days before `at` (only a COLLECTION message is capped)."""
    if reach.deceased:
        return Verdict(None, REFUSED_DECEASED)
    if reach.in_breathing_space and purpose == COLLECTION:
        return Verdict(None, REFUSED_BREATHING_SPACE)
    if purpose == COLLECTION and asked_this_week >= weekly_cap:
        return Verdict(None, REFUSED_CAP)
    channel = choose_channel(reach, allowed)
    if channel is None:
        return Verdict(None, REFUSED_NO_CHANNEL)
    if channel == SMS and (resume := quiet_hours_end(at, quiet)) is not None:
        return Verdict(channel, None, _naive_utc(resume))
    return Verdict(channel)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)
