"""The daily plan monitor's pure core: which instalments are paid, missed or due.

Pure: no Flask, no SQLAlchemy, and idempotent: the same instalments, money
paid and day always give the same answer, so the job can be re-run safely. The
caller records what it acts on (reminders sent, the plan marked broken).

Decisions:
- Money paid to the plan fills the earliest instalment first; an overpayment
  runs ahead to later ones.
- An instalment not fully paid more than `tolerance_days` after its due date
  is missed, even if part paid. It stays missed until fully paid: a later
  payment that catches it up makes it paid again, so catching up before the
  plan breaks cures the miss.
- Once the plan is broken no missed-payment reminders are due: the caller
  sends the broken-plan notice instead of "please pay to keep your plan".
- An instalment with a Direct Debit collection under way (scheduled or in a
  Bacs file: `collecting`) is not missed while it waits: the Bacs entry day
  may be later than the due date (working days, the advance notice). Once
  collected it is paid; once returned its payment is reversed, nothing is under
  way, and it is missed as any other.
- `broken` reflects today's figures only; the caller marks the plan broken
  when it first sees it and stops monitoring it.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

PAID, PART_PAID, DUE, MISSED = "paid", "part_paid", "due", "missed"


@dataclass(frozen=True)
class InstalmentState:
    sequence: int
    due_date: date
    amount_pence: int
    paid_pence: int  # of this instalment, after filling earlier ones first
    state: str  # PAID, PART_PAID, DUE (not yet due or within tolerance) or MISSED

    @property
    def owed_pence(self) -> int:
        return self.amount_pence - self.paid_pence


@dataclass(frozen=True)
class Assessment:
    instalments: tuple[InstalmentState, ...]
    missed: int
    completed: bool
    broken: bool
    reminders_due: tuple[int, ...]  # sequences of missed instalments not yet reminded about
    overpaid_pence: int  # paid beyond the plan's total


def _as_tuple(instalment: Any) -> tuple[int, date, int]:
    # Plain (sequence, due_date, amount_pence) tuples, ScheduledInstalment and
    # the Instalment model all work.
    if hasattr(instalment, "sequence"):
        return instalment.sequence, instalment.due_date, instalment.amount_pence
    sequence, due, amount = instalment
    return sequence, due, amount


def assess(
    instalments: Iterable[Any],
    paid_pence: int,
    today: date,
    *,
    tolerance_days: int = 7,
    misses_to_break: int = 2,
    reminded: Set[int] = frozenset(),
    collecting: Set[int] = frozenset(),
) -> Assessment:
    """Where a plan stands today, given everything paid towards it so far.

    `instalments` are (sequence, due_date, amount_pence) tuples or objects with
    those attributes (ScheduledInstalment, the Instalment model). `collecting`: the
    sequences with a Direct Debit collection under way, never missed while it is.
    """
    if paid_pence < 0:
        raise ValueError("paid_pence must be 0 or more")
    if tolerance_days < 0:
        raise ValueError("tolerance_days must be 0 or more")
    if misses_to_break < 1:
        raise ValueError("misses_to_break must be 1 or more")
    rows = sorted((_as_tuple(i) for i in instalments), key=lambda r: (r[1], r[0]))
    if not rows:
        raise ValueError("a plan has at least one instalment")
    if len({r[0] for r in rows}) != len(rows):
        raise ValueError("instalment sequences must be unique")

    grace = timedelta(days=tolerance_days)
    remaining = paid_pence
    states: list[InstalmentState] = []
    for sequence, due, amount in rows:
        covered = min(remaining, amount)
        remaining -= covered
        if covered == amount:
            state = PAID
        elif due + grace < today and sequence not in collecting:
            state = MISSED
        elif covered > 0:
            state = PART_PAID
        else:
            state = DUE
        states.append(InstalmentState(sequence, due, amount, covered, state))

    missed = [s.sequence for s in states if s.state == MISSED]
    total = sum(s.amount_pence for s in states)
    broken = len(missed) >= misses_to_break
    return Assessment(
        instalments=tuple(states),
        missed=len(missed),
        completed=paid_pence >= total,
        broken=broken,
        reminders_due=() if broken else tuple(s for s in missed if s not in reminded),
        overpaid_pence=max(paid_pence - total, 0),
    )
