from datetime import date, timedelta

import pytest

from shared.domain.holds import (
    HoldInForce,
    HoldTerms,
    Representative,
    crisis_space_end_problems,
    default_expiry,
    expected_breathing_space_end,
    held_from_allocation,
    hold_problems,
    may_ask_for_payment,
    plan_paused_by,
    recovery_paused,
    representative_problems,
)

TODAY = date(2026, 11, 30)


def test_a_standard_breathing_space_needs_the_notified_end_date_and_is_not_given_one():
    terms = HoldTerms("breathing_space", TODAY, breathing_space_type="standard")
    assert default_expiry(terms) is None
    # 30 November 2026 + 60 days: 31 days to 31 December, 29 more to 29 January 2027.
    assert expected_breathing_space_end(terms) == date(2027, 1, 29)
    assert hold_problems(terms, TODAY) == {
        "expires_on": "Enter the end date on the Insolvency Service's notice: 60 days after "
        "the start, 29/01/2027"
    }
    notified = HoldTerms(
        "breathing_space", TODAY, date(2027, 1, 29), breathing_space_type="standard"
    )
    assert hold_problems(notified, TODAY) == {}


def test_a_standard_breathing_space_is_stored_with_the_end_the_notice_gives_up_to_60_days():
    # The Insolvency Service's notice is the authority: an end a day short of 60 days (a
    # notice counting the start day, or a space cancelled early) is stored as notified.
    for end in (date(2027, 1, 28), date(2027, 1, 29), TODAY + timedelta(days=1)):
        terms = HoldTerms("breathing_space", TODAY, end, breathing_space_type="standard")
        assert hold_problems(terms, TODAY) == {}


def test_a_standard_breathing_space_cannot_end_more_than_60_days_after_it_starts():
    terms = HoldTerms("breathing_space", TODAY, date(2027, 1, 30), breathing_space_type="standard")
    assert hold_problems(terms, TODAY) == {
        "expires_on": "A standard Breathing Space lasts no more than 60 days: it cannot end "
        "after 29/01/2027. Check the dates on the notice"
    }


def test_a_mental_health_crisis_breathing_space_has_no_end_until_the_treatment_ends():
    terms = HoldTerms("breathing_space", TODAY, breathing_space_type="mental_health_crisis")
    assert default_expiry(terms) is None
    assert hold_problems(terms, TODAY) == {}
    with_end = HoldTerms(
        "breathing_space", TODAY, date(2027, 1, 29), breathing_space_type="mental_health_crisis"
    )
    assert list(hold_problems(with_end, TODAY)) == ["expires_on"]


def test_a_crisis_space_ends_30_days_after_the_treatment_ends_as_notified():
    started, ended = date(2026, 10, 1), date(2026, 11, 20)
    # 20 November + 30 days: 10 days to 30 November, 20 more to 20 December.
    assert crisis_space_end_problems(started, ended, date(2026, 12, 20), TODAY) == {}
    assert crisis_space_end_problems(started, ended, None, TODAY) == {
        "space_ends_on": "Enter the end date on the Insolvency Service's notice: 30 days after "
        "the treatment ended, 20/12/2026"
    }
    assert list(crisis_space_end_problems(started, ended, date(2026, 12, 21), TODAY)) == [
        "space_ends_on"
    ]
    assert list(crisis_space_end_problems(started, date(2026, 9, 30), None, TODAY)) == [
        "treatment_ended_on"
    ]
    assert list(crisis_space_end_problems(started, TODAY + timedelta(days=1), None, TODAY)) == [
        "treatment_ended_on"
    ]
    assert list(crisis_space_end_problems(started, None, None, TODAY)) == ["treatment_ended_on"]


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


def test_a_deceased_hold_needs_no_end_date_but_the_date_of_death():
    assert hold_problems(HoldTerms("deceased", TODAY), TODAY) == {
        "date_of_death": "Enter the date they died"
    }
    died = TODAY - timedelta(days=3)
    assert hold_problems(HoldTerms("deceased", TODAY, date_of_death=died), TODAY) == {}
    tomorrow = TODAY + timedelta(days=1)
    assert hold_problems(HoldTerms("deceased", TODAY, date_of_death=tomorrow), TODAY) == {
        "date_of_death": "The date they died must be today or earlier"
    }


def test_a_personal_representative_is_optional_but_needs_a_name_and_capacity_when_given():
    assert representative_problems(Representative()) == {}
    assert representative_problems(Representative(name="Ann Archer", capacity="executor")) == {}
    assert set(representative_problems(Representative(phone="01632 960001"))) == {
        "representative_name",
        "representative_capacity",
    }
    bad = Representative(name="Ann Archer", capacity="executor", email="ann at example")
    assert list(representative_problems(bad)) == ["representative_email"]


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


@pytest.mark.parametrize("kind", ["dispute", "query", "vulnerability_review", "promise_to_pay"])
def test_any_hold_on_a_plans_debt_or_the_whole_account_pauses_the_plan(kind):
    on_debt = HoldInForce(kind, 7, TODAY, TODAY + timedelta(days=10))
    assert plan_paused_by([on_debt], [7, 9], TODAY) == kind
    assert plan_paused_by([on_debt], [8], TODAY) is None
    assert plan_paused_by([on_debt], [7], TODAY + timedelta(days=11)) is None
    whole = HoldInForce(kind, None, TODAY, TODAY + timedelta(days=10))
    assert plan_paused_by([whole], [8], TODAY) == kind
    space = HoldInForce("breathing_space", None, TODAY, TODAY + timedelta(days=60))
    assert plan_paused_by([on_debt, space], [7], TODAY) == "breathing_space"


def test_only_disputed_and_queried_invoices_are_held_from_a_default_allocation():
    holds = [
        HoldInForce("dispute", 1, TODAY, TODAY + timedelta(days=10)),
        HoldInForce("query", 2, TODAY, TODAY + timedelta(days=10)),
        HoldInForce("promise_to_pay", 3, TODAY, TODAY + timedelta(days=10)),
        HoldInForce("breathing_space", None, TODAY, TODAY + timedelta(days=60)),
        HoldInForce("dispute", 4, TODAY, TODAY + timedelta(days=10), lifted=True),
    ]
    assert held_from_allocation(holds, [1, 2, 3, 4, 5], TODAY) == {1, 2}
    assert held_from_allocation(holds, [1, 2, 3], TODAY + timedelta(days=11)) == frozenset()
    everything = [HoldInForce("dispute", None, TODAY, TODAY + timedelta(days=10))]
    assert held_from_allocation(everything, [1, 2], TODAY) == {1, 2}


# --- edges and wording pinned by mutation testing (docs/mutation-testing.md) --------------


def test_a_hold_may_start_30_days_ahead_and_end_on_its_first_day_or_today():
    assert (
        hold_problems(
            HoldTerms("query", TODAY + timedelta(days=30), TODAY + timedelta(days=31)), TODAY
        )
        == {}
    )
    assert hold_problems(HoldTerms("dispute", TODAY, TODAY), TODAY) == {}
    started = TODAY - timedelta(days=10)
    assert hold_problems(HoldTerms("dispute", started, TODAY), TODAY) == {}
    assert hold_problems(HoldTerms("dispute", started, TODAY - timedelta(days=1)), TODAY) == {
        "expires_on": "End date must be today or in the future"
    }


def test_a_hold_may_last_exactly_a_year_including_a_leap_day():
    assert hold_problems(HoldTerms("dispute", TODAY, TODAY + timedelta(days=366)), TODAY) == {}


def test_a_promise_may_be_for_today_and_one_penny_but_not_yesterday_or_nothing():
    today_penny = HoldTerms("promise_to_pay", TODAY, promise_date=TODAY, promise_amount_pence=1)
    assert hold_problems(today_penny, TODAY) == {}
    late = HoldTerms(
        "promise_to_pay",
        TODAY - timedelta(days=5),
        promise_date=TODAY - timedelta(days=1),
        promise_amount_pence=0,
    )
    assert hold_problems(late, TODAY) == {
        "expires_on": "End date must be today or in the future",
        "promise_date": "Promised date must be today or in the future",
        "promise_amount": "Enter the amount they promised to pay",
    }


def test_only_a_promise_to_pay_ends_on_a_promised_date():
    assert default_expiry(HoldTerms("dispute", TODAY, promise_date=TODAY)) is None


def test_a_debtor_who_died_today_may_be_recorded():
    assert hold_problems(HoldTerms("deceased", TODAY, date_of_death=TODAY), TODAY) == {}


def test_a_crisis_space_is_placed_without_an_end_date_saying_why_one_is_refused():
    crisis = HoldTerms("breathing_space", TODAY, breathing_space_type="mental_health_crisis")
    assert hold_problems(crisis, TODAY) == {}
    with_end = HoldTerms(
        "breathing_space",
        TODAY,
        TODAY + timedelta(days=60),
        breathing_space_type="mental_health_crisis",
    )
    assert hold_problems(with_end, TODAY) == {
        "expires_on": "Leave the end date blank: a mental health crisis Breathing Space lasts "
        "until 30 days after the crisis treatment ends. Record that date when you are told"
    }


def test_the_end_of_crisis_treatment_is_refused_with_the_reason():
    started = TODAY - timedelta(days=20)
    assert crisis_space_end_problems(started, None, None, TODAY) == {
        "treatment_ended_on": "Enter the date the crisis treatment ended"
    }
    assert crisis_space_end_problems(started, started - timedelta(days=1), None, TODAY) == {
        "treatment_ended_on": "The treatment cannot end before the Breathing Space started"
    }
    assert crisis_space_end_problems(started, TODAY + timedelta(days=1), None, TODAY) == {
        "treatment_ended_on": "The date the treatment ended must be today or earlier"
    }
    assert crisis_space_end_problems(started, TODAY, TODAY + timedelta(days=31), TODAY) == {
        "space_ends_on": "A mental health crisis Breathing Space ends 30 days after the "
        "treatment ends, on 30/12/2026: check the dates on the notice"
    }


def test_crisis_treatment_may_end_the_day_the_space_started_or_today():
    started = TODAY - timedelta(days=20)
    assert crisis_space_end_problems(started, started, started + timedelta(days=30), TODAY) == {}
    assert crisis_space_end_problems(started, TODAY, TODAY + timedelta(days=30), TODAY) == {}


def test_a_personal_representative_is_told_what_is_missing_and_what_an_email_looks_like():
    assert representative_problems(Representative(address="1 High St")) == {
        "representative_name": "Enter the personal representative's name",
        "representative_capacity": "Enter the capacity they act in, for example executor",
    }
    email_problem = {
        "representative_email": "Enter an email address in the correct format, "
        "like name@example.com"
    }
    rep = Representative(name="Ann Archer", capacity="executor")
    for bad in ("@example.com", "ann archer@example.com", "ann.example.com"):
        assert representative_problems(Representative(rep.name, rep.capacity, email=bad)) == (
            email_problem
        )
    assert representative_problems(Representative(rep.name, rep.capacity, email="ann@ex.com")) == {}
