"""Statement lines that are bank transfers an officer recorded by hand: same account and
amount, within five working days either side, each payment claimed by one line."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.bank_statements.hand_keyed import (
    WINDOW_WORKING_DAYS,
    KeyedPayment,
    MatchedCredit,
    calendar_span,
    claim,
    in_window,
    working_days_apart,
)

THU_3_DEC = date(2026, 12, 3)


# Read off the calendar of November and December 2026 (3 December is a Thursday).
@pytest.mark.parametrize(
    ("first", "second", "apart"),
    [
        (THU_3_DEC, THU_3_DEC, 0),
        (date(2026, 12, 4), date(2026, 12, 7), 1),  # Friday to Monday
        (date(2026, 12, 5), date(2026, 12, 6), 0),  # Saturday to Sunday
        (date(2026, 12, 5), date(2026, 12, 7), 1),  # Saturday to Monday
        (THU_3_DEC, date(2026, 12, 10), 5),  # a week on
        (date(2026, 11, 26), THU_3_DEC, 5),  # a week before
        (date(2026, 11, 25), THU_3_DEC, 6),  # a Wednesday eight days before
        (date(2026, 12, 11), THU_3_DEC, 6),  # order does not matter
        (date(2026, 11, 2), date(2026, 11, 30), 20),  # four weeks, Monday to Monday
    ],
)
def test_working_days_apart_count_mondays_to_fridays_after_the_earlier_day(first, second, apart):
    assert working_days_apart(first, second) == apart


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    st.integers(min_value=0, max_value=60),
)
def test_working_days_apart_agrees_with_counting_each_day(start, days):
    end = start + timedelta(days=days)
    by_hand = sum(1 for d in range(1, days + 1) if (start + timedelta(days=d)).isoweekday() <= 5)
    assert working_days_apart(start, end) == working_days_apart(end, start) == by_hand


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(-30, 30))
def test_every_day_in_the_window_is_inside_the_calendar_span_read(booking, offset):
    day = booking + timedelta(days=offset)
    earliest, latest = calendar_span(booking, booking)
    if in_window(day, booking):
        assert earliest <= day <= latest


def _keyed(entry_id, day, account=1, pence=5_000):
    return KeyedPayment(entry_id, account, pence, day)


def _credit(key, day=THU_3_DEC, account=1, pence=5_000):
    return MatchedCredit(key, account, pence, day)


def test_a_line_claims_the_keyed_payment_of_its_account_and_amount_in_the_window():
    keyed = [_keyed(10, date(2026, 12, 1))]
    assert claim([_credit(0)], keyed) == {0: keyed[0]}


@pytest.mark.parametrize(
    "other",
    [
        dict(account=2),  # another account
        dict(pence=5_001),  # another amount, by a penny
        dict(day=date(2026, 11, 25)),  # six working days before
        dict(day=date(2026, 12, 11)),  # six working days after
    ],
)
def test_a_line_does_not_claim_a_payment_that_differs_in_account_amount_or_date(other):
    fields = dict(day=date(2026, 12, 2), account=1, pence=5_000) | other
    assert claim([_credit(0)], [_keyed(10, **fields)]) == {}


def test_the_window_reaches_five_working_days_either_side():
    assert WINDOW_WORKING_DAYS == 5
    before, after = _keyed(10, date(2026, 11, 26)), _keyed(11, date(2026, 12, 10))
    assert claim([_credit(0)], [before]) == {0: before}
    assert claim([_credit(0)], [after]) == {0: after}


def test_two_identical_lines_and_one_keyed_payment_the_first_line_claims_it_the_second_does_not():
    keyed = [_keyed(10, THU_3_DEC)]
    assert claim([_credit(0), _credit(1)], keyed) == {0: keyed[0]}


def test_each_line_takes_the_keyed_payment_nearest_its_own_day():
    # Weekly instalments of the same amount, both keyed: each week's line is its own week's.
    week_one, week_two = _keyed(10, THU_3_DEC), _keyed(11, date(2026, 12, 10))
    lines = [_credit(0, date(2026, 12, 10)), _credit(1, THU_3_DEC)]
    assert claim(lines, [week_one, week_two]) == {0: week_two, 1: week_one}


def test_of_two_keyed_payments_as_near_the_one_recorded_first_is_claimed():
    later, earlier = _keyed(12, date(2026, 12, 2)), _keyed(11, date(2026, 12, 4))
    assert claim([_credit(0)], [later, earlier]) == {0: earlier}
