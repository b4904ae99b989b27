"""Each refusal of a schedule in the exact words the debtor reads, the last day the
calendar allows, and the sentence that describes a plan.

Found by mutation testing (docs/mutation-testing.md): test_schedules.py matches a few
words of each refusal, so a refusal reworded (or emptied) still passed it.
"""

from __future__ import annotations

from datetime import date

import pytest

from shared.domain.schedules import (
    MONTHLY,
    WEEKLY,
    ScheduledInstalment,
    ScheduleError,
    build_schedule,
    describe_schedule,
    due_date,
    months_rounded_up,
    plan_length_months,
    regular_instalment_pence,
)

HOW_OFTEN = "Choose how often to pay: weekly, fortnightly, every four weeks or monthly"
TOO_LONG = "The payments would go on too long: choose fewer, larger payments"


def _refusal(call, *args, **kwargs) -> str:
    with pytest.raises(ScheduleError) as refused:
        call(*args, **kwargs)
    return str(refused.value)


@pytest.mark.parametrize(
    ("total", "frequency", "kwargs", "message"),
    [
        (1000, "daily", {"count": 2}, HOW_OFTEN),
        (1000, MONTHLY, {}, "Choose either how much to pay each time or how many payments"),
        (
            10.5,
            MONTHLY,
            {"count": 2},
            "Amounts must be whole pence and the number of payments whole",
        ),
        (0, MONTHLY, {"count": 1}, "The amount to pay must be more than £0"),
        (1000, MONTHLY, {"count": 0}, "The number of payments must be 1 or more"),
        (1000, MONTHLY, {"instalment_pence": 0}, "Each payment must be more than £0"),
    ],
)
def test_each_refusal_reads_exactly_as_the_debtor_sees_it(total, frequency, kwargs, message):
    assert _refusal(build_schedule, total, frequency, date(2026, 1, 1), **kwargs) == message


def test_a_due_date_for_an_unknown_frequency_is_refused_in_words():
    assert _refusal(due_date, date(2026, 1, 1), "daily", 2) == HOW_OFTEN


def test_a_weekly_plan_past_the_end_of_the_calendar_is_refused_in_words():
    assert _refusal(due_date, date(9999, 12, 1), WEEKLY, 10) == TOO_LONG


def test_a_monthly_plan_may_end_in_december_9999_but_not_a_month_later():
    plan = build_schedule(1200, MONTHLY, date(9999, 1, 1), count=12)
    assert plan[-1].due_date == date(9999, 12, 1)
    assert _refusal(build_schedule, 1300, MONTHLY, date(9999, 1, 1), count=13) == TOO_LONG


def test_counting_months_back_reaches_january_of_year_one_and_no_further():
    # plan_length_months counts forward only; add_months is also asked to count back.
    from shared.domain.schedules import add_months

    assert add_months(date(1, 2, 28), -1) == date(1, 1, 28)
    assert _refusal(add_months, date(1, 1, 1), -1) == TOO_LONG


def test_an_empty_schedule_is_refused_by_every_reader_in_the_same_words():
    for read in (
        regular_instalment_pence,
        lambda s: plan_length_months(s, MONTHLY),
        lambda s: describe_schedule(s, MONTHLY),
    ):
        assert _refusal(read, []) == "The schedule has no payments"


def test_the_regular_instalment_is_the_smallest_before_the_last():
    uneven = [
        ScheduledInstalment(1, date(2026, 1, 1), 5_000),
        ScheduledInstalment(2, date(2026, 2, 1), 4_000),
        ScheduledInstalment(3, date(2026, 3, 1), 34),
    ]
    assert regular_instalment_pence(uneven) == 4_000


def test_no_months_are_needed_to_reach_a_day_already_passed():
    assert months_rounded_up(date(2026, 3, 1), date(2026, 2, 1)) == 0
    assert months_rounded_up(date(2026, 3, 1), date(2026, 3, 1)) == 0


def test_two_regular_payments_and_a_last_one_are_described_in_the_plural():
    plan = build_schedule(10_000, MONTHLY, date(2026, 1, 1), count=3)
    assert describe_schedule(plan, MONTHLY) == (
        "2 monthly payments of £33.33 from 1 January 2026, "
        "then a last payment of £33.34 on 1 March 2026"
    )


def test_one_regular_payment_and_a_last_one_are_described_in_the_singular():
    plan = build_schedule(150, WEEKLY, date(2026, 1, 5), instalment_pence=100)
    assert describe_schedule(plan, WEEKLY) == (
        "1 weekly payment of £1.00 from 5 January 2026, "
        "then a last payment of £0.50 on 12 January 2026"
    )
