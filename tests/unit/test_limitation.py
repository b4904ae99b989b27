"""When a debt becomes statute-barred (Limitation Act 1980 s.5, s.29-30): six years from
the day after the due date, restarted by a written acknowledgement or a part payment
while the six years still run, never revived once they have run out.

Expected dates are worked out by hand from the calendar, not from the code.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain import limitation as rules

DUE = date(2019, 3, 14)  # the cause of action accrues on 15 March 2019


def test_the_last_day_for_court_action_is_the_sixth_anniversary_of_the_day_after_the_due_date():
    assert rules.limitation_date(DUE) == date(2025, 3, 15)


def test_a_debt_is_not_barred_on_its_last_day_and_is_barred_the_day_after():
    assert not rules.is_statute_barred(DUE, [], date(2025, 3, 15))
    assert rules.is_statute_barred(DUE, [], date(2025, 3, 16))
    assert rules.barred_since(DUE, [], date(2025, 3, 16)) == date(2025, 3, 16)
    assert rules.barred_since(DUE, [], date(2025, 3, 15)) is None


def test_a_part_payment_restarts_the_six_years_from_its_date():
    paid = date(2021, 7, 1)

    assert rules.limitation_date(DUE, [paid]) == date(2027, 7, 1)
    assert not rules.is_statute_barred(DUE, [paid], date(2027, 7, 1))
    assert rules.is_statute_barred(DUE, [paid], date(2027, 7, 2))


def test_the_latest_of_several_restarts_counts_whatever_order_they_come_in():
    restarts = [date(2024, 1, 10), date(2020, 5, 5), date(2022, 9, 9)]

    assert rules.limitation_date(DUE, restarts) == date(2030, 1, 10)


def test_an_acknowledgement_on_the_last_day_still_restarts_it():
    assert rules.limitation_date(DUE, [date(2025, 3, 15)]) == date(2031, 3, 15)


def test_a_payment_after_the_debt_was_barred_does_not_revive_it():
    late = date(2025, 3, 16)  # one day after the last day

    assert rules.limitation_date(DUE, [late]) == date(2025, 3, 15)
    assert rules.is_statute_barred(DUE, [late], date(2026, 1, 1))


def test_a_chain_of_restarts_each_within_six_years_keeps_it_alive():
    chain = [date(2024, 1, 1), date(2029, 12, 31), date(2035, 6, 1)]

    assert rules.limitation_date(DUE, chain) == date(2041, 6, 1)


def test_a_restart_before_the_due_date_changes_nothing():
    assert rules.limitation_date(DUE, [date(2019, 1, 1)]) == date(2025, 3, 15)


def test_a_restart_after_the_day_asked_about_is_not_counted_yet():
    future = date(2025, 6, 1)

    assert rules.is_statute_barred(DUE, [future], date(2025, 5, 1))


def test_a_leap_day_start_ends_on_28_february_six_years_later():
    # Due 28 February 2024: accrues on 29 February 2024; 2030 has no 29 February.
    assert rules.limitation_date(date(2024, 2, 28)) == date(2030, 2, 28)
    assert rules.add_years(date(2024, 2, 29), 6) == date(2030, 2, 28)
    assert rules.add_years(date(2024, 2, 29), 8) == date(2032, 2, 29)


@pytest.mark.parametrize(
    ("on", "start"),
    [
        (date(2030, 3, 1), date(2024, 3, 1)),
        (date(2030, 2, 28), date(2024, 2, 28)),
        (date(2032, 2, 29), date(2026, 3, 1)),
        (date(2026, 6, 17), date(2020, 6, 17)),
    ],
)
def test_the_earliest_start_still_running_on_a_day(on, start):
    assert rules.earliest_running_start(on) == start


@given(
    due=st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)),
    on=st.dates(min_value=date(2005, 1, 1), max_value=date(2040, 12, 31)),
)
def test_the_set_based_cut_off_agrees_with_the_rule_for_debts_with_no_restart(due, on):
    # What statute_barred_invoice_ids compares in SQL: accrual before the cut-off.
    by_cut_off = rules.accrues_on(due) < rules.earliest_running_start(on)

    assert by_cut_off == rules.is_statute_barred(due, [], on)


@given(
    due=st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)),
    gaps=st.lists(st.integers(min_value=0, max_value=3000), max_size=4),
    on=st.dates(min_value=date(2005, 1, 1), max_value=date(2045, 12, 31)),
)
def test_a_debt_with_every_restart_before_the_cut_off_is_barred(due, gaps, on):
    restarts, day = [], due
    for gap in gaps:
        day += timedelta(days=gap)
        restarts.append(day)
    start = rules.earliest_running_start(on)
    if rules.accrues_on(due) < start and all(r < start for r in restarts):
        assert rules.is_statute_barred(due, restarts, on)
    if not rules.is_statute_barred(due, restarts, on):
        assert rules.accrues_on(due) >= start or any(start <= r <= on for r in restarts)


def test_an_acknowledgement_needs_a_date_not_in_the_future_and_a_note():
    today = date(2026, 6, 17)

    assert rules.acknowledgement_problems(None, "x", today) == {
        "acknowledged_on": "Enter the date of the acknowledgement"
    }
    assert "acknowledged_on" in rules.acknowledgement_problems(
        today + timedelta(days=1), "x", today
    )
    assert rules.acknowledgement_problems(today, "  ", today) == {
        "note": "Enter what the debtor wrote and how it reached us"
    }
    assert rules.acknowledgement_problems(today, "Signed letter", today) == {}
