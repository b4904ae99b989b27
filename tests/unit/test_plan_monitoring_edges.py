"""Edges of the plan monitor that test_plan_monitoring.py does not pin: a penny paid,
the strictest settings a council may choose, instalments out of step with their
numbers, and the exact refusal of impossible inputs.

Found by mutation testing (docs/mutation-testing.md).
"""

from __future__ import annotations

from datetime import date

import pytest

from shared.domain.plan_monitoring import DUE, MISSED, PAID, PART_PAID, assess

PLAN = [
    (1, date(2026, 1, 1), 5000),
    (2, date(2026, 2, 1), 5000),
    (3, date(2026, 3, 1), 5000),
]


def test_a_single_penny_paid_makes_the_first_instalment_part_paid_not_just_due():
    a = assess(PLAN, 1, date(2026, 1, 1))
    first = a.instalments[0]
    assert (first.sequence, first.due_date, first.paid_pence, first.state) == (
        1,
        date(2026, 1, 1),
        1,
        PART_PAID,
    )
    assert first.owed_pence == 4999


def test_a_council_with_no_days_of_grace_misses_an_instalment_the_day_after_it_was_due():
    on_the_day = assess(PLAN, 0, date(2026, 1, 1), tolerance_days=0)
    next_day = assess(PLAN, 0, date(2026, 1, 2), tolerance_days=0)
    assert on_the_day.instalments[0].state == DUE
    assert next_day.instalments[0].state == MISSED


def test_a_council_that_breaks_a_plan_on_the_first_miss_sends_no_reminder():
    a = assess(PLAN, 0, date(2026, 1, 9), misses_to_break=1)
    assert (a.missed, a.broken, a.reminders_due) == (1, True, ())


def test_money_fills_the_instalment_due_first_even_if_it_was_numbered_later():
    # A rearranged plan can bring a later-numbered instalment forward.
    rearranged = [(1, date(2026, 3, 1), 5000), (2, date(2026, 1, 1), 5000)]
    a = assess(rearranged, 5000, date(2026, 1, 20))
    assert [(i.sequence, i.due_date, i.state) for i in a.instalments] == [
        (2, date(2026, 1, 1), PAID),
        (1, date(2026, 3, 1), DUE),
    ]


def test_two_instalments_due_the_same_day_are_filled_in_their_numbered_order():
    same_day = [(2, date(2026, 1, 1), 3000), (1, date(2026, 1, 1), 5000)]
    a = assess(same_day, 5000, date(2026, 1, 1))
    assert [(i.sequence, i.paid_pence) for i in a.instalments] == [(1, 5000), (2, 0)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"paid_pence": -1}, "paid_pence must be 0 or more"),
        ({"tolerance_days": -1}, "tolerance_days must be 0 or more"),
        ({"misses_to_break": 0}, "misses_to_break must be 1 or more"),
        ({"instalments": []}, "a plan has at least one instalment"),
        ({"instalments": [PLAN[0], PLAN[0]]}, "instalment sequences must be unique"),
    ],
)
def test_impossible_inputs_are_refused_saying_exactly_which(kwargs, message):
    args = {"instalments": PLAN, "paid_pence": 0, "today": date(2026, 1, 1), **kwargs}
    with pytest.raises(ValueError) as refused:
        assess(**args)
    assert str(refused.value) == message
