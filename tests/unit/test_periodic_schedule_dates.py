"""When a periodic invoice schedule's invoices fall, which are due on a day, and when
each is due for payment. Expected dates are worked out from `calendar`, not from the
code under test."""

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.periodic import (
    FREQUENCIES,
    MAX_COUNT,
    MONTHLY,
    QUARTERLY,
    WEEKLY,
    YEARLY,
    Period,
    PeriodicError,
    Terms,
    describe,
    due_after,
    due_periods,
    next_period,
    occurrence,
    payment_due,
    periods_through,
    terms_problems,
)
from shared.models.invoice_schedules import InvoiceFrequency


def last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def days(periods):
    return [p.day for p in periods]


def test_the_model_frequencies_are_the_rules_frequencies():
    assert {f.value for f in InvoiceFrequency} == set(FREQUENCIES)


def test_monthly_from_31_january_takes_each_months_last_day_when_it_is_shorter():
    terms = Terms(MONTHLY, date(2026, 1, 31), count=6)
    expected = [date(2026, m, min(31, last_day(2026, m))) for m in range(1, 7)]
    assert days(periods_through(terms, date(2026, 12, 31))) == expected
    assert expected[1] == date(2026, 2, 28) and expected[3] == date(2026, 4, 30)


def test_monthly_from_31_january_in_a_leap_year_falls_on_29_february():
    assert occurrence(date(2028, 1, 31), MONTHLY, 2) == date(2028, 2, last_day(2028, 2))
    assert last_day(2028, 2) == 29


def test_monthly_does_not_drift_to_the_28th_after_february():
    # Worked out from the start each time, not from the previous date.
    assert occurrence(date(2026, 1, 31), MONTHLY, 3) == date(2026, 3, 31)


def test_yearly_from_29_february_falls_on_28_february_in_other_years():
    got = [occurrence(date(2024, 2, 29), YEARLY, n) for n in range(1, 6)]
    expected = [date(y, 2, last_day(y, 2)) for y in range(2024, 2029)]
    assert got == expected
    assert got[-1] == date(2028, 2, 29)


def test_quarterly_is_every_three_months_from_the_start():
    got = [occurrence(date(2026, 11, 30), QUARTERLY, n) for n in range(1, 5)]
    assert got == [
        date(2026, 11, 30),
        date(2027, 2, last_day(2027, 2)),
        date(2027, 5, 30),
        date(2027, 8, 30),
    ]


def test_weekly_is_every_seven_days_across_a_year_end():
    got = [occurrence(date(2026, 12, 24), WEEKLY, n) for n in range(1, 4)]
    assert got == [date(2026, 12, 24), date(2026, 12, 31), date(2027, 1, 7)]


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    n=st.integers(min_value=1, max_value=60),
)
def test_monthly_occurrences_are_in_the_right_month_on_the_right_day(start, n):
    got = occurrence(start, MONTHLY, n)
    months = start.year * 12 + start.month - 1 + n - 1
    year, month = divmod(months, 12)
    assert (got.year, got.month) == (year, month + 1)
    assert got.day == min(start.day, last_day(year, month + 1))


def test_an_end_date_is_inclusive_and_nothing_falls_after_it():
    terms = Terms(WEEKLY, date(2026, 6, 1), end=date(2026, 6, 15))
    assert days(periods_through(terms, date(2027, 1, 1))) == [
        date(2026, 6, 1),
        date(2026, 6, 8),
        date(2026, 6, 15),
    ]


def test_a_count_stops_the_schedule_after_that_many_invoices():
    terms = Terms(MONTHLY, date(2026, 1, 1), count=3)
    assert len(periods_through(terms, date(2030, 1, 1))) == 3
    assert next_period(terms, 3) is None
    assert next_period(terms, 2) == Period(3, date(2026, 3, 1))


def test_an_open_ended_schedule_goes_on_until_cancelled():
    terms = Terms(YEARLY, date(2026, 4, 1))
    assert next_period(terms, 50) == Period(51, date(2076, 4, 1))


def test_only_periods_on_or_before_the_day_are_due():
    terms = Terms(WEEKLY, date(2026, 6, 1))
    assert due_periods(terms, date(2026, 5, 31), raised=[]) == []
    assert due_periods(terms, date(2026, 6, 1), raised=[]) == [Period(1, date(2026, 6, 1))]


def test_a_period_already_raised_is_not_due_again_the_same_day():
    terms = Terms(WEEKLY, date(2026, 6, 1))
    assert due_periods(terms, date(2026, 6, 1), raised=[date(2026, 6, 1)]) == []
    assert due_after(terms, date(2026, 6, 1), raised_count=1) == []


def test_after_three_weeks_without_a_run_each_missed_period_is_due_once():
    terms = Terms(WEEKLY, date(2026, 6, 1))
    catch_up = date(2026, 6, 1) + timedelta(days=15)
    expected = [
        Period(1, date(2026, 6, 1)),
        Period(2, date(2026, 6, 8)),
        Period(3, date(2026, 6, 15)),
    ]
    assert due_periods(terms, catch_up, raised=[]) == expected
    assert due_after(terms, catch_up, raised_count=0) == expected
    assert due_after(terms, catch_up, raised_count=2) == expected[2:]


def test_catching_up_stops_at_the_count():
    terms = Terms(MONTHLY, date(2026, 1, 15), count=2)
    assert days(due_after(terms, date(2026, 12, 1), raised_count=0)) == [
        date(2026, 1, 15),
        date(2026, 2, 15),
    ]


def test_an_invoice_is_due_the_departments_payment_terms_after_issue():
    assert payment_due(date(2026, 1, 31), 30) == date(2026, 3, 2)
    assert payment_due(date(2026, 12, 15), 14) == date(2026, 12, 29)
    assert payment_due(date(2026, 6, 1), 0) == date(2026, 6, 1)


def test_negative_payment_terms_are_refused():
    with pytest.raises(PeriodicError):
        payment_due(date(2026, 6, 1), -1)


def test_an_unknown_frequency_is_refused_in_words():
    with pytest.raises(PeriodicError, match="weekly, monthly, quarterly or yearly"):
        occurrence(date(2026, 1, 1), "fortnightly", 2)


def test_a_schedule_running_past_year_9999_is_refused_not_crashed():
    with pytest.raises(PeriodicError):
        occurrence(date(9999, 1, 1), YEARLY, 3)
    with pytest.raises(PeriodicError):
        occurrence(date(9999, 12, 1), WEEKLY, 10)


TODAY = date(2026, 6, 17)


def test_good_terms_have_no_problems():
    assert terms_problems(Terms(MONTHLY, TODAY, count=12), TODAY) == {}
    assert terms_problems(Terms(WEEKLY, TODAY, end=TODAY), TODAY) == {}
    assert terms_problems(Terms(YEARLY, TODAY + timedelta(days=1)), TODAY) == {}


@pytest.mark.parametrize(
    ("terms", "field", "words"),
    [
        (Terms("daily", TODAY), "frequency", "how often"),
        (Terms(MONTHLY, TODAY - timedelta(days=1)), "start_date", "today or in the future"),
        (Terms(MONTHLY, TODAY, end=TODAY + timedelta(days=9), count=2), "ends", "not both"),
        (Terms(MONTHLY, TODAY, end=TODAY - timedelta(days=1)), "end_date", "on or after"),
        (Terms(MONTHLY, TODAY, end=date(2037, 1, 1)), "end_date", "within 10 years"),
        (Terms(MONTHLY, TODAY, count=0), "count", "between 1 and"),
        (Terms(MONTHLY, TODAY, count=MAX_COUNT + 1), "count", "between 1 and"),
    ],
)
def test_bad_terms_say_which_field_and_why(terms, field, words):
    problems = terms_problems(terms, TODAY)
    assert field in problems
    assert words in problems[field]


def test_terms_are_described_for_people():
    assert describe(Terms(MONTHLY, date(2026, 1, 31), count=12)) == (
        "Monthly from 31 January 2026, 12 invoices"
    )
    assert describe(Terms(QUARTERLY, date(2026, 4, 1), end=date(2027, 3, 31))) == (
        "Quarterly from 1 April 2026 to 31 March 2027"
    )
    assert describe(Terms(WEEKLY, date(2026, 4, 6))) == "Weekly from 6 April 2026, until cancelled"
