from dataclasses import replace
from datetime import date

import pytest

from shared.domain.income_expenditure import Statement
from shared.domain.plan_policy import (
    AFFORDABILITY,
    APPROVE,
    AUTO_APPROVE_LIMIT,
    BROKEN_PLAN,
    DEFAULT_POLICY,
    INCOME_EXPENDITURE,
    LEGAL,
    LENGTH,
    MIN_INSTALMENT,
    REFER,
    RULES,
    PlanPolicy,
    Proposal,
    decide,
    needs_income_expenditure,
)
from shared.domain.schedules import WEEKLY, build_schedule

TRADE_WASTE = replace(DEFAULT_POLICY, department="Trade waste")

# Passes every rule of the default policy.
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


def test_the_default_policy_is_the_councils_usual_terms():
    usual = PlanPolicy(
        max_length_months=12,
        min_instalment_pence=500,
        max_auto_approve_pence=100_000,
        no_broken_plan_within_months=12,
        refer_if_legal=True,
        income_expenditure_above_pence=50_000,
    )
    assert usual == DEFAULT_POLICY


def test_a_plan_inside_every_rule_is_approved():
    decision = decide(TRADE_WASTE, GOOD)
    assert decision.outcome == APPROVE
    assert decision.failed == []


@pytest.mark.parametrize(
    ("rule", "changes"),
    [
        (LENGTH, {"length_months": 13}),
        (MIN_INSTALMENT, {"regular_instalment_pence": 499, "monthly_equivalent_pence": 499}),
        (AUTO_APPROVE_LIMIT, {"total_pence": 100_001}),
        (BROKEN_PLAN, {"months_since_broken_plan": 11}),
        (BROKEN_PLAN, {"months_since_broken_plan": 0}),
        (LEGAL, {"legal_referral": True}),
        (
            INCOME_EXPENDITURE,
            {"income_expenditure_supplied": False, "disposable_income_pence": None},
        ),
        (AFFORDABILITY, {"disposable_income_pence": 9_999}),
        (AFFORDABILITY, {"disposable_income_pence": -500}),
    ],
)
def test_each_rule_failing_on_its_own_refers_the_plan_naming_that_rule(rule, changes):
    decision = decide(TRADE_WASTE, replace(GOOD, **changes))
    assert decision.outcome == REFER
    assert [r.rule for r in decision.failed] == [rule]


@pytest.mark.parametrize(
    "changes",
    [
        {"length_months": 12},
        {"regular_instalment_pence": 500, "monthly_equivalent_pence": 500},
        {"total_pence": 100_000},
        {"months_since_broken_plan": 12},
        {
            "total_pence": 50_000,
            "income_expenditure_supplied": False,
            "disposable_income_pence": None,
        },
        {"disposable_income_pence": 10_000},
    ],
)
def test_a_plan_exactly_at_a_limit_is_approved(changes):
    assert decide(TRADE_WASTE, replace(GOOD, **changes)).outcome == APPROVE


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"length_months": 40, "legal_referral": True},
        {"income_expenditure_supplied": False, "disposable_income_pence": None},
        {"months_since_broken_plan": 1, "total_pence": 500_000, "regular_instalment_pence": 1},
    ],
)
def test_every_outcome_lists_every_rule_once_in_order_with_an_explanation(changes):
    decision = decide(TRADE_WASTE, replace(GOOD, **changes))
    assert [r.rule for r in decision.rules] == list(RULES)
    assert all(r.explanation for r in decision.rules)


def test_several_failures_are_all_reported_and_the_plan_is_referred_never_refused():
    decision = decide(
        TRADE_WASTE, replace(GOOD, length_months=40, legal_referral=True, total_pence=200_000)
    )
    assert decision.outcome == REFER
    assert {r.rule for r in decision.failed} == {LENGTH, LEGAL, AUTO_APPROVE_LIMIT}


def test_explanations_read_as_an_officer_would_say_them():
    rules = {
        r.rule: r.explanation
        for r in decide(
            TRADE_WASTE,
            replace(
                GOOD, length_months=14, months_since_broken_plan=3, disposable_income_pence=8000
            ),
        ).rules
    }
    assert rules[LENGTH] == "Plan lasts 14 months; the limit for Trade waste is 12 months"
    assert (
        rules[MIN_INSTALMENT]
        == "Regular payments are £100.00; the minimum for Trade waste is £5.00"
    )
    assert rules[BROKEN_PLAN] == (
        "Last plan broke 3 months ago; Trade waste refers anyone whose plan broke "
        "in the last 12 months"
    )
    assert rules[AFFORDABILITY] == (
        "The offer of £100.00 a month is more than the disposable income of £80.00 a month"
    )


def test_a_department_that_does_not_refer_legal_cases_approves_them():
    relaxed = replace(TRADE_WASTE, refer_if_legal=False)
    decision = decide(relaxed, replace(GOOD, legal_referral=True))
    assert decision.outcome == APPROVE
    assert "does not refer" in decision.rules[RULES.index(LEGAL)].explanation


def test_a_department_that_ignores_broken_plans_approves_a_recent_breaker():
    relaxed = replace(TRADE_WASTE, no_broken_plan_within_months=0)
    assert decide(relaxed, replace(GOOD, months_since_broken_plan=0)).outcome == APPROVE


def test_without_a_statement_affordability_is_not_held_against_a_small_plan():
    small = replace(
        GOOD, total_pence=30_000, income_expenditure_supplied=False, disposable_income_pence=None
    )
    decision = decide(TRADE_WASTE, small)
    assert decision.outcome == APPROVE
    assert "No income and expenditure statement" in decision.rules[-1].explanation


@pytest.mark.parametrize(("total", "needed"), [(50_000, False), (50_001, True), (1, False)])
def test_the_portal_asks_for_income_and_expenditure_only_above_the_threshold(total, needed):
    assert needs_income_expenditure(DEFAULT_POLICY, total) is needed


def test_the_facts_come_from_the_schedule_and_statement():
    schedule = build_schedule(60_150, WEEKLY, date(2026, 1, 5), instalment_pence=2_500)
    statement = Statement.from_amounts({"wages": 200_000, "rent": 100_000})
    proposal = Proposal.for_schedule(
        schedule, WEEKLY, months_since_broken_plan=None, legal_referral=False, statement=statement
    )
    assert proposal == Proposal(
        total_pence=60_150,
        length_months=6,  # 25 weeks from 5 January runs to 29 June
        regular_instalment_pence=2_500,  # not the last 150p
        monthly_equivalent_pence=10_833,  # 2500 x 52 / 12 = 10833.33
        months_since_broken_plan=None,
        legal_referral=False,
        income_expenditure_supplied=True,
        disposable_income_pence=100_000,
    )
    assert decide(DEFAULT_POLICY, proposal).outcome == APPROVE


def test_a_policy_with_a_negative_limit_cannot_be_made():
    with pytest.raises(ValueError, match="min_instalment_pence"):
        replace(DEFAULT_POLICY, min_instalment_pence=-1)


def test_a_plan_over_several_departments_is_referred_if_any_department_would_refer_it():
    from shared.domain.plan_policy import evaluate

    strict = replace(DEFAULT_POLICY, department="Adult social care", max_length_months=3)
    result = evaluate([(TRADE_WASTE, 300_000), (strict, 300_000)], GOOD, GOOD.total_pence)

    assert result.outcome == REFER
    assert len(result.rules) == 2 * len(RULES)
    failed = [(r["department"], r["rule"]) for r in result.rules if not r["passed"]]
    assert failed == [("Adult social care", LENGTH)]
    assert (result.needs_income_expenditure, result.needs_team_leader) == (True, False)


def test_any_department_s_threshold_makes_a_plan_a_team_leader_s_decision():
    from shared.domain.plan_policy import evaluate

    result = evaluate([(TRADE_WASTE, 300_000), (TRADE_WASTE, 50_000)], GOOD, GOOD.total_pence)

    assert result.outcome == APPROVE
    assert result.needs_team_leader
