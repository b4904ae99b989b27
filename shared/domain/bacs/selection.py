"""What goes in a processing day's collection file, what is held back, and why.

Pure: the service reads rows and asks here about each one. For processing day D
(a Bacs working day; its cycle from calendar.cycle_for_processing_day):

- 0N: every mandate waiting to be lodged (pending_submission);
- 0C: every cancelled mandate that still owes Bacs a cancellation (one we made
  after its 0N was lodged) and is in no file yet;
- debits: scheduled collections whose entry day is the cycle's entry day, on an
  active mandate lodged before D, with collections not stopped, under an advance
  notice that allows that entry day. Anything else due that day is held back with
  its reason in words; a scheduled collection whose entry day has already gone is
  "missed its file" (the collections service schedules it again).
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from shared.domain.bacs.calendar import Cycle, NotAWorkingDay, cycle_for_processing_day

__all__ = [
    "Cycle",
    "DueCollection",
    "Held",
    "HoldReason",
    "NotAWorkingDay",
    "Summary",
    "cycle_for",
    "decide",
    "instruction_for",
]

# How many held-back and missed collections the stored summary lists one by one; the
# counts and totals by reason always cover every one.
LISTED_AT_MOST = 1000


class HoldReason(enum.StrEnum):
    NOT_LODGED = "mandate_not_lodged"
    LODGED_TOO_LATE = "mandate_lodged_too_late"
    MANDATE_ENDED = "mandate_ended"
    STOPPED = "collections_stopped"
    NO_NOTICE = "no_advance_notice"
    NOTICE_TOO_LATE = "notice_too_late"


HOLD_REASON_WORDS = {
    HoldReason.NOT_LODGED: "Mandate not yet lodged with Bacs",
    HoldReason.LODGED_TOO_LATE: "Mandate lodged too recently",
    HoldReason.MANDATE_ENDED: "Mandate cancelled or failed",
    HoldReason.STOPPED: "Collections stopped on the mandate",
    HoldReason.NO_NOTICE: "No advance notice given",
    HoldReason.NOTICE_TOO_LATE: "Advance notice too late",
}


@dataclass(frozen=True)
class Held:
    reason: HoldReason
    words: str  # the particular case, e.g. "advance notice allows collection from 3 July 2026"


@dataclass(frozen=True)
class DueCollection:
    """A scheduled collection as the file builder reads it (no bank details)."""

    collection_id: int
    account_id: int
    account_reference: str
    mandate_reference: str
    mandate_status: str
    mandate_lodged_on: date | None
    collections_stopped_reason: str | None
    notice_earliest_entry_day: date | None  # None: no advance notice recorded
    amount_pence: int
    transaction_code: str
    collection_date: date  # the entry day it is scheduled for


def cycle_for(processing_day: date) -> Cycle:
    """The cycle of `processing_day`; NotAWorkingDay (its message says why) otherwise."""
    return cycle_for_processing_day(processing_day)


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def decide(item: DueCollection, cycle: Cycle) -> Held | None:
    """None when the collection goes in the file of `cycle`, else why it is held back.

    Only for collections due on the cycle's entry day (see is_missed for earlier)."""
    status = item.mandate_status
    if status in ("cancelled", "failed"):
        return Held(HoldReason.MANDATE_ENDED, f"Mandate {item.mandate_reference} is {status}")
    if item.collections_stopped_reason:
        return Held(HoldReason.STOPPED, f"Collections stopped: {item.collections_stopped_reason}")
    if status != "active":
        when = (
            f"lodged on {_long(item.mandate_lodged_on)}, not yet released"
            if item.mandate_lodged_on
            else "its instruction (0N) has not gone to Bacs"
        )
        return Held(HoldReason.NOT_LODGED, f"Mandate {item.mandate_reference} {when}")
    if item.mandate_lodged_on is None or item.mandate_lodged_on >= cycle.processing_day:
        lodged = _long(item.mandate_lodged_on) if item.mandate_lodged_on else "no recorded day"
        return Held(
            HoldReason.LODGED_TOO_LATE,
            f"Mandate lodged on {lodged}: it must be lodged before the processing day "
            f"({_long(cycle.processing_day)})",
        )
    if item.notice_earliest_entry_day is None:
        return Held(HoldReason.NO_NOTICE, "No advance notice is recorded for this collection")
    if item.notice_earliest_entry_day > cycle.entry_day:
        return Held(
            HoldReason.NOTICE_TOO_LATE,
            "The advance notice allows collection from "
            f"{_long(item.notice_earliest_entry_day)}, after the entry day "
            f"({_long(cycle.entry_day)})",
        )
    return None


def is_missed(item: DueCollection, cycle: Cycle) -> bool:
    """A scheduled collection whose entry day is before this cycle's: its file has gone."""
    return item.collection_date < cycle.entry_day


def instruction_for(
    status: str, needs_cancel_instruction: bool, cancel_in_file_id: int | None
) -> str | None:
    """The instruction a mandate owes Bacs: "0N" to lodge it, "0C" to cancel it, or None."""
    if status == "pending_submission":
        return "0N"
    if status == "cancelled" and needs_cancel_instruction and cancel_in_file_id is None:
        return "0C"
    return None


@dataclass
class Summary:
    """Counts and totals by transaction code, and what was held back and missed: what an
    officer checks before releasing the file. Lists are capped at LISTED_AT_MOST."""

    cycle: Cycle
    by_code: dict[str, list[int]] = field(default_factory=dict)  # code: [count, pence]
    held_back: list[dict] = field(default_factory=list)
    held_count: int = 0
    held_total_pence: int = 0
    held_by_reason: Counter = field(default_factory=Counter)
    missed: list[dict] = field(default_factory=list)
    missed_count: int = 0
    missed_total_pence: int = 0

    def add(self, code: str, amount_pence: int) -> None:
        entry = self.by_code.setdefault(code, [0, 0])
        entry[0] += 1
        entry[1] += amount_pence

    def hold(self, item: DueCollection, held: Held) -> None:
        self.held_count += 1
        self.held_total_pence += item.amount_pence
        self.held_by_reason[held.reason.value] += 1
        if len(self.held_back) < LISTED_AT_MOST:
            self.held_back.append({**_listed(item), "reason": held.reason.value, "why": held.words})

    def miss(self, item: DueCollection) -> None:
        self.missed_count += 1
        self.missed_total_pence += item.amount_pence
        if len(self.missed) < LISTED_AT_MOST:
            self.missed.append(
                {
                    **_listed(item),
                    "why": f"Entry day {_long(item.collection_date)} has passed: missed its file",
                }
            )

    @property
    def is_empty(self) -> bool:
        return not self.by_code

    def as_json(self, contra_pence: int) -> dict:
        by_code = {code: {"count": c, "total_pence": p} for code, (c, p) in self.by_code.items()}
        if contra_pence:
            by_code["99"] = {"count": 1, "total_pence": contra_pence}
        return {
            "processing_day": self.cycle.processing_day.isoformat(),
            "input_day": self.cycle.input_day.isoformat(),
            "entry_day": self.cycle.entry_day.isoformat(),
            "by_code": dict(sorted(by_code.items())),
            "held_back": self.held_back,
            "held_back_count": self.held_count,
            "held_back_total_pence": self.held_total_pence,
            "held_back_by_reason": dict(sorted(self.held_by_reason.items())),
            "missed": self.missed,
            "missed_count": self.missed_count,
            "missed_total_pence": self.missed_total_pence,
        }


def _listed(item: DueCollection) -> dict:
    return {
        "collection_id": item.collection_id,
        "account_id": item.account_id,
        "account_reference": item.account_reference,
        "mandate_reference": item.mandate_reference,
        "transaction_code": item.transaction_code,
        "amount_pence": item.amount_pence,
        "entry_day": item.collection_date.isoformat(),
    }


TRANSACTION_CODE_WORDS = {
    "0N": "New instructions (0N)",
    "0C": "Cancelled instructions (0C)",
    "0S": "Converted instructions (0S)",
    "01": "First collections (01)",
    "17": "Regular collections (17)",
    "18": "Re-presentations (18)",
    "19": "Final collections (19)",
    "99": "Contra: credit to the council's account (99)",
}
