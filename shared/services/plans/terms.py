"""How a plan is to be paid (its terms), and the schedule those terms make.

Both a debtor's proposal and an officer's counter-offer are terms; both are checked
the same way here before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from shared.domain import schedules
from shared.models import Frequency
from shared.services.errors import InvalidRequest

# A plan's first payment must fall within this many days of the day it is proposed.
START_WITHIN_DAYS = 30


@dataclass(frozen=True)
class Terms:
    """How a plan is to be paid: exactly one of instalment_pence and count."""

    frequency: Frequency
    start: date
    instalment_pence: int | None = None
    count: int | None = None

    def as_dict(self) -> dict:
        return {
            "frequency": Frequency(self.frequency).value,
            "start": self.start.isoformat(),
            "instalment_pence": self.instalment_pence,
            "count": self.count,
        }


def check_start(start: date, today: date) -> None:
    """Refuses a first payment date in the past or more than START_WITHIN_DAYS ahead."""
    if start < today:
        raise InvalidRequest("The first payment date must be today or in the future")
    if start > today + timedelta(days=START_WITHIN_DAYS):
        raise InvalidRequest(
            f"The first payment date must be within {START_WITHIN_DAYS} days "
            f"(by {today + timedelta(days=START_WITHIN_DAYS):%-d %B %Y})"
        )


def schedule_for(total_pence: int, terms: Terms) -> list[schedules.ScheduledInstalment]:
    """The instalments that pay `total_pence` on these terms; a refusal says why."""
    try:
        return schedules.build_schedule(
            total_pence,
            Frequency(terms.frequency).value,
            terms.start,
            instalment_pence=terms.instalment_pence,
            count=terms.count,
        )
    except schedules.ScheduleError as exc:
        raise InvalidRequest(str(exc)) from None
