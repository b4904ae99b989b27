"""Edges of the domain rules (allocation, holds, income and expenditure, VAT, text
segments, sign-in codes) that their own test files check only in part: the exact
refusal an officer or payer reads, a single penny, and the first of two problems kept.

Found by mutation testing (docs/mutation-testing.md).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shared.domain.allocation import (
    AllocationError,
    OpenItem,
    allocate_oldest_first,
    check_explicit,
    fit_to_outstanding,
)
from shared.domain.holds import HoldInForce, HoldTerms, held_from_allocation, hold_problems
from shared.domain.income_expenditure import IncomeExpenditureError, to_monthly_pence
from shared.domain.sms import sms_segments
from shared.domain.two_factor import CodeOutcome, check_code, code_at, time_step
from shared.domain.vat import VatRate, vat_on

ITEMS = [OpenItem(1, date(2026, 1, 1), 1_000), OpenItem(2, date(2026, 2, 1), 1)]


def _allocation_refusal(requested) -> str:
    with pytest.raises(AllocationError) as refused:
        check_explicit(5_000, ITEMS, requested)
    return str(refused.value)


@pytest.mark.parametrize(
    ("requested", "message"),
    [
        ([(1, 2.5)], "Allocation amounts must be whole pence"),
        ([(1, 0)], "Each allocation must be more than £0"),
        ([(3, 100)], "Invoice 3 has nothing outstanding on this account"),
    ],
)
def test_a_chosen_allocation_is_refused_in_words_the_officer_reads(requested, message):
    assert _allocation_refusal(requested) == message


def test_an_invoice_that_owes_nothing_is_refused_as_having_nothing_outstanding():
    settled = [OpenItem(1, date(2026, 1, 1), 0)]
    with pytest.raises(AllocationError) as refused:
        check_explicit(5_000, settled, [(1, 100)])
    assert str(refused.value) == "Invoice 1 has nothing outstanding on this account"


def test_the_last_penny_of_an_invoice_can_be_chosen_and_is_kept_when_money_arrives():
    assert check_explicit(5_000, ITEMS, [(2, 1)]) == [(2, 1)]
    assert fit_to_outstanding(ITEMS, [(2, 1)]) == [(2, 1)]


def test_money_nobody_chose_for_settles_an_invoice_owing_a_single_penny():
    assert allocate_oldest_first(5, ITEMS[1:]) == [(2, 1)]


def test_a_negative_amount_to_allocate_is_refused_saying_so():
    with pytest.raises(AllocationError) as refused:
        allocate_oldest_first(-1, ITEMS)
    assert str(refused.value) == "Nothing to allocate: the amount available is negative"


def test_an_ended_hold_listed_first_does_not_hide_a_hold_in_force_after_it():
    today = date(2026, 6, 17)
    ended = HoldInForce("dispute", 1, today - timedelta(days=30), today - timedelta(days=1))
    current = HoldInForce("query", 2, today - timedelta(days=3), None)
    assert held_from_allocation([ended, current], [1, 2, 3], today) == frozenset({2})


def test_a_breathing_space_that_ended_in_the_past_is_refused_for_that_first():
    # Both problems apply; the officer is told the first one found.
    today = date(2026, 6, 17)
    starts = today - timedelta(days=90)
    terms = HoldTerms(
        "breathing_space",
        starts,
        expires_on=starts + timedelta(days=70),
        breathing_space_type="standard",
    )
    assert hold_problems(terms, today)["expires_on"] == "End date must be today or in the future"


@pytest.mark.parametrize(
    ("amount", "period", "message"),
    [
        (
            100,
            "daily",
            "Choose how often: weekly, fortnightly, every four weeks, monthly or yearly",
        ),
        (12.5, "monthly", "Amounts must be whole pence, £0 or more"),
        (-1, "monthly", "Amounts must be whole pence, £0 or more"),
    ],
)
def test_an_income_or_cost_that_cannot_be_counted_is_refused_in_words(amount, period, message):
    with pytest.raises(IncomeExpenditureError) as refused:
        to_monthly_pence(amount, period)
    assert str(refused.value) == message


def test_a_negative_net_amount_has_no_vat():
    with pytest.raises(ValueError) as refused:
        vat_on(-1, VatRate.STANDARD)
    assert str(refused.value) == "net amount must not be negative"


def test_the_last_character_of_the_basic_plane_is_one_unit_and_the_next_is_two():
    # 70 UCS-2 units fit one text; a character past U+FFFF is a surrogate pair.
    assert sms_segments("\uffff" * 70) == 1
    assert sms_segments("\U00010000" * 35) == 1
    assert sms_segments("\U00010000" * 36) == 2


def test_a_replayed_code_says_which_step_it_belonged_to():
    secret, now = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", 1_790_000_015.0
    step = time_step(now)
    again = check_code(secret, code_at(secret, step), now, step)
    assert (again.outcome, again.step) == (CodeOutcome.REPLAYED, step)
