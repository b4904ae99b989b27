"""Late Payment of Commercial Debts (Interest) Act 1998: who may be charged, the fixed
compensation and statutory interest.

Pure functions over dates and integer pence. Interest is simple, on what was
outstanding each day, at the reference rate + 8%: the Bank of England base rate in
force on 31 December for days from January to June, and on 30 June for days from
July to December (s.6). A day's interest is amount x rate / 365 whatever the year,
worked out exactly (Fraction) and rounded half a penny up once per charge posted.
Days in Breathing Space are never charged (interest that could not be stopped can
never be collected later).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

STATUTORY_UPLIFT_BP = 800  # the Act's 8% over the reference rate
DAYS_IN_YEAR = 365  # the Act's daily rate divides by 365, in leap years too

# Fixed compensation by the size of the debt (s.5A): (debt below, compensation).
_COMPENSATION_BANDS = ((100_000, 4_000), (1_000_000, 7_000))
_TOP_COMPENSATION = 10_000

# Why an invoice gets no charge (None from eligibility() means it may be charged).
NOT_AN_ORGANISATION = "Not an organisation: the Act never applies to consumers"
NOT_COMMERCIAL = "The department's debts are not commercial"
IS_A_CHARGE = "A Late Payment Act charge itself"
IN_BREATHING_SPACE = "In Breathing Space"
NOT_OVERDUE = "Not overdue"
NOTHING_OUTSTANDING = "Nothing outstanding"


class NoReferenceRate(ValueError):
    """No base rate had started by the reference date; the message says which."""


@dataclass(frozen=True)
class BaseRate:
    effective_from: date
    basis_points: int  # 525 is 5.25%


@dataclass(frozen=True)
class InterestSlice:
    """Interest for the days of one half year (one reference rate) that were charged."""

    start: date  # first day (inclusive)
    end: date  # last day (inclusive)
    days: int  # days charged: those in Breathing Space are left out
    reference_bp: int  # the base rate used
    exact_pence: Fraction

    @property
    def rate_bp(self) -> int:
        return self.reference_bp + STATUTORY_UPLIFT_BP

    @property
    def pence(self) -> int:
        return round_half_up(self.exact_pence)


def round_half_up(value: Fraction) -> int:
    # Python's round() rounds halves to even; money rounds half a penny up.
    return int((value + Fraction(1, 2)) // 1) if value >= 0 else -round_half_up(-value)


def compensation_pence(total_pence: int) -> int:
    """The fixed sum for a debt of `total_pence`: £40 under £1,000, £70 from £1,000 to
    £9,999.99, £100 from £10,000."""
    for below, compensation in _COMPENSATION_BANDS:
        if total_pence < below:
            return compensation
    return _TOP_COMPENSATION


def reference_date(day: date) -> date:
    """The day whose base rate sets the reference rate for `day`'s half year."""
    if day.month <= 6:
        return date(day.year - 1, 12, 31)
    return date(day.year, 6, 30)


def half_year_end(day: date) -> date:
    return date(day.year, 6, 30) if day.month <= 6 else date(day.year, 12, 31)


def rate_in_force_bp(periods: Iterable[BaseRate], on: date) -> int:
    """The base rate in force on `on`: the latest that started on or before it."""
    started = [p for p in periods if p.effective_from <= on]
    if not started:
        raise NoReferenceRate(f"No Bank of England base rate is recorded for {on:%-d %B %Y}")
    return max(started, key=lambda p: p.effective_from).basis_points


def reference_rate_bp(periods: Iterable[BaseRate], day: date) -> int:
    """The reference rate (basis points) that applies to interest for `day`."""
    return rate_in_force_bp(periods, reference_date(day))


Outstanding = int | Sequence[tuple[date, int]]


def _amount_on(steps: Sequence[tuple[date, int]], day: date) -> int:
    """The amount of the last step starting on or before `day` (0 before the first)."""
    amount = 0
    for starts, value in steps:
        if starts > day:
            break
        amount = value
    return amount


def _in_any(day: date, spans: Sequence[tuple[date, date]]) -> bool:
    return any(start <= day <= end for start, end in spans)


def _charged_days(
    steps: Sequence[tuple[date, int]], excluded: Sequence[tuple[date, date]], start: date, end: date
) -> tuple[int, int]:
    """(days charged, sum of each charged day's amount) over start..end, walked in runs
    of days where neither the amount nor Breathing Space changes."""
    cuts = {start, end + timedelta(days=1)}
    cuts.update(day for day, _ in steps if start < day <= end)
    for span_start, span_end in excluded:
        cuts.update(d for d in (span_start, span_end + timedelta(days=1)) if start < d <= end)
    ordered = sorted(cuts)
    days = pence_days = 0
    for run_start, next_start in zip(ordered, ordered[1:], strict=False):
        amount = _amount_on(steps, run_start)
        if amount > 0 and not _in_any(run_start, excluded):
            length = (next_start - run_start).days
            days += length
            pence_days += amount * length
    return days, pence_days


def interest_pence(
    outstanding: Outstanding,
    from_day: date,
    to_day: date,
    periods: Sequence[BaseRate],
    *,
    excluded: Sequence[tuple[date, date]] = (),
) -> list[InterestSlice]:
    """Statutory interest for from_day..to_day (inclusive), one slice per half year.

    `outstanding` is a fixed amount or the steps of what was owed: (from this day,
    amount) sorted by day. `excluded` are inclusive spans never charged (Breathing
    Space). Slices with no day charged are left out; a slice may still round to 0p.
    """
    if to_day < from_day:
        return []
    steps = [(from_day, outstanding)] if isinstance(outstanding, int) else sorted(outstanding)
    slices = []
    start = from_day
    while start <= to_day:
        end = min(half_year_end(start), to_day)
        reference = reference_rate_bp(periods, start)
        rate = Fraction(reference + STATUTORY_UPLIFT_BP, 10_000 * DAYS_IN_YEAR)
        days, pence_days = _charged_days(steps, excluded, start, end)
        if days:
            slices.append(InterestSlice(start, end, days, reference, pence_days * rate))
        start = end + timedelta(days=1)
    return slices


@dataclass(frozen=True)
class ChargeFacts:
    """What decides whether an invoice may carry Late Payment Act charges on a day."""

    organisation: bool
    commercial: bool
    is_charge: bool  # the invoice is itself a Late Payment Act charge
    in_breathing_space: bool  # on the account's dates or a Breathing Space hold in force
    due_date: date
    outstanding_pence: int


def eligibility(facts: ChargeFacts, on: date) -> str | None:
    """Why the invoice may not be charged on `on`, or None when it may."""
    if not facts.organisation:
        return NOT_AN_ORGANISATION
    if not facts.commercial:
        return NOT_COMMERCIAL
    if facts.is_charge:
        return IS_A_CHARGE
    if facts.in_breathing_space:
        return IN_BREATHING_SPACE
    if facts.due_date >= on:
        return NOT_OVERDUE
    if facts.outstanding_pence <= 0:
        return NOTHING_OUTSTANDING
    return None


def percent_words(basis_points: int) -> str:
    """1325 -> "13.25%", 850 -> "8.5%", 800 -> "8%"."""
    whole, part = divmod(basis_points, 100)
    return f"{whole}%" if not part else f"{whole}.{part:02d}".rstrip("0") + "%"
