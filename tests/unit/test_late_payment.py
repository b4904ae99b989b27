"""Late Payment Act rules: compensation bands, the reference rate of each half year,
and simple daily interest. Expected figures are worked by hand from the Act's formula
(amount x (base + 8%) / 365 per day), not copied from the code."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from shared.domain import late_payment as lp
from shared.domain.late_payment import BaseRate, ChargeFacts

# The real decisions around the dates these tests use.
RATES = [
    BaseRate(date(2022, 12, 15), 350),
    BaseRate(date(2023, 2, 2), 400),
    BaseRate(date(2023, 3, 23), 425),
    BaseRate(date(2023, 5, 11), 450),
    BaseRate(date(2023, 6, 22), 500),
    BaseRate(date(2023, 8, 3), 525),
    BaseRate(date(2024, 8, 1), 500),
    BaseRate(date(2024, 11, 7), 475),
    BaseRate(date(2025, 2, 6), 450),
    BaseRate(date(2025, 5, 8), 425),
    BaseRate(date(2025, 8, 7), 400),
]


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (1, 4_000),
        (99_999, 4_000),  # £999.99
        (100_000, 7_000),  # £1,000.00
        (999_999, 7_000),  # £9,999.99
        (1_000_000, 10_000),  # £10,000.00
        (50_000_000, 10_000),
    ],
)
def test_compensation_is_40_70_or_100_pounds_by_the_debt_with_exact_boundaries(total, expected):
    assert lp.compensation_pence(total) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 1, 1), 475),  # rate on 31 Dec 2024
        (date(2025, 6, 30), 475),  # still the first half: the May cut does not apply yet
        (date(2025, 7, 1), 425),  # rate on 30 Jun 2025
        (date(2025, 12, 31), 425),  # the August 2025 cut waits for the next half year
        (date(2026, 1, 1), 400),
        (date(2023, 12, 31), 500),  # rate on 30 Jun 2023 (22 June decision), not August's
    ],
)
def test_the_reference_rate_is_the_base_rate_on_31_december_or_30_june(day, expected):
    assert lp.reference_rate_bp(RATES, day) == expected


def test_a_day_before_any_recorded_rate_is_refused_with_the_date():
    with pytest.raises(lp.NoReferenceRate, match="31 December 2021"):
        lp.reference_rate_bp(RATES, date(2022, 3, 1))


def test_five_thousand_pounds_at_base_5_25_plus_8_for_30_days_is_54_45():
    # 5,000 x 13.25% x 30 / 365 = 54.452...
    (slice_,) = lp.interest_pence(500_000, date(2024, 3, 1), date(2024, 3, 30), RATES)
    assert (slice_.days, slice_.reference_bp, slice_.rate_bp) == (30, 525, 1325)
    assert slice_.exact_pence == Fraction(500_000 * 1325 * 30, 10_000 * 365)
    assert slice_.pence == 5445


def test_interest_across_a_half_year_boundary_uses_each_half_years_reference_rate():
    # 10,000 from 16 Jun to 15 Jul 2023: 15 days at 3.5 + 8 (rate on 31 Dec 2022),
    # then 15 days at 5 + 8 (rate on 30 Jun 2023; the June rise counts only from July).
    first, second = lp.interest_pence(1_000_000, date(2023, 6, 16), date(2023, 7, 15), RATES)
    assert (first.start, first.end, first.days, first.rate_bp) == (
        date(2023, 6, 16),
        date(2023, 6, 30),
        15,
        1150,
    )
    assert first.pence == 4726  # 10,000 x 11.5% x 15 / 365 = 47.260...
    assert (second.start, second.end, second.days, second.rate_bp) == (
        date(2023, 7, 1),
        date(2023, 7, 15),
        15,
        1300,
    )
    assert second.pence == 5342  # 10,000 x 13% x 15 / 365 = 53.424...


def test_interest_follows_what_was_outstanding_each_day():
    # 1,000 for 10 days, then 400 after a part payment, at 13.25%.
    steps = [(date(2024, 3, 1), 100_000), (date(2024, 3, 11), 40_000)]
    (slice_,) = lp.interest_pence(steps, date(2024, 3, 1), date(2024, 3, 20), RATES)
    # (1,000 x 10 + 400 x 10) x 13.25% / 365 = 5.082...
    assert slice_.days == 20
    assert slice_.pence == 508


def test_days_in_breathing_space_are_never_charged():
    excluded = [(date(2024, 3, 6), date(2024, 3, 15))]
    (slice_,) = lp.interest_pence(
        500_000, date(2024, 3, 1), date(2024, 3, 30), RATES, excluded=excluded
    )
    assert slice_.days == 20
    assert slice_.pence == 3630  # 5,000 x 13.25% x 20 / 365 = 36.301...


def test_a_paid_debt_or_a_period_wholly_in_breathing_space_gives_no_slice():
    assert lp.interest_pence(0, date(2024, 3, 1), date(2024, 3, 30), RATES) == []
    whole = [(date(2024, 2, 1), date(2024, 4, 30))]
    assert (
        lp.interest_pence(500_000, date(2024, 3, 1), date(2024, 3, 30), RATES, excluded=whole) == []
    )
    assert lp.interest_pence(500_000, date(2024, 3, 2), date(2024, 3, 1), RATES) == []


@pytest.mark.parametrize(("amount", "expected"), [(1825, 1), (5475, 2), (9125, 3)])
def test_half_a_penny_rounds_up_not_to_even(amount, expected):
    # Base 2% + 8% = 10%: a day's interest on `amount` is amount / 3650, exactly x.5p here.
    rates = [BaseRate(date(2020, 1, 1), 200)]
    (slice_,) = lp.interest_pence(amount, date(2021, 5, 1), date(2021, 5, 1), rates)
    assert slice_.exact_pence.denominator == 2
    assert slice_.pence == expected


def _facts(**changes) -> ChargeFacts:
    base = {
        "organisation": True,
        "commercial": True,
        "is_charge": False,
        "in_breathing_space": False,
        "due_date": date(2024, 3, 1),
        "outstanding_pence": 10_000,
    }
    return ChargeFacts(**(base | changes))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, None),
        ({"organisation": False}, lp.NOT_AN_ORGANISATION),
        ({"commercial": False}, lp.NOT_COMMERCIAL),
        ({"is_charge": True}, lp.IS_A_CHARGE),
        ({"in_breathing_space": True}, lp.IN_BREATHING_SPACE),
        ({"due_date": date(2024, 3, 2)}, lp.NOT_OVERDUE),  # due on the day: not late yet
        ({"outstanding_pence": 0}, lp.NOTHING_OUTSTANDING),
    ],
)
def test_only_overdue_unpaid_commercial_debts_of_organisations_outside_breathing_space(
    changes, reason
):
    assert lp.eligibility(_facts(**changes), date(2024, 3, 2)) == reason


def test_percent_words():
    assert [lp.percent_words(bp) for bp in (1325, 850, 800, 1210)] == [
        "13.25%",
        "8.5%",
        "8%",
        "12.1%",
    ]
