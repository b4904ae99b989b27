"""The pure rules behind separation of duties: running totals over a period, refunds
that always need a second person, approvers who did not create the credit, and
hand-recorded payments that another person must verify."""

from __future__ import annotations

from datetime import date

import pytest

from shared.domain.approvals import (
    CREDIT_NOTE_KIND,
    REFUND_KIND,
    WRITE_OFF_KIND,
    decider_refusal,
    may_decide,
    period_start,
    posts_at_once,
)
from shared.domain.manual_payments import needs_verification, verifier_refusal


@pytest.mark.parametrize(
    ("today", "months", "start"),
    [
        (date(2026, 6, 30), 12, date(2025, 6, 30)),
        (date(2026, 3, 15), 1, date(2026, 2, 15)),
        # No 31 February: the month's last day.
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2024, 2, 29), 12, date(2023, 2, 28)),
        (date(2026, 1, 10), 14, date(2024, 11, 10)),
    ],
)
def test_the_period_starts_the_same_day_the_given_months_back(today, months, start):
    assert period_start(today, months) == start


def test_a_period_is_at_least_a_month():
    with pytest.raises(ValueError):
        period_start(date(2026, 1, 1), 0)


@pytest.mark.parametrize("kind", [WRITE_OFF_KIND, CREDIT_NOTE_KIND])
@pytest.mark.parametrize(
    ("already", "amount", "limit", "at_once"),
    [
        (0, 10_000, 10_000, True),
        (0, 10_001, 10_000, False),
        # The fifth £100 write-off on an account with a £100 limit is not £100 alone.
        (40_000, 10_000, 10_000, False),
        (9_999, 1, 10_000, True),
        (10_000, 1, 10_000, False),
        (0, 1, 0, False),
    ],
)
def test_a_write_off_or_credit_note_posts_at_once_only_while_the_running_total_fits(
    kind, already, amount, limit, at_once
):
    assert posts_at_once(kind, already, amount, limit) is at_once


@pytest.mark.parametrize("limit", [0, 1, 10_000, 10**12])
def test_a_refund_never_posts_at_once_whatever_the_limit(limit):
    assert not posts_at_once(REFUND_KIND, 0, 1, limit)


def test_nobody_who_created_the_credit_may_approve_its_refund():
    assert may_decide("team_leader", 3, 1, credit_creator_ids={2})
    assert not may_decide("team_leader", 2, 1, credit_creator_ids={2})
    assert "credit you created" in decider_refusal("team_leader", 2, 1, "approve", {2, 5})


def test_the_requester_is_refused_before_anything_else():
    assert decider_refusal("team_leader", 1, 1, "approve", {1}) == (
        "You cannot approve your own request: another team leader must"
    )


@pytest.mark.parametrize(
    ("method", "held"),
    [
        ("bank_transfer", True),
        ("cash", True),
        ("cheque", True),
        ("telephone_card", True),
        ("card", False),
        ("direct_debit", False),
    ],
)
def test_hand_recorded_methods_that_leave_credit_are_held_for_verification(method, held):
    assert needs_verification(method, 5_000, 4_000) is held


def test_a_hand_recorded_payment_that_is_all_allocated_is_not_held():
    assert not needs_verification("bank_transfer", 5_000, 5_000)


def test_only_someone_other_than_the_recorder_may_verify():
    assert verifier_refusal(2, 1) is None
    assert verifier_refusal(1, 1) == "You recorded this payment, so another officer must verify it"
    assert verifier_refusal(None, 1) == "Only a member of staff can verify a payment"


def test_a_refusal_to_pay_out_your_own_credit_says_who_must_decide_instead():
    assert decider_refusal("team_leader", 2, 1, credit_creator_ids={2}) == (
        "You cannot approve a refund of credit you created (you recorded the payment "
        "or asked for or approved the credit note): another team leader must"
    )


def test_a_limit_period_of_no_months_is_refused_saying_why():
    with pytest.raises(ValueError, match="^a limit period is at least one month$"):
        period_start(date(2026, 8, 31), 0)
