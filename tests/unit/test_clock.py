"""The one clock: the business day is England's date, stored timestamps are naive UTC.

Expected values are worked out by hand from the clock-change rules (BST from 01:00 UTC
on the last Sunday of March to 01:00 UTC on the last Sunday of October), not from
zoneinfo. The frozen moments are given in UTC, so time-machine sets the process's own
zone to UTC: a local `date.today()` would answer the UTC date, and each summer-night
case below is one where that answer is wrong.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import time_machine

from shared import clock
from shared.formatting import london_time


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_half_past_midnight_on_a_summer_night_is_already_the_next_day():
    with time_machine.travel(at(2026, 6, 30, 23, 30), tick=False):
        assert clock.today() == date(2026, 7, 1)
        assert date.today() == date(2026, 6, 30)  # what the views used to read


def test_half_past_eleven_on_new_years_eve_in_winter_is_still_that_day():
    with time_machine.travel(at(2026, 12, 31, 23, 30), tick=False):
        assert clock.today() == date(2026, 12, 31)


def test_now_is_england_wall_clock_time_and_utcnow_is_naive_utc():
    with time_machine.travel(at(2026, 6, 30, 23, 30), tick=False):
        assert clock.now().replace(tzinfo=None) == datetime(2026, 7, 1, 0, 30)
        assert clock.now().utcoffset() == timedelta(hours=1)
        assert clock.utcnow() == datetime(2026, 6, 30, 23, 30)
        assert clock.utcnow().tzinfo is None


def test_the_spring_clock_change_night_moves_from_gmt_to_bst_at_one_in_the_morning():
    # 29 March 2026 is the last Sunday of March: 01:00 GMT becomes 02:00 BST.
    with time_machine.travel(at(2026, 3, 29, 0, 59), tick=False):
        assert clock.now().replace(tzinfo=None) == datetime(2026, 3, 29, 0, 59)
    with time_machine.travel(at(2026, 3, 29, 1, 0), tick=False):
        assert clock.now().replace(tzinfo=None) == datetime(2026, 3, 29, 2, 0)
        assert clock.today() == date(2026, 3, 29)
    # The evening before is still GMT, so 23:30 UTC is still the Saturday.
    with time_machine.travel(at(2026, 3, 28, 23, 30), tick=False):
        assert clock.today() == date(2026, 3, 28)
    # The evening after is BST: 23:30 UTC on the Sunday is Monday 00:30.
    with time_machine.travel(at(2026, 3, 29, 23, 30), tick=False):
        assert clock.today() == date(2026, 3, 30)


def test_the_autumn_clock_change_night_moves_from_bst_back_to_gmt():
    # 25 October 2026 is the last Sunday of October: 02:00 BST becomes 01:00 GMT.
    with time_machine.travel(at(2026, 10, 25, 0, 59), tick=False):
        assert clock.now().replace(tzinfo=None) == datetime(2026, 10, 25, 1, 59)
    with time_machine.travel(at(2026, 10, 25, 1, 0), tick=False):
        assert clock.now().replace(tzinfo=None) == datetime(2026, 10, 25, 1, 0)
        assert clock.today() == date(2026, 10, 25)
    # The evening before is BST: 23:30 UTC on the Saturday is Sunday 00:30.
    with time_machine.travel(at(2026, 10, 24, 23, 30), tick=False):
        assert clock.today() == date(2026, 10, 25)
    # The evening after is GMT again.
    with time_machine.travel(at(2026, 10, 25, 23, 30), tick=False):
        assert clock.today() == date(2026, 10, 25)


def test_a_stored_timestamp_belongs_to_the_day_it_was_in_england():
    assert clock.london_day(datetime(2026, 6, 30, 23, 30)) == date(2026, 7, 1)
    assert clock.london_day(datetime(2026, 6, 30, 22, 59)) == date(2026, 6, 30)
    assert clock.london_day(datetime(2026, 12, 31, 23, 30)) == date(2026, 12, 31)
    assert clock.london_day(at(2026, 6, 30, 23, 30)) == date(2026, 7, 1)


def test_a_stored_timestamp_reads_as_england_wall_clock_time():
    assert clock.as_london(datetime(2026, 6, 30, 23, 30)).replace(tzinfo=None) == datetime(
        2026, 7, 1, 0, 30
    )
    assert clock.as_london(datetime(2026, 1, 15, 9, 5)).replace(tzinfo=None) == datetime(
        2026, 1, 15, 9, 5
    )


def test_an_english_day_starts_at_2300_utc_the_day_before_in_summer_and_at_midnight_in_winter():
    assert clock.day_starts(date(2026, 7, 1)) == datetime(2026, 6, 30, 23, 0)
    assert clock.day_starts(date(2026, 12, 31)) == datetime(2026, 12, 31, 0, 0)
    # Both clock-change days begin before the change, so at the winter offset in
    # spring and the summer one in autumn.
    assert clock.day_starts(date(2026, 3, 29)) == datetime(2026, 3, 29, 0, 0)
    assert clock.day_starts(date(2026, 10, 25)) == datetime(2026, 10, 24, 23, 0)


def test_a_timestamp_on_a_page_is_shown_in_england_time_without_a_leading_zero_on_the_day():
    assert london_time(datetime(2026, 6, 30, 23, 30)) == "1 July 2026 00:30"
    assert london_time(datetime(2026, 12, 31, 23, 30)) == "31 December 2026 23:30"
    assert london_time(datetime(2026, 6, 30, 23, 30, 15), "%d/%m/%Y %H:%M:%S") == (
        "01/07/2026 00:30:15"
    )
