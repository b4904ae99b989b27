"""Which statement lines are bank transfers an officer has already recorded by hand.

Pure: no Flask, no SQLAlchemy. An officer may key a bank transfer before the
statement shows it (the debtor phoned with a remittance advice) or after (catching up
on the post). When the statement then carries that transfer, posting the line as well
would credit the debtor twice, so a line matched to an account is linked to a
hand-recorded BANK_TRANSFER payment on that account when:

- the amount is the same, to the penny;
- the payment's date is within WINDOW_WORKING_DAYS working days of the day the bank
  booked the line, before or after;
- no other statement line has claimed the payment (each payment is claimed once: of
  two identical transfers against one keyed payment the first is linked and the
  second posted).

Why five working days: a Bacs credit takes three working days from the payer's
instruction (the day they send the remittance advice) to our account, and an officer
keying from the post may be a few days behind; five working days either side (a
business week) covers both. A wider window would start to catch the next of a
debtor's regular payments of the same amount: weekly instalments are five working days
apart, and the nearest-date rule below keeps each line on its own week; monthly ones
are about twenty apart, far outside.

Working days are Monday to Friday. Bank holidays are counted as working days, which
only narrows the window by a day when one falls inside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

WINDOW_WORKING_DAYS = 5


@dataclass(frozen=True)
class KeyedPayment:
    """A bank transfer recorded by hand that no statement line has claimed yet."""

    entry_id: int
    account_id: int
    amount_pence: int
    effective_date: date


@dataclass(frozen=True)
class MatchedCredit:
    """A statement line matched to an account, that would otherwise be posted."""

    key: int  # the line's position on the statement (or its id): returned as given
    account_id: int
    amount_pence: int
    booking_date: date


def working_days_apart(first: date, second: date) -> int:
    """How many Mondays to Fridays fall after the earlier day, up to and including the
    later one (a Friday and the Monday after are one working day apart)."""
    earlier, later = sorted((first, second))
    days = (later - earlier).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    for offset in range(1, rest + 1):
        if (earlier + timedelta(days=offset)).weekday() < 5:
            count += 1
    return count


def in_window(effective_date: date, booking_date: date, window: int = WINDOW_WORKING_DAYS) -> bool:
    return working_days_apart(effective_date, booking_date) <= window


def calendar_span(
    first_booking: date, last_booking: date, window: int = WINDOW_WORKING_DAYS
) -> tuple[date, date]:
    """The calendar days a keyed payment may fall on to be in some line's window: a
    little wide (every run of five working days fits in seven calendar days, plus the
    weekend a line booked on a Saturday or Sunday adds), for the database to narrow the
    read; in_window decides."""
    slack = timedelta(days=(window // 5 + 1) * 7 + 2)
    return first_booking - slack, last_booking + slack


def claim(
    credits: Sequence[MatchedCredit],
    keyed: Iterable[KeyedPayment],
    window: int = WINDOW_WORKING_DAYS,
) -> dict[int, KeyedPayment]:
    """credit key -> the keyed payment it is, for the credits that are one.

    Credits are taken in the order given (statement order); each takes, among the
    unclaimed payments of its account and amount in its window, the one nearest its
    booking date (on a tie, the one recorded first), so a payment is claimed once."""
    waiting: dict[tuple[int, int], list[KeyedPayment]] = {}
    for payment in keyed:
        waiting.setdefault((payment.account_id, payment.amount_pence), []).append(payment)
    claimed: dict[int, KeyedPayment] = {}
    for credit in credits:
        pool = waiting.get((credit.account_id, credit.amount_pence))
        if not pool:
            continue
        near = [p for p in pool if in_window(p.effective_date, credit.booking_date, window)]
        if not near:
            continue
        chosen = min(
            near,
            key=lambda p: (working_days_apart(p.effective_date, credit.booking_date), p.entry_id),
        )
        pool.remove(chosen)
        claimed[credit.key] = chosen
    return claimed
