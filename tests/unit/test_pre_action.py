"""Before court and enforcement: the Letter of Claim's 30 days and its reply, the County
Court judgment an enforcement agent needs, statute-barred debts refused, and the
referral pack's contact history without health or vulnerability notes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shared.domain import pre_action
from shared.domain import referrals as rules

TODAY = date(2026, 6, 17)


def letter(posted_days_ago: int | None = 40, *, written_days_ago=None, **kw):
    posted = TODAY - timedelta(days=posted_days_ago) if posted_days_ago is not None else None
    written = TODAY - timedelta(days=written_days_ago or (posted_days_ago or 0) + 1)
    return pre_action.ClaimLetter(
        id=kw.pop("id", 1),
        written_on=written,
        posted_on=posted,
        respond_by=pre_action.respond_by(posted) if posted else None,
        **kw,
    )


def debt(number="INV1", *, due_days_ago=90, **kw):
    return rules.Debt(
        invoice_id=kw.pop("invoice_id", 1),
        number=number,
        due_date=TODAY - timedelta(days=due_days_ago),
        outstanding_pence=10_000,
        recovery_stage="pre_action",
        **kw,
    )


def person(*letters):
    return rules.Debtor(
        deceased=False, in_breathing_space=False, is_person=True, claim_letters=letters
    )


def test_the_reply_is_due_30_days_after_posting():
    assert pre_action.respond_by(date(2026, 5, 1)) == date(2026, 5, 31)


def test_a_persons_debt_with_no_letter_of_claim_posted_is_refused_for_legal_once():
    problems = rules.referral_problems(
        [debt(), debt("INV2", invoice_id=2)], person(letter(None)), TODAY, rules.LEGAL
    )

    assert problems == [
        "No Letter of Claim has been posted to the debtor: an individual's debts can only be "
        "referred to legal 30 days after one is posted (Pre-Action Protocol for Debt Claims)."
    ]


def test_a_persons_debt_may_go_to_legal_the_day_after_the_reply_date():
    on_last_day = letter(30)  # posted 30 days ago: today is the last day to reply
    passed = letter(31)

    assert rules.referral_problems([debt()], person(on_last_day), TODAY, rules.LEGAL) == [
        f"Invoice INV1: the debtor has until {TODAY:%-d %B %Y} to reply to the Letter of Claim "
        f"posted on {TODAY - timedelta(days=30):%-d %B %Y}, so it can be referred to legal from "
        f"{TODAY + timedelta(days=1):%-d %B %Y}."
    ]
    assert rules.referral_problems([debt()], person(passed), TODAY, rules.LEGAL) == []


def test_a_reply_waiting_for_an_officer_refuses_legal_and_dealing_with_it_allows_it():
    waiting = letter(40, reply_received_on=TODAY - timedelta(days=5))
    dealt = letter(40, reply_received_on=TODAY - timedelta(days=5), reply_resolved_on=TODAY)

    [problem] = rules.referral_problems([debt()], person(waiting), TODAY, rules.LEGAL)
    assert problem.startswith(
        f"The debtor replied to the Letter of Claim on {TODAY - timedelta(days=5):%-d %B %Y}"
    )
    # Dealing with the reply does not start the 30 days again.
    assert rules.referral_problems([debt()], person(dealt), TODAY, rules.LEGAL) == []


def test_a_debt_that_fell_due_after_the_letter_needs_a_letter_of_its_own():
    [problem] = rules.referral_problems(
        [debt(due_days_ago=20)], person(letter(40)), TODAY, rules.LEGAL
    )

    assert problem.startswith("Invoice INV1 fell due after the last Letter of Claim was written")


def test_an_organisation_needs_no_letter_of_claim_for_legal():
    organisation = rules.Debtor(deceased=False, in_breathing_space=False, is_person=False)

    assert rules.referral_problems([debt()], organisation, TODAY, rules.LEGAL) == []


def test_an_enforcement_agent_needs_a_judgment_for_every_debt():
    debtor = person(letter(40))
    covered = debt(covered_by_judgment=True)
    bare = debt("INV2", invoice_id=2)

    assert rules.referral_problems([covered], debtor, TODAY, rules.ENFORCEMENT_AGENT) == []
    assert rules.referral_problems([covered, bare], debtor, TODAY, rules.ENFORCEMENT_AGENT) == [
        "Invoice INV2 has no County Court judgment recorded: an enforcement agent can only act "
        "on a judgment, so record it on the Legal page first."
    ]


@pytest.mark.parametrize("destination", [rules.LEGAL, rules.ENFORCEMENT_AGENT, None])
def test_a_statute_barred_debt_is_refused_whoever_it_would_go_to(destination):
    barred = debt(statute_barred_since=date(2025, 3, 16), covered_by_judgment=True)

    problems = rules.referral_problems([barred], person(letter(40)), TODAY, destination)

    assert problems == [
        "Invoice INV1 is statute-barred since 16 March 2025: it cannot be pursued through the "
        "courts."
    ]
    assert rules.why_not_referable(barred, person(), TODAY) == problems[0]


@pytest.mark.parametrize(
    ("typed", "normalised", "ok"),
    [
        ("k12ab345", "K12AB345", True),
        ("M1QZ 123A", "M1QZ123A", True),
        ("A1B2", "A1B2", True),
        ("ABCDEFGH", "ABCDEFGH", False),  # no digit
        ("K12", "K12", False),  # too short
        ("K12AB345678", "K12AB345678", False),  # too long
        ("K12-AB345", "K12-AB345", False),
    ],
)
def test_claim_numbers_are_uppercased_and_checked(typed, normalised, ok):
    terms = pre_action.JudgmentTerms("County Court Money Claims Centre", typed, TODAY, 100)

    assert pre_action.normalise_claim_number(typed) == normalised
    assert ("claim_number" not in pre_action.judgment_problems(terms, TODAY)) is ok


def test_a_judgment_needs_a_court_a_past_date_and_an_amount_over_nothing():
    terms = pre_action.JudgmentTerms("", "K12AB345", TODAY + timedelta(days=1), 0)

    assert pre_action.judgment_problems(terms, TODAY) == {
        "court": "Enter the court that gave the judgment",
        "judgment_date": "The date of the judgment must be today or earlier",
        "amount": "The amount of the judgment must be more than £0",
    }


def test_a_reply_needs_a_posted_letter_and_a_date_between_posting_and_today():
    posted = letter(10)

    assert "received_on" in pre_action.reply_problems(letter(None), TODAY, "x", TODAY)
    assert pre_action.reply_problems(posted, TODAY - timedelta(days=11), "x", TODAY) == {
        "received_on": "The reply cannot arrive before the letter was posted on "
        f"{TODAY - timedelta(days=10):%-d %B %Y}"
    }
    assert pre_action.reply_problems(posted, TODAY, "", TODAY) == {
        "note": "Enter what the debtor said in their reply"
    }
    assert pre_action.reply_problems(posted, TODAY, "Disputes it", TODAY) == {}


@pytest.mark.parametrize(
    "summary",
    [
        "Vulnerability review hold placed on all debts until 01/09/2026",
        "Vulnerability review hold on invoice INV1 lifted",
        "Vulnerability recorded: bereavement, struggling with mental health",
    ],
)
def test_the_pack_leaves_out_vulnerability_notes(summary):
    assert rules.pack_history_entry(summary, "Diagnosed with depression") is None


def test_the_pack_keeps_a_breathing_space_without_its_type_or_reason():
    placed = rules.pack_history_entry(
        "Breathing Space hold placed on all debts until lifted", "Mental health crisis: sectioned"
    )
    ended = rules.pack_history_entry(
        "Breathing Space (mental health crisis) ends 01/09/2026: crisis treatment ended 02/08/2026",
        None,
    )
    notified = rules.pack_history_entry(
        "Breathing Space (standard) notified, reference BS123: recovery action paused", None
    )

    assert placed == ("Breathing Space hold placed on all debts until lifted", None)
    assert ended == ("Breathing Space ends 01/09/2026", None)
    assert notified == ("Breathing Space notified, reference BS123: recovery action paused", None)


def test_the_pack_keeps_other_entries_as_they_are():
    assert rules.pack_history_entry("Rang: no answer", "Left a message") == (
        "Rang: no answer",
        "Left a message",
    )
