from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.plan_monitoring import DUE, MISSED, PAID, PART_PAID, assess
from shared.domain.schedules import MONTHLY, build_schedule

# Three monthly instalments of £50.00: 1 January, 1 February, 1 March 2026.
PLAN = [(1, date(2026, 1, 1), 5000), (2, date(2026, 2, 1), 5000), (3, date(2026, 3, 1), 5000)]


def states(assessment):
    return [i.state for i in assessment.instalments]


def test_a_plan_paid_on_time_has_nothing_missed_and_nothing_to_send():
    a = assess(PLAN, 5000, date(2026, 1, 2))
    assert states(a) == [PAID, DUE, DUE]
    assert (a.missed, a.completed, a.broken, a.reminders_due) == (0, False, False, ())


def test_an_instalment_unpaid_on_the_last_day_of_the_tolerance_is_still_only_due():
    a = assess(PLAN, 0, date(2026, 1, 8))  # 1 January + 7 days
    assert states(a) == [DUE, DUE, DUE]
    assert a.reminders_due == ()


def test_a_late_payment_within_the_tolerance_counts_as_on_time():
    assert states(assess(PLAN, 5000, date(2026, 1, 8))) == [PAID, DUE, DUE]


def test_one_miss_is_due_a_reminder_but_does_not_break_the_plan():
    a = assess(PLAN, 0, date(2026, 1, 9))
    assert states(a) == [MISSED, DUE, DUE]
    assert (a.missed, a.broken, a.reminders_due) == (1, False, (1,))


def test_the_reminder_for_a_miss_is_due_only_until_it_has_been_sent():
    assert assess(PLAN, 0, date(2026, 1, 20), reminded={1}).reminders_due == ()


def test_a_second_miss_breaks_the_plan_and_sends_no_more_reminders():
    a = assess(PLAN, 0, date(2026, 2, 9), reminded={1})
    assert states(a) == [MISSED, MISSED, DUE]
    assert (a.missed, a.broken, a.reminders_due) == (2, True, ())


def test_a_council_allowing_three_misses_reminds_about_the_second_instead():
    a = assess(PLAN, 0, date(2026, 2, 9), misses_to_break=3, reminded={1})
    assert (a.missed, a.broken, a.reminders_due) == (2, False, (2,))


def test_a_shorter_tolerance_misses_sooner():
    assert states(assess(PLAN, 0, date(2026, 1, 3), tolerance_days=1)) == [MISSED, DUE, DUE]


def test_paying_everything_early_completes_the_plan():
    a = assess(PLAN, 15_000, date(2026, 1, 2))
    assert states(a) == [PAID, PAID, PAID]
    assert a.completed and not a.broken
    assert a.overpaid_pence == 0


def test_an_overpayment_completes_the_plan_and_says_how_much_is_over():
    a = assess(PLAN, 16_000, date(2026, 1, 2))
    assert a.completed and a.overpaid_pence == 1000


def test_part_payments_fill_the_earliest_instalment_first_and_run_ahead():
    a = assess(PLAN, 7000, date(2026, 1, 2))
    assert states(a) == [PAID, PART_PAID, DUE]
    assert [i.owed_pence for i in a.instalments] == [0, 3000, 5000]


def test_a_part_paid_instalment_past_the_tolerance_is_missed_with_what_is_still_owed():
    a = assess(PLAN, 7000, date(2026, 2, 9))
    assert states(a) == [PAID, MISSED, DUE]
    assert a.instalments[1].paid_pence == 2000 and a.instalments[1].owed_pence == 3000
    assert a.reminders_due == (2,)


def test_catching_up_after_a_miss_cures_it():
    assert assess(PLAN, 0, date(2026, 1, 9)).missed == 1
    a = assess(PLAN, 5000, date(2026, 1, 10), reminded={1})
    assert states(a) == [PAID, DUE, DUE]
    assert (a.missed, a.broken, a.reminders_due) == (0, False, ())


def test_catching_up_one_of_two_misses_leaves_the_plan_unbroken():
    a = assess(PLAN, 5000, date(2026, 2, 9), reminded={1})
    assert states(a) == [PAID, MISSED, DUE]
    assert (a.missed, a.broken, a.reminders_due) == (1, False, (2,))


def test_the_order_instalments_are_given_in_does_not_matter():
    assert assess(list(reversed(PLAN)), 7000, date(2026, 1, 2)) == assess(
        PLAN, 7000, date(2026, 1, 2)
    )


def test_a_schedule_from_build_schedule_can_be_assessed_as_it_is():
    schedule = build_schedule(15_000, MONTHLY, date(2026, 1, 1), count=3)
    assert assess(schedule, 7000, date(2026, 2, 9)) == assess(PLAN, 7000, date(2026, 2, 9))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"paid_pence": -1}, "paid_pence"),
        ({"tolerance_days": -1}, "tolerance_days"),
        ({"misses_to_break": 0}, "misses_to_break"),
        ({"instalments": []}, "at least one"),
        ({"instalments": [PLAN[0], PLAN[0]]}, "unique"),
    ],
)
def test_impossible_inputs_are_refused(kwargs, message):
    args = {"instalments": PLAN, "paid_pence": 0, "today": date(2026, 1, 1), **kwargs}
    with pytest.raises(ValueError, match=message):
        assess(**args)


@st.composite
def plans(draw):
    count = draw(st.integers(1, 12))
    start = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)))
    amounts = draw(st.lists(st.integers(1, 10_000), min_size=count, max_size=count))
    return [(n + 1, start + timedelta(days=14 * n), a) for n, a in enumerate(amounts)]


@given(
    plans(),
    st.integers(0, 150_000),
    st.dates(min_value=date(2019, 1, 1), max_value=date(2031, 1, 1)),
    st.frozensets(st.integers(1, 12)),
)
def test_money_fills_instalments_in_order_and_the_answer_is_the_same_every_run(
    plan, paid, today, reminded
):
    a = assess(plan, paid, today, reminded=reminded)
    total = sum(amount for _, _, amount in plan)
    assert sum(i.paid_pence for i in a.instalments) == min(paid, total)
    # Nothing is paid towards an instalment while an earlier one is still owed.
    for earlier, later in pairwise(a.instalments):
        assert earlier.owed_pence == 0 or later.paid_pence == 0
    assert a.missed == sum(i.state == MISSED for i in a.instalments)
    assert a.broken == (a.missed >= 2)
    assert set(a.reminders_due).isdisjoint(reminded)
    assert a == assess(plan, paid, today, reminded=reminded)
