import calendar
from datetime import date
from itertools import pairwise

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shared.domain.schedules import (
    FORTNIGHTLY,
    FOUR_WEEKLY,
    FREQUENCIES,
    MONTHLY,
    WEEKLY,
    ScheduledInstalment,
    ScheduleError,
    build_schedule,
    describe_schedule,
    plan_length_months,
    regular_instalment_pence,
)
from shared.models.plans import Frequency


def amounts(schedule):
    return [i.amount_pence for i in schedule]


def dates(schedule):
    return [i.due_date for i in schedule]


def test_the_odd_pence_go_on_the_last_instalment():
    assert amounts(build_schedule(10_000, MONTHLY, date(2026, 1, 1), count=3)) == [
        3333,
        3333,
        3334,
    ]


def test_a_fixed_instalment_ends_with_a_smaller_last_payment_for_what_remains():
    assert amounts(build_schedule(12_000, WEEKLY, date(2026, 1, 1), instalment_pence=5000)) == [
        5000,
        5000,
        2000,
    ]


def test_a_fixed_instalment_that_divides_exactly_has_no_zero_payment_at_the_end():
    assert amounts(build_schedule(15_000, WEEKLY, date(2026, 1, 1), instalment_pence=5000)) == [
        5000,
        5000,
        5000,
    ]


def test_instalments_are_numbered_from_one():
    schedule = build_schedule(300, WEEKLY, date(2026, 1, 1), count=3)
    assert [i.sequence for i in schedule] == [1, 2, 3]


@pytest.mark.parametrize(
    ("frequency", "expected"),
    [
        (WEEKLY, [date(2026, 1, 1), date(2026, 1, 8), date(2026, 1, 15)]),
        (FORTNIGHTLY, [date(2026, 1, 1), date(2026, 1, 15), date(2026, 1, 29)]),
        (FOUR_WEEKLY, [date(2026, 1, 1), date(2026, 1, 29), date(2026, 2, 26)]),
        (MONTHLY, [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]),
    ],
)
def test_each_frequency_spaces_the_payments_as_its_name_says(frequency, expected):
    assert dates(build_schedule(300, frequency, date(2026, 1, 1), count=3)) == expected


def test_a_plan_starting_on_the_31st_uses_the_last_day_of_short_months_and_returns_to_the_31st():
    schedule = build_schedule(500, MONTHLY, date(2026, 1, 31), count=5)
    assert dates(schedule) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]


def test_a_plan_starting_on_the_31st_falls_on_29_february_in_a_leap_year():
    assert dates(build_schedule(200, MONTHLY, date(2028, 1, 31), count=2))[1] == date(2028, 2, 29)


def test_a_monthly_plan_crosses_the_year_end():
    assert dates(build_schedule(200, MONTHLY, date(2026, 12, 15), count=2))[1] == date(2027, 1, 15)


def test_the_model_frequency_enum_can_be_passed_as_it_is():
    assert build_schedule(200, Frequency.MONTHLY, date(2026, 1, 1), count=2) == build_schedule(
        200, MONTHLY, date(2026, 1, 1), count=2
    )
    assert set(FREQUENCIES) == {f.value for f in Frequency}


@pytest.mark.parametrize(
    ("total", "kwargs", "message"),
    [
        (0, {"count": 1}, "must be more than £0"),
        (-100, {"count": 1}, "must be more than £0"),
        (1000, {"count": 0}, "1 or more"),
        (1000, {"instalment_pence": 0}, "Each payment must be more than £0"),
        (1000, {"instalment_pence": -5}, "Each payment must be more than £0"),
        (1000, {"instalment_pence": 1001}, r"no more than the £10\.00 to pay"),
        (5, {"count": 6}, r"£0\.05 cannot be split into 6 payments; choose 5 payments or fewer"),
        (1000, {}, "either how much to pay each time or how many payments"),
        (1000, {"count": 2, "instalment_pence": 500}, "either how much"),
        (10.5, {"count": 2}, "whole pence"),
    ],
)
def test_impossible_schedules_are_refused_with_a_reason_a_debtor_can_read(total, kwargs, message):
    with pytest.raises(ScheduleError, match=message):
        build_schedule(total, MONTHLY, date(2026, 1, 1), **kwargs)


def test_an_unknown_frequency_is_refused():
    with pytest.raises(ScheduleError, match="how often"):
        build_schedule(1000, "daily", date(2026, 1, 1), count=2)


def test_a_plan_running_past_the_calendar_is_refused_not_crashed():
    with pytest.raises(ScheduleError, match="too long"):
        build_schedule(10**9, WEEKLY, date(2026, 1, 1), instalment_pence=1)


def test_a_single_instalment_is_the_whole_amount():
    assert build_schedule(1234, MONTHLY, date(2026, 1, 1), instalment_pence=1234) == [
        ScheduledInstalment(1, date(2026, 1, 1), 1234)
    ]


def test_the_description_names_the_regular_payments_and_the_last_one():
    schedule = build_schedule(61_234, MONTHLY, date(2026, 3, 1), instalment_pence=5000)
    assert describe_schedule(schedule, MONTHLY) == (
        "12 monthly payments of £50.00 from 1 March 2026, "
        "then a last payment of £12.34 on 1 March 2027"
    )


def test_equal_payments_are_described_without_a_last_payment():
    schedule = build_schedule(3000, FOUR_WEEKLY, date(2026, 3, 1), count=3)
    assert describe_schedule(schedule, FOUR_WEEKLY) == (
        "3 four-weekly payments of £10.00 from 1 March 2026"
    )


def test_a_one_payment_plan_is_described_as_one_payment_on_its_date():
    schedule = build_schedule(3000, WEEKLY, date(2026, 3, 1), count=1)
    assert describe_schedule(schedule, WEEKLY) == "1 payment of £30.00 on 1 March 2026"


def test_two_payments_are_described_in_the_singular_before_the_last():
    schedule = build_schedule(150, WEEKLY, date(2026, 3, 1), instalment_pence=100)
    assert describe_schedule(schedule, WEEKLY) == (
        "1 weekly payment of £1.00 from 1 March 2026, then a last payment of £0.50 on 8 March 2026"
    )


@pytest.mark.parametrize(
    ("frequency", "count", "months"),
    [
        (MONTHLY, 12, 12),
        (MONTHLY, 13, 13),
        (MONTHLY, 1, 1),
        (WEEKLY, 52, 12),
        (WEEKLY, 53, 13),
        (WEEKLY, 1, 1),
        (FORTNIGHTLY, 26, 12),
        (FOUR_WEEKLY, 13, 12),
        (FOUR_WEEKLY, 14, 13),
    ],
)
def test_a_plan_lasts_the_months_its_payments_cover_rounded_up(frequency, count, months):
    schedule = build_schedule(100_000, frequency, date(2026, 1, 1), count=count)
    assert plan_length_months(schedule, frequency) == months


def test_a_monthly_plan_anchored_on_the_31st_lasts_exactly_its_number_of_payments():
    schedule = build_schedule(100_000, MONTHLY, date(2026, 1, 31), count=2)
    assert plan_length_months(schedule, MONTHLY) == 2


def test_the_regular_instalment_leaves_out_the_last_payments_remainder():
    schedule = build_schedule(10_050, MONTHLY, date(2026, 1, 1), instalment_pence=5000)
    assert regular_instalment_pence(schedule) == 5000
    assert regular_instalment_pence(schedule[:1]) == 5000


# Properties ------------------------------------------------------------------

frequencies = st.sampled_from(list(FREQUENCIES))
starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@st.composite
def by_count(draw):
    total = draw(st.integers(1, 10_000_000))
    count = draw(st.integers(1, min(total, 120)))
    return total, count


@st.composite
def by_instalment(draw):
    total = draw(st.integers(1, 10_000_000))
    instalment = draw(st.integers(max(1, total // 150), total))
    return total, instalment


@given(by_count(), frequencies, starts)
def test_a_schedule_by_count_sums_to_the_total_in_that_many_positive_instalments(
    total_count, frequency, start
):
    total, count = total_count
    schedule = build_schedule(total, frequency, start, count=count)
    assert sum(amounts(schedule)) == total
    assert len(schedule) == count
    assert all(a > 0 for a in amounts(schedule))
    assert len(set(amounts(schedule)[:-1])) <= 1
    assert schedule[-1].amount_pence >= schedule[0].amount_pence


@given(by_instalment(), frequencies, starts)
def test_a_schedule_by_instalment_sums_to_the_total_with_all_but_the_last_equal_to_it(
    total_instalment, frequency, start
):
    total, instalment = total_instalment
    schedule = build_schedule(total, frequency, start, instalment_pence=instalment)
    assert sum(amounts(schedule)) == total
    assert all(a == instalment for a in amounts(schedule)[:-1])
    assert 0 < schedule[-1].amount_pence <= instalment


@given(by_count(), frequencies, starts)
def test_due_dates_strictly_increase_from_the_start(total_count, frequency, start):
    total, count = total_count
    schedule = build_schedule(total, frequency, start, count=count)
    assert schedule[0].due_date == start
    assert all(a < b for a, b in pairwise(dates(schedule)))
    assert [i.sequence for i in schedule] == list(range(1, count + 1))


@given(
    st.integers(1, 60),
    st.integers(2000, 2100),
    st.integers(1, 12),
    st.integers(29, 31),
)
def test_monthly_plans_from_the_29th_to_31st_keep_their_day_or_the_months_last_day(
    count, year, month, anchor
):
    assume(anchor <= calendar.monthrange(year, month)[1])
    start = date(year, month, anchor)
    schedule = build_schedule(10_000, MONTHLY, start, count=count)
    for i in schedule:
        months_on = (i.due_date.year - start.year) * 12 + i.due_date.month - start.month
        assert months_on == i.sequence - 1
        month_length = calendar.monthrange(i.due_date.year, i.due_date.month)[1]
        if month_length < anchor:
            assert i.due_date.day == month_length
        else:
            assert i.due_date.day == anchor
