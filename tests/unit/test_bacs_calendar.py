"""Bacs working days and the three-day cycle, around the holidays that move them."""

from datetime import date

import pytest

from shared.domain.bacs import calendar
from shared.domain.bacs.calendar import NotAWorkingDay


@pytest.mark.parametrize(
    "day, working",
    [
        (date(2026, 4, 2), True),  # Maundy Thursday
        (date(2026, 4, 3), False),  # Good Friday
        (date(2026, 4, 4), False),  # Saturday
        (date(2026, 4, 6), False),  # Easter Monday
        (date(2026, 4, 7), True),
        (date(2026, 12, 24), True),
        (date(2026, 12, 25), False),  # Christmas Day, a Friday
        (date(2026, 12, 28), False),  # Boxing Day (substitute): the 26th is a Saturday
        (date(2026, 12, 29), True),
        (date(2027, 1, 1), False),
        (date(2022, 9, 19), False),  # the state funeral: a one-off bank holiday
        (date(2026, 8, 31), False),  # late summer bank holiday (England, not Scotland)
        (date(2026, 8, 3), True),  # Scotland's summer holiday is not a Bacs holiday
    ],
)
def test_working_days_are_weekdays_that_are_not_england_and_wales_bank_holidays(day, working):
    assert calendar.is_working_day(day) is working


def test_a_file_processed_before_easter_debits_payers_after_it():
    cycle = calendar.cycle_for_processing_day(date(2026, 4, 2))
    assert cycle.input_day == date(2026, 4, 1)
    assert cycle.entry_day == date(2026, 4, 7)


def test_the_cycle_that_debits_on_the_tuesday_after_christmas_starts_before_it():
    cycle = calendar.cycle_for_entry_day(date(2026, 12, 29))
    assert cycle.processing_day == date(2026, 12, 24)
    assert cycle.input_day == date(2026, 12, 23)


def test_a_cycle_on_a_bank_holiday_is_refused_with_its_name():
    with pytest.raises(NotAWorkingDay, match="Good Friday"):
        calendar.cycle_for_processing_day(date(2026, 4, 3))
    with pytest.raises(NotAWorkingDay, match="a Sunday"):
        calendar.cycle_for_entry_day(date(2026, 4, 5))


def test_something_due_on_a_holiday_is_collected_on_the_next_working_day_never_before():
    assert calendar.entry_day_for(date(2026, 12, 25)) == date(2026, 12, 29)
    assert calendar.entry_day_for(date(2026, 12, 24)) == date(2026, 12, 24)
    assert calendar.on_or_before(date(2026, 12, 28)) == date(2026, 12, 24)


def test_counting_working_days_skips_weekends_and_holidays_both_ways():
    assert calendar.add_working_days(date(2026, 12, 23), 2) == date(2026, 12, 29)
    assert calendar.add_working_days(date(2026, 12, 29), -2) == date(2026, 12, 23)
    assert calendar.add_working_days(date(2026, 4, 4), 1) == date(2026, 4, 7)
    assert calendar.add_working_days(date(2026, 4, 4), 0) == date(2026, 4, 4)
    assert calendar.working_days_between(date(2026, 12, 23), date(2026, 12, 29)) == 2
    assert calendar.working_days_between(date(2026, 12, 29), date(2026, 12, 23)) == 0


def test_ten_working_days_notice_over_christmas_takes_three_weeks():
    assert calendar.earliest_entry_day(date(2026, 12, 18), 10) == date(2027, 1, 6)


def test_a_date_outside_the_calendar_is_refused_not_guessed():
    with pytest.raises(calendar.OutOfRange):
        calendar.is_working_day(date(2101, 1, 3))
