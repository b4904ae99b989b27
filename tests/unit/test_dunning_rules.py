"""The recovery ladder's run rules, without a database: which stage is next and when,
the one reason a due debt is skipped, which message a debtor gets, what a run counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from shared.domain import dunning as rules

LADDER = [
    rules.StageRule("reminder", 14, ("letter", "email", "sms"), "dunning.reminder"),
    rules.StageRule("final_demand", 28, ("letter", "email"), "dunning.final_demand"),
    rules.StageRule("pre_action", 42, ("letter",), "dunning.pre_action"),
    rules.StageRule("referred_legal", None),
    rules.StageRule("referred_enforcement", None),
]
ON = date(2026, 6, 17)

CLEAR = rules.Facts(
    account_deceased=False,
    account_in_breathing_space=False,
    hold_rank=None,
    in_plan=False,
    collected_by_direct_debit=False,
    claim_reply_awaiting=False,
    statute_barred=False,
    department_outstanding_pence=50_000,
    minimum_balance_pence=1_000,
    already_at_stage=False,
)


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ("none", "reminder"),
        ("reminder", "final_demand"),
        ("final_demand", "pre_action"),
        ("pre_action", None),  # legal is an officer's decision
        ("referred_legal", None),
    ],
)
def test_the_next_automatic_stage_is_the_first_a_run_may_take_after_the_current(current, expected):
    found = rules.next_automatic_stage(LADDER, current)
    assert (found.stage if found else None) == expected


def test_a_ladder_without_a_reminder_starts_at_its_first_automatic_stage():
    ladder = [r for r in LADDER if r.stage != "reminder"]
    assert rules.next_automatic_stage(ladder, "none").stage == "final_demand"
    # A debt an officer put at reminder goes on to the final demand.
    assert rules.next_automatic_stage(ladder, "reminder").stage == "final_demand"


def test_steps_are_due_by_the_stage_days_and_keep_the_gap_since_the_last_move():
    steps = {s.from_stage: s for s in rules.steps_for(LADDER, ON)}
    assert set(steps) == {"none", "reminder", "final_demand"}
    assert steps["none"] == rules.Step("none", "reminder", date(2026, 6, 3), None)
    # Final demand: 28 days after due AND 14 days (28 - 14) after the reminder went.
    assert steps["reminder"].due_by == date(2026, 5, 20)
    assert steps["reminder"].moved_by == date(2026, 6, 3)
    assert steps["final_demand"].moved_by == date(2026, 6, 3)


SKIPS = [
    ("deceased", {"account_deceased": True, "account_in_breathing_space": True, "hold_rank": 3}),
    ("deceased", {"hold_rank": rules.HOLD_RANKS["deceased"]}),
    ("breathing_space", {"account_in_breathing_space": True, "hold_rank": 3, "in_plan": True}),
    ("breathing_space", {"hold_rank": rules.HOLD_RANKS["breathing_space"]}),
    ("hold_dispute", {"hold_rank": 3, "in_plan": True}),
    ("hold_query", {"hold_rank": 4}),
    ("hold_promise_to_pay", {"hold_rank": 5}),
    ("hold_vulnerability_review", {"hold_rank": 6, "statute_barred": True}),
    ("payment_plan", {"in_plan": True, "collected_by_direct_debit": True}),
    ("direct_debit", {"collected_by_direct_debit": True, "claim_reply_awaiting": True}),
    ("claim_reply", {"claim_reply_awaiting": True, "statute_barred": True}),
    ("statute_barred", {"statute_barred": True, "department_outstanding_pence": 5}),
    ("below_minimum", {"department_outstanding_pence": 999, "already_at_stage": True}),
    ("already_at_stage", {"already_at_stage": True}),
]


@pytest.mark.parametrize(("reason", "facts"), SKIPS)
def test_a_due_debt_has_one_skip_reason_the_first_that_applies(reason, facts):
    assert rules.skip_reason(replace(CLEAR, **facts)) == reason


def test_a_debt_with_nothing_against_it_moves():
    assert rules.skip_reason(CLEAR) is None
    assert rules.skip_reason(replace(CLEAR, department_outstanding_pence=1_000)) is None


def test_every_skip_reason_has_words():
    assert all(words for _, words in rules.SKIP_REASONS)
    assert len(rules.SKIP_ORDER) == len(set(rules.SKIP_ORDER))


def test_the_contact_rules_refusals_become_skip_reasons():
    assert rules.refusal_reason("weekly contact limit reached") == "contact_cap"
    assert rules.refusal_reason("no way to reach the debtor by the channels allowed") == (
        "no_channel"
    )
    assert rules.refusal_reason(None, duplicate=True) == "contacted_today"
    assert rules.refusal_reason("something new") == "contact_refused"


def _move(invoice_id, department_id, to_stage, pence):
    return rules.Move(invoice_id, 1, department_id, f"INV{invoice_id}", ON, "none", to_stage, pence)


STAGES = {1: {r.stage: r for r in LADDER}, 2: {r.stage: r for r in LADDER}}


def test_the_highest_stage_reached_decides_the_debtors_one_message():
    moves = [_move(1, 1, "reminder", 90_000), _move(2, 1, "final_demand", 100)]
    plan = rules.message_for(moves, STAGES, is_person=False)
    assert (plan.stage, plan.template_key, plan.channels) == (
        "final_demand",
        "dunning.final_demand",
        ("letter", "email"),
    )


def test_a_person_reaching_pre_action_gets_the_letter_of_claim_an_organisation_does_not():
    moves = [_move(1, 1, "pre_action", 5_000)]
    person = rules.message_for(moves, STAGES, is_person=True)
    assert (person.template_key, person.channels, person.letter_of_claim) == (
        "letter_of_claim",
        ("letter",),
        True,
    )
    organisation = rules.message_for(moves, STAGES, is_person=False)
    assert (organisation.template_key, organisation.letter_of_claim) == (
        "dunning.pre_action",
        False,
    )


def test_between_departments_at_the_same_stage_the_larger_debt_decides():
    moves = [_move(1, 1, "reminder", 500), _move(2, 2, "reminder", 700)]
    assert rules.message_for(moves, STAGES, is_person=True).department_id == 2


def test_a_stage_that_sends_nothing_gives_no_template():
    silent = {1: {"reminder": rules.StageRule("reminder", 14, (), None)}}
    plan = rules.message_for([_move(1, 1, "reminder", 500)], silent, is_person=True)
    assert plan.template_key is None


def test_the_timeline_never_says_a_letter_was_sent():
    letter = rules.timeline_summary(
        "reminder", "letter", ["INV1", "INV2"], "£12.00", letter_of_claim=False
    )
    assert letter == "Reminder letter queued for the print batch: INV1, INV2 (£12.00)"
    email = rules.timeline_summary(
        "final_demand", "email", ["INV1"], "£5.00", letter_of_claim=False
    )
    assert email == "Final demand email queued to send: INV1 (£5.00)"
    claim = rules.timeline_summary("pre_action", "letter", ["INV1"], "£5.00", letter_of_claim=True)
    assert claim.startswith("Letter of Claim queued for the print batch")
    many = rules.timeline_summary(
        "reminder", "sms", [f"INV{i}" for i in range(10)], "£1.00", letter_of_claim=False
    )
    assert "and 2 more" in many and "text" in many


def test_a_tally_survives_its_json_round_trip_and_totals_by_reason():
    tally = rules.Tally()
    tally.move(1, "reminder", 1_000)
    tally.move(1, "reminder", 2_500)
    tally.skip(1, "reminder", "below_minimum", 300)
    tally.skip(2, "final_demand", "deceased", 700)
    tally.skip(2, "final_demand", "below_minimum", 100)
    tally.message("email")
    back = rules.Tally.from_dict(tally.as_dict())
    assert back.as_dict() == tally.as_dict()
    assert (back.moves, back.value_pence) == (2, 3_500)
    assert back.skipped() == {"deceased": 1, "below_minimum": 2}  # priority order
    assert back.messages == {"email": 1}
