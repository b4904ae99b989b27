"""What a debtor is told before sending a plan, from the plan policy alone: which
payments approve straight away, and why an officer would look at the rest."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from shared.domain import plan_policy, schedules
from shared.domain.plan_policy import (
    DEFAULT_POLICY,
    LENGTH,
    MIN_INSTALMENT,
    Proposal,
    officer_reasons,
    payments_within,
    quick_terms,
    standing_reasons,
)


@pytest.mark.parametrize(
    ("frequency", "start", "months", "expected"),
    [
        ("monthly", date(2026, 1, 31), 12, 12),
        # 365 days from 17 June 2026 to 17 June 2027: 52 whole weeks, 26 fortnights.
        ("weekly", date(2026, 6, 17), 12, 52),
        ("fortnightly", date(2026, 6, 17), 12, 26),
        ("four_weekly", date(2026, 6, 17), 12, 13),
        # 1 January to 1 July is 181 days: 25 whole weeks (26 would end on 2 July).
        ("weekly", date(2026, 1, 1), 6, 25),
        ("weekly", date(2026, 7, 1), 6, 26),  # 1 July to 1 January: 184 days
    ],
)
def test_payments_within_counts_the_payments_whose_plan_lasts_no_longer(
    frequency, start, months, expected
):
    assert payments_within(frequency, months, start) == expected


@pytest.mark.parametrize("frequency", ["weekly", "fortnightly", "four_weekly", "monthly"])
def test_the_payments_counted_are_exactly_what_the_length_rule_accepts(frequency):
    start = date(2026, 6, 17)
    most = payments_within(frequency, 12, start)
    fits = schedules.build_schedule(most * 100, frequency, start, count=most)
    over = schedules.build_schedule((most + 1) * 100, frequency, start, count=most + 1)
    assert schedules.plan_length_months(fits, frequency) <= 12
    assert schedules.plan_length_months(over, frequency) > 12


def test_quick_terms_need_enough_each_time_to_finish_within_the_longest_plan():
    terms = quick_terms([DEFAULT_POLICY], 10_000, "monthly", [date(2026, 6, 17)])
    # £100.00 over at most 12 months: 12 x £8.34 = £100.08 covers it, 12 x £8.33 does not.
    assert terms.smallest_payment_pence == 834
    assert terms.max_payments == 12


def test_quick_terms_are_held_to_the_minimum_payment_when_that_is_the_tighter_rule():
    terms = quick_terms([DEFAULT_POLICY], 10_000, "weekly", [date(2026, 6, 17)])
    assert terms.smallest_payment_pence == 500  # 52 weeks would allow £1.93
    assert terms.max_payments == 20  # £100.00 / £5.00


def test_quick_terms_take_the_strictest_department_and_the_least_favourable_start():
    trade_waste = replace(DEFAULT_POLICY, department="Trade waste", min_instalment_pence=2_000)
    rents = replace(DEFAULT_POLICY, department="Rents", max_length_months=6)
    starts = [date(2026, 1, 1), date(2026, 7, 1)]
    terms = quick_terms([trade_waste, rents], 100_000, "weekly", starts)
    assert (terms.min_instalment_pence, terms.max_length_months) == (2_000, 6)
    assert terms.max_payments == 25  # from 1 January, only 25 weeks fit in 6 months
    assert terms.smallest_payment_pence == 4_000  # £1,000 / 25


def test_no_plan_approves_at_once_when_the_bills_are_less_than_the_minimum_payment():
    assert quick_terms([DEFAULT_POLICY], 499, "monthly", [date(2026, 6, 17)]) is None


def _proposal(**changes) -> Proposal:
    facts = dict(
        total_pence=10_000,
        length_months=18,
        regular_instalment_pence=300,
        monthly_equivalent_pence=300,
        months_since_broken_plan=None,
        legal_referral=False,
        income_expenditure_supplied=False,
    )
    return Proposal(**{**facts, **changes})


def test_officer_reasons_name_each_failed_rule_in_order_with_the_tightest_limit():
    loose = replace(DEFAULT_POLICY, department="A", max_length_months=24)
    tight = replace(DEFAULT_POLICY, department="B", max_length_months=6)
    reasons = officer_reasons([loose, tight], _proposal())
    assert [r.rule for r in reasons] == [LENGTH, MIN_INSTALMENT]
    assert reasons[0].words == (
        "It would take 18 months to pay. We can agree plans of up to 6 months straight away"
    )
    assert reasons[1].words == (
        "Each payment of £3.00 is less than £5.00, the smallest payment we can agree straight away"
    )


def test_a_proposal_within_every_rule_has_no_reasons():
    assert (
        officer_reasons(
            [DEFAULT_POLICY], _proposal(length_months=3, regular_instalment_pence=3_334)
        )
        == []
    )


def test_standing_reasons_are_the_ones_no_change_of_payments_can_pass():
    reasons = standing_reasons(
        [DEFAULT_POLICY], 150_000, months_since_broken_plan=2, legal_referral=True
    )
    assert reasons == [
        "The plan is for £1,500.00. An officer looks at every plan for more than £1,000.00",
        "A payment plan of yours ended early because payments were missed, in the last 12 months",
        "One of the bills is with our legal team or enforcement agents",
    ]
    assert (
        standing_reasons(
            [DEFAULT_POLICY], 10_000, months_since_broken_plan=None, legal_referral=False
        )
        == []
    )


def test_every_rule_has_debtor_words():
    assert set(plan_policy.RULES) >= set(plan_policy.AMOUNT_RULES)
    everything_wrong = _proposal(
        total_pence=200_000,
        months_since_broken_plan=0,
        legal_referral=True,
        income_expenditure_supplied=True,
        disposable_income_pence=100,
    )
    reasons = officer_reasons([DEFAULT_POLICY], everything_wrong)
    assert {r.rule for r in reasons} == set(plan_policy.RULES) - {plan_policy.INCOME_EXPENDITURE}
    assert all(r.words and "{" not in r.words for r in reasons)
