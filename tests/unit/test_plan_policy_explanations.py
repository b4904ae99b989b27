"""The words an officer reads for each plan rule, every branch of each, and the edges of
the rules that test_plan_policy.py checks only for their outcome.

Found by mutation testing (docs/mutation-testing.md): a rule's explanation could change
to another, or lose its department, and only the outcome was checked.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from shared.domain.plan_policy import (
    AFFORDABILITY,
    APPROVE,
    BROKEN_PLAN,
    DEFAULT_POLICY,
    INCOME_EXPENDITURE,
    LEGAL,
    LENGTH,
    REFER,
    PlanPolicy,
    Proposal,
    decide,
    evaluate,
)
from shared.domain.schedules import MONTHLY, build_schedule

TRADE_WASTE = replace(DEFAULT_POLICY, department="Trade waste")

GOOD = Proposal(
    total_pence=60_000,
    length_months=6,
    regular_instalment_pence=10_000,
    monthly_equivalent_pence=10_000,
    months_since_broken_plan=None,
    legal_referral=False,
    income_expenditure_supplied=True,
    disposable_income_pence=20_000,
)


def _rule(policy: PlanPolicy, proposal: Proposal, name: str):
    (found,) = [r for r in decide(policy, proposal).rules if r.rule == name]
    return found


@pytest.mark.parametrize(
    ("policy_changes", "proposal_changes", "rule", "passed", "words"),
    [
        ({}, {}, BROKEN_PLAN, True, "No broken plan on record"),
        (
            {},
            {"months_since_broken_plan": 0},
            BROKEN_PLAN,
            False,
            "Last plan broke this month; Trade waste refers anyone whose plan broke "
            "in the last 12 months",
        ),
        (
            {},
            {"months_since_broken_plan": 1},
            BROKEN_PLAN,
            False,
            "Last plan broke 1 month ago; Trade waste refers anyone whose plan broke "
            "in the last 12 months",
        ),
        (
            {"no_broken_plan_within_months": 0},
            {"months_since_broken_plan": 0},
            BROKEN_PLAN,
            True,
            "Last plan broke this month; Trade waste does not refer for broken plans",
        ),
        (
            {"no_broken_plan_within_months": 1},
            {"months_since_broken_plan": 1},
            BROKEN_PLAN,
            True,
            "Last plan broke 1 month ago; Trade waste refers anyone whose plan broke "
            "in the last 1 month",
        ),
        ({}, {}, LEGAL, True, "No debt in the plan is with legal or enforcement"),
        (
            {},
            {"legal_referral": True},
            LEGAL,
            False,
            "A debt in the plan is with legal or enforcement; Trade waste refers these "
            "to an officer",
        ),
        (
            {"refer_if_legal": False},
            {"legal_referral": True},
            LEGAL,
            True,
            "A debt in the plan is with legal or enforcement; Trade waste does not refer these",
        ),
        ({}, {}, INCOME_EXPENDITURE, True, "Income and expenditure statement supplied"),
        (
            {},
            {"income_expenditure_supplied": False, "disposable_income_pence": None},
            INCOME_EXPENDITURE,
            False,
            "No income and expenditure statement; one is needed for a plan of £600.00 "
            "(Trade waste asks for one above £500.00)",
        ),
        (
            {},
            {
                "total_pence": 50_000,
                "income_expenditure_supplied": False,
                "disposable_income_pence": None,
            },
            INCOME_EXPENDITURE,
            True,
            "No income and expenditure statement; one is not needed for a plan of £500.00 "
            "(Trade waste asks for one above £500.00)",
        ),
        (
            {},
            {"income_expenditure_supplied": False, "disposable_income_pence": None},
            AFFORDABILITY,
            True,
            "No income and expenditure statement to check the offer against",
        ),
        (
            {},
            {"disposable_income_pence": 9_999},
            AFFORDABILITY,
            False,
            "The offer of £100.00 a month is more than the disposable income of £99.99 a month",
        ),
        (
            {},
            {"disposable_income_pence": 10_000},
            AFFORDABILITY,
            True,
            "The offer of £100.00 a month is within the disposable income of £100.00 a month",
        ),
        (
            {},
            {"length_months": 1},
            LENGTH,
            True,
            "Plan lasts 1 month; the limit for Trade waste is 12 months",
        ),
        (
            {"max_length_months": 1},
            {"length_months": 2},
            LENGTH,
            False,
            "Plan lasts 2 months; the limit for Trade waste is 1 month",
        ),
    ],
)
def test_each_rule_explains_itself_in_the_words_an_officer_reads(
    policy_changes, proposal_changes, rule, passed, words
):
    found = _rule(replace(TRADE_WASTE, **policy_changes), replace(GOOD, **proposal_changes), rule)
    assert (found.rule, found.passed, found.explanation) == (rule, passed, words)


def test_a_statement_that_was_supplied_without_a_disposable_figure_is_not_judged_on_it():
    # An officer may record that a statement exists before its figures are typed in:
    # affordability then has nothing to compare, and says so rather than refusing.
    found = _rule(TRADE_WASTE, replace(GOOD, disposable_income_pence=None), AFFORDABILITY)
    assert found.passed is True
    assert found.explanation == "No income and expenditure statement to check the offer against"


def test_a_statement_figure_recorded_without_the_statement_is_not_judged_on_it():
    found = _rule(
        TRADE_WASTE,
        replace(GOOD, income_expenditure_supplied=False, disposable_income_pence=1),
        AFFORDABILITY,
    )
    assert found.passed is True


def test_a_policy_must_allow_a_plan_of_at_least_one_month():
    assert replace(DEFAULT_POLICY, max_length_months=1).max_length_months == 1
    with pytest.raises(ValueError, match="^max_length_months must be 1 or more$"):
        replace(DEFAULT_POLICY, max_length_months=0)


def test_every_rule_is_stored_with_its_department_and_its_explanation():
    strict = replace(DEFAULT_POLICY, department="Adult social care", max_length_months=3)
    result = evaluate([(strict, 300_000)], GOOD, GOOD.total_pence)
    assert result.rules[0] == {
        "department": "Adult social care",
        "rule": LENGTH,
        "passed": False,
        "explanation": "Plan lasts 6 months; the limit for Adult social care is 3 months",
    }
    assert result.outcome == REFER


def test_a_plan_for_exactly_the_team_leader_threshold_stays_with_an_officer():
    at = evaluate([(TRADE_WASTE, 60_000)], GOOD, 60_000)
    above = evaluate([(TRADE_WASTE, 59_999)], GOOD, 60_000)
    assert (at.outcome, at.needs_team_leader) == (APPROVE, False)
    assert above.needs_team_leader is True


def test_the_facts_of_a_schedule_keep_when_the_last_plan_broke():
    schedule = build_schedule(60_000, MONTHLY, date(2026, 1, 1), count=6)
    proposal = Proposal.for_schedule(
        schedule, MONTHLY, months_since_broken_plan=3, legal_referral=True, statement=None
    )
    assert (proposal.months_since_broken_plan, proposal.legal_referral) == (3, True)
