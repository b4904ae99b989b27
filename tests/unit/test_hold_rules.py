from datetime import date, timedelta

import pytest

from shared.domain.holds import (
    HoldInForce,
    HoldTerms,
    default_expiry,
    hold_problems,
    may_ask_for_payment,
    recovery_paused,
)

TODAY = date(2026, 11, 30)


def test_a_standard_breathing_space_ends_after_60_days_unless_told_otherwise():
    terms = HoldTerms("breathing_space", TODAY, breathing_space_type="standard")
    assert default_expiry(terms) == TODAY + timedelta(days=60)
    assert hold_problems(terms, TODAY) == {}


def test_a_mental_health_crisis_breathing_space_has_no_end_until_lifted():
    terms = HoldTerms("breathing_space", TODAY, breathing_space_type="mental_health_crisis")
    assert default_expiry(terms) is None
    assert hold_problems(terms, TODAY) == {}


def test_a_standard_breathing_space_cannot_run_past_60_days():
    terms = HoldTerms(
        "breathing_space", TODAY, TODAY + timedelta(days=61), breathing_space_type="standard"
    )
    assert hold_problems(terms, TODAY) == {
        "expires_on": "A standard Breathing Space lasts no more than 60 days"
    }


def test_a_promise_to_pay_needs_a_date_and_an_amount_and_ends_on_that_date():
    assert hold_problems(HoldTerms("promise_to_pay", TODAY), TODAY) == {
        "promise_date": "Enter the date they promised to pay by",
        "promise_amount": "Enter the amount they promised to pay",
    }
    terms = HoldTerms(
        "promise_to_pay", TODAY, promise_date=TODAY + timedelta(days=7), promise_amount_pence=5_000
    )
    assert default_expiry(terms) == TODAY + timedelta(days=7)
    assert hold_problems(terms, TODAY) == {}


@pytest.mark.parametrize(
    ("terms", "problem"),
    [
        (HoldTerms("dispute", TODAY), {"expires_on": "Enter the date the hold ends"}),
        (
            HoldTerms("query", TODAY, TODAY - timedelta(days=1)),
            {"expires_on": "End date must be on or after the start date"},
        ),
        (
            HoldTerms("dispute", TODAY, TODAY + timedelta(days=400)),
            {"expires_on": "A hold can last no more than a year; review it and place another"},
        ),
        (
            HoldTerms("query", TODAY + timedelta(days=31), TODAY + timedelta(days=40)),
            {"starts_on": "Start date must be within the next 30 days"},
        ),
        (HoldTerms("holiday", TODAY), {"kind": "Select the reason for the hold"}),
        (
            HoldTerms("breathing_space", TODAY),
            {"breathing_space_type": "Select the type of Breathing Space"},
        ),
    ],
)
def test_holds_that_will_not_do_say_why(terms, problem):
    assert hold_problems(terms, TODAY) == problem


def test_a_deceased_hold_needs_no_end_date():
    assert hold_problems(HoldTerms("deceased", TODAY), TODAY) == {}


def test_recovery_pauses_only_for_covered_debts_while_the_hold_is_in_force():
    on_one = HoldInForce("dispute", 7, TODAY, TODAY + timedelta(days=10))
    assert recovery_paused([on_one], 7, TODAY)
    assert not recovery_paused([on_one], 8, TODAY)
    assert not recovery_paused([on_one], 7, TODAY + timedelta(days=11))
    assert not recovery_paused([on_one], 7, TODAY - timedelta(days=1))
    lifted = HoldInForce("dispute", None, TODAY, None, lifted=True)
    assert not recovery_paused([lifted], 7, TODAY)
    whole = HoldInForce("query", None, TODAY, TODAY)
    assert recovery_paused([whole], 8, TODAY)


def test_only_breathing_space_stops_asking_for_payment():
    dispute = HoldInForce("dispute", None, TODAY, TODAY + timedelta(days=5))
    assert may_ask_for_payment([dispute], 1, TODAY)
    space = HoldInForce("breathing_space", None, TODAY, TODAY + timedelta(days=60))
    assert not may_ask_for_payment([space, dispute], 1, TODAY)
    assert may_ask_for_payment([space], 1, TODAY + timedelta(days=61))
