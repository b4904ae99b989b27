import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.income_expenditure import (
    FIELDS,
    FIELDS_BY_KEY,
    FIXED_COSTS,
    FLEXIBLE_SPENDING,
    INCOME,
    PRIORITY_DEBTS,
    SECTIONS,
    IncomeExpenditureError,
    Statement,
    instalment_monthly_pence,
    offer_share,
    to_monthly_pence,
)

EXAMPLE = {
    "wages": 150_000,
    "benefits": 20_000,
    "rent": 60_000,
    "council_tax": 15_000,
    "gas": 5_000,
    "electricity": 6_000,
    "food_housekeeping": 30_000,
    "travel": 10_000,
    "council_tax_arrears": 4_000,
}


def test_the_form_lists_the_standard_financial_statement_sections_in_order():
    assert list(SECTIONS) == [INCOME, FIXED_COSTS, FLEXIBLE_SPENDING, PRIORITY_DEBTS]
    order = [list(SECTIONS).index(f.section) for f in FIELDS]
    assert order == sorted(order), "each section's lines are together, in section order"


def test_every_line_has_a_unique_key_a_label_and_a_known_section():
    assert len(FIELDS_BY_KEY) == len(FIELDS)
    assert all(f.label and f.section in SECTIONS for f in FIELDS)


@pytest.mark.parametrize(
    ("section", "keys"),
    [
        (INCOME, {"wages", "benefits", "pensions", "other_income"}),
        (FIXED_COSTS, {"rent", "mortgage", "council_tax", "gas", "electricity", "water"}),
        (
            FLEXIBLE_SPENDING,
            {"communications_leisure", "food_housekeeping", "personal_costs", "travel"},
        ),
        (PRIORITY_DEBTS, {"housing_arrears", "council_tax_arrears", "court_fines"}),
    ],
)
def test_the_sfs_headings_are_in_their_sections(section, keys):
    assert keys <= {f.key for f in FIELDS if f.section == section}


def test_section_totals_and_disposable_income_add_up():
    statement = Statement.from_amounts(EXAMPLE)
    assert statement.income_pence == 170_000
    assert statement.fixed_costs_pence == 86_000
    assert statement.flexible_spending_pence == 40_000
    assert statement.priority_debts_pence == 4_000
    assert statement.disposable_income_pence == 40_000


def test_disposable_income_can_be_negative():
    assert Statement.from_amounts({"wages": 1000, "rent": 5000}).disposable_income_pence == -4000


def test_missing_lines_are_zero_and_the_stored_json_has_every_line_in_form_order():
    stored = Statement.from_amounts({"wages": 100}).as_dict()
    assert list(stored) == [f.key for f in FIELDS]
    assert stored["wages"] == 100 and stored["rent"] == 0
    assert Statement.from_amounts(json.loads(json.dumps(stored))) == Statement.from_amounts(
        {"wages": 100}
    )


def test_an_empty_statement_leaves_nothing_over():
    assert Statement().disposable_income_pence == 0


@pytest.mark.parametrize(
    ("amounts", "message"),
    [
        ({"rent": -1}, "Rent must be £0 or more"),
        ({"wages": 10.5}, "Wages or salary must be an amount in whole pence"),
        ({"wages": True}, "whole pence"),
        ({"yacht": 100}, "Not a statement line: yacht"),
    ],
)
def test_bad_figures_are_refused_naming_the_line(amounts, message):
    with pytest.raises(IncomeExpenditureError, match=message):
        Statement.from_amounts(amounts)


def test_a_statement_cannot_be_changed_after_it_is_made():
    statement = Statement.from_amounts({"wages": 100})
    with pytest.raises(TypeError):
        statement.amounts["wages"] = 1_000_000


@pytest.mark.parametrize(
    ("amount", "period", "monthly"),
    [
        (1000, "weekly", 4333),  # 4333.33
        (1000, "fortnightly", 2167),  # 2166.67
        (1000, "four_weekly", 1083),  # 1083.33
        (1000, "monthly", 1000),
        (12_000, "yearly", 1000),
        (3, "weekly", 13),  # 13.0
        (6, "yearly", 1),  # 0.5 rounds up
        (3, "yearly", 0),  # 0.25 rounds down
        (3, "fortnightly", 7),  # 6.5 rounds up, not to even
        (0, "weekly", 0),
    ],
)
def test_amounts_at_other_frequencies_become_monthly_rounded_half_a_penny_up(
    amount, period, monthly
):
    assert to_monthly_pence(amount, period) == monthly


@given(st.integers(0, 10**9), st.sampled_from(["weekly", "fortnightly", "four_weekly", "yearly"]))
def test_the_monthly_figure_is_within_half_a_penny_of_the_exact_one(amount, period):
    per_year = {"weekly": 52, "fortnightly": 26, "four_weekly": 13, "yearly": 1}[period]
    assert abs(to_monthly_pence(amount, period) * 12 - amount * per_year) <= 6


def test_unknown_periods_and_negative_amounts_are_refused():
    with pytest.raises(IncomeExpenditureError, match="how often"):
        to_monthly_pence(100, "daily")
    with pytest.raises(IncomeExpenditureError, match="£0 or more"):
        to_monthly_pence(-100, "weekly")


def test_a_plans_instalment_is_turned_into_its_monthly_equivalent_by_frequency():
    assert instalment_monthly_pence(1000, "weekly") == 4333
    assert instalment_monthly_pence(5000, "monthly") == 5000
    with pytest.raises(IncomeExpenditureError):
        instalment_monthly_pence(1000, "yearly")  # not a plan frequency


@pytest.mark.parametrize(
    ("offer", "disposable", "share"),
    [
        (5000, 10_000, 50),
        (10_000, 10_000, 100),
        (15_000, 10_000, 150),
        (1, 3, 33),
        (1, 200, 1),  # 0.5% rounds up
        (5000, 0, None),
        (5000, -2000, None),
    ],
)
def test_the_offers_share_of_disposable_income_is_a_whole_percentage(offer, disposable, share):
    assert offer_share(offer, disposable) == share


def test_one_penny_left_over_still_gives_a_share_of_it():
    assert offer_share(1, 1) == 100
    assert offer_share(1, 0) is None


def test_unknown_frequencies_lines_and_sections_are_refused_naming_them():
    with pytest.raises(IncomeExpenditureError, match="^Choose how often to pay: weekly, "):
        instalment_monthly_pence(1_000, "daily")
    with pytest.raises(IncomeExpenditureError, match="^Not a statement line: bingo, horses$"):
        Statement.from_amounts({"horses": 1, "bingo": 2})
    with pytest.raises(IncomeExpenditureError, match="^Not a statement section: savings$"):
        Statement.from_amounts({}).section_total("savings")
