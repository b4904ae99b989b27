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
