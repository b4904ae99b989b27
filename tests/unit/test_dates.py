from datetime import date

import pytest

from shared.domain.dates import parse_day


@pytest.mark.parametrize(
    "typed", ["27/3/2026", "27 3 2026", "27.03.2026", "27-3-2026", " 2026-03-27 "]
)
def test_the_ways_people_type_a_date_all_read_as_that_day(typed):
    assert parse_day(typed) == date(2026, 3, 27)


@pytest.mark.parametrize(
    "typed", ["31/2/2026", "3/27/2026", "27/3/26", "tomorrow", "", "2026-3-27"]
)
def test_anything_else_is_refused(typed):
    with pytest.raises(ValueError):
        parse_day(typed)


@pytest.mark.parametrize(
    "typed", ["1/1/0000", "1/1/0001", "31/12/9999", "1/1/99999", "0001-01-01", "٢٧/٣/٢٠٢٦"]
)
def test_years_nobody_means_and_other_scripts_digits_are_refused(typed):
    # Year 1 and 9999 are real dates to Python, but a day before or after is an
    # OverflowError in any date arithmetic done with them.
    with pytest.raises(ValueError):
        parse_day(typed)


def test_the_years_from_1900_to_2199_are_accepted():
    assert parse_day("1/1/1900") == date(1900, 1, 1)
    assert parse_day("31/12/2199") == date(2199, 12, 31)


def test_a_refused_date_says_what_was_typed_and_why():
    with pytest.raises(ValueError, match=r"^not a date: '31st March'$"):
        parse_day(" 31st March ")
    with pytest.raises(ValueError, match=r"^year out of range: '1/1/1899'$"):
        parse_day("1/1/1899")
